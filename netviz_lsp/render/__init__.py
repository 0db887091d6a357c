"""Graph -> DOT -> SVG, PNG or PDF. No TensorFlow or Keras here: only the graph contract and Graphviz.

``model_to_dot`` builds the DOT source, ``run_dot`` runs Graphviz's ``dot`` on it, and
``render`` does both; every Graphviz failure surfaces as ``RenderError``.
"""

from netviz_lsp.render.dot import model_to_dot
from netviz_lsp.render.layout import FORMATS, RenderError, render, run_dot

__all__ = ["FORMATS", "RenderError", "model_to_dot", "render", "run_dot"]
