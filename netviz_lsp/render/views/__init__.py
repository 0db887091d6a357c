"""Every view of a model graph, behind one call: ``render_view(graph, view, fmt, options)``.

=========  ==========================================  =====================
view       what it draws                               formats
=========  ==========================================  =====================
graph      NetViz's diagram (``render.render``)         svg png pdf dot
keras      nodes as ``keras.utils.plot_model`` draws   svg png pdf dot
layered    3-D boxes sized by shape (visualkeras)       svg png pdf
neuron     units as circles, maps as stacks (ANN Viz)   svg png pdf
summary    ``model.summary()`` table with MACs          md html
=========  ==========================================  =====================

Like the rest of ``render``, no view imports TensorFlow: each works from the graph
contract alone. Repeated blocks are collapsed first (``ViewOptions.collapse_repeats``;
by default in the layered and neuron views only, so the graph and keras views keep a
node per layer id); the summary always lists every layer.
"""

from __future__ import annotations

from typing import Optional

from netviz_lsp.graph import ModelGraph
from netviz_lsp.render.layout import RenderError
from netviz_lsp.render.views.options import ViewOptions
from netviz_lsp.render.views.repeats import collapse_repeats
from netviz_lsp.settings import RenderOptions

VIEWS = ("graph", "keras", "layered", "neuron", "summary")
VIEW_FORMATS = {
    "graph": ("svg", "png", "pdf", "dot"),
    "keras": ("svg", "png", "pdf", "dot"),
    "layered": ("svg", "png", "pdf"),
    "neuron": ("svg", "png", "pdf"),
    "summary": ("md", "html"),
}
COLLAPSED_BY_DEFAULT = ("layered", "neuron")


def render_view(graph: ModelGraph, view: str, fmt: str, options: Optional[RenderOptions] = None,
                view_options: Optional[ViewOptions] = None, timeout: float = 30.0) -> bytes:
    """``graph`` drawn as ``view`` in ``fmt`` (see ``VIEW_FORMATS``).

    Raises ``ValueError`` for an unknown view or a format the view does not make, and
    ``RenderError`` when Graphviz or the SVG converter fails.
    """
    options = options or RenderOptions()
    view_options = view_options or ViewOptions()
    if view not in VIEW_FORMATS:
        raise ValueError(f"unknown view {view!r}; expected one of {', '.join(VIEWS)}")
    if fmt not in VIEW_FORMATS[view]:
        raise ValueError(f"the {view} view makes {', '.join(VIEW_FORMATS[view])}, not {fmt!r}")
    if view == "summary":
        from netviz_lsp.render.views.summary import render_summary

        return render_summary(graph, fmt, options)
    collapse = view_options.collapse_repeats
    if collapse if collapse is not None else view in COLLAPSED_BY_DEFAULT:
        graph, _ = collapse_repeats(graph)
    if view == "graph":
        from netviz_lsp.render.layout import render

        return render(graph, fmt, options, timeout)
    if view == "keras":
        from netviz_lsp.render.views.keras_style import render_keras

        return render_keras(graph, fmt, options, timeout)
    if view == "layered":
        from netviz_lsp.render.views.layered import layered_svg as draw
    else:
        from netviz_lsp.render.views.neuron import neuron_svg as draw
    svg = draw(graph, options, view_options, timeout)
    if fmt == "svg":
        return svg
    from netviz_lsp.render.views.convert import convert_svg

    return convert_svg(svg, fmt, dpi=options.dpi, timeout=timeout)


__all__ = ["VIEWS", "VIEW_FORMATS", "RenderError", "ViewOptions", "render_view"]
