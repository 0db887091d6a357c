"""Graph -> DOT -> SVG, PNG or PDF, and the other views. No TensorFlow or Keras here: only the graph contract, Graphviz and an SVG converter.

``model_to_dot`` builds the DOT source, ``run_dot`` runs Graphviz's ``dot`` on it, and
``render`` does both (``render(..., failure=message)`` draws an error's partial graph, the
failing layer in the error style and the message beside it); every Graphviz failure surfaces
as ``RenderError``.
``render_view(graph, view, fmt, options)`` draws any of ``VIEWS`` (``views/``).
"""

from netviz_lsp.render.dot import model_to_dot
from netviz_lsp.render.layout import FORMATS, RenderError, partial_options, render, run_dot
from netviz_lsp.render.views import VIEW_FORMATS, VIEWS, ViewOptions, render_view

__all__ = ["FORMATS", "RenderError", "VIEWS", "VIEW_FORMATS", "ViewOptions", "model_to_dot", "partial_options", "render",
           "render_view", "run_dot"]
