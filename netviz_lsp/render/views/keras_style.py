"""The ``keras`` view: nodes drawn as ``keras.utils.plot_model`` draws them, from the graph contract.

Each node is plot_model's table: a black header "**name** (Class)", an "Activation:"
row, then one row of cells "Input shape" | "Output shape" | "Output dtype" |
"Trainable", each per ``RenderOptions`` (``show_params`` has no plot_model
equivalent and is ignored here). Input shapes are the output shapes of the layers
whose edges enter the node; a Sequential's first layer takes the model's input.
Expanded nested models are dashed clusters labelled with the model's name, as
plot_model draws them.

What plot_model lacks is added without changing the look: node ids are layer ids
(``<g id="conv2d" class="node layer layer-conv">``), tooltips, and right-angle edges
that fall back to polylines when Debian's ``dot`` aborts on ``splines=ortho``.
"""

from __future__ import annotations

from typing import Optional

import graphviz

from netviz_lsp.graph import Layer, ModelGraph, format_shape
from netviz_lsp.render import style
from netviz_lsp.render.dot import add_edge, make_tooltip, node_names
from netviz_lsp.render.escape import esc_string, html_text, tooltip_text
from netviz_lsp.render.layout import RenderError, run_dot
from netviz_lsp.render.nesting import DrawPlan, plan_drawing
from netviz_lsp.render.views.facts import GraphFacts
from netviz_lsp.settings import RANKDIRS, RenderOptions

ORTHO_MAX_NODES = 120
"""Right-angle edges, as plot_model draws them, up to this many nodes; polylines above
(ortho is slow on big graphs, and dot 2.42/2.43 aborts on some of them)."""


def make_layer_label(layer: Layer, options: RenderOptions, input_shapes: Optional[list]) -> str:
    """plot_model's HTML table for ``layer``; ``input_shapes`` ``None`` omits the input cell."""
    cells = []
    if options.show_shapes:
        if layer.class_name != "InputLayer":
            cells.append(_cell("Input shape", _shapes_text(input_shapes)))
        cells.append(_cell("Output shape", html_text(format_shape(layer.output_shape))))
    if options.show_dtype:
        cells.append(_cell("Output dtype", html_text(layer.dtype or "?")))
    if options.show_trainable and layer.params > 0:
        color, text = ("forestgreen", "Trainable") if layer.trainable else ("firebrick", "Non-trainable")
        cells.append(f'<td bgcolor="{color}"><font point-size="14" color="white"><b>{text}</b></font></td>')
    colspan = max(1, len(cells))
    title = html_text(layer.class_name)
    if options.show_layer_names:
        title = f"<b>{html_text(layer.name)}</b> ({title})" if layer.name else f"({title})"
    else:
        title = f"<b>{title}</b>"
    rows = [f'<tr><td colspan="{colspan}" bgcolor="black"><font point-size="16" color="white">{title}</font></td></tr>']
    if options.show_layer_activations and layer.activation is not None:
        rows.append(f'<tr><td bgcolor="white" colspan="{colspan}"><font point-size="14">'
                    f"Activation: <b>{html_text(layer.activation)}</b></font></td></tr>")
    if cells:
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f'<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">{"".join(rows)}</table>>'


def _cell(caption: str, value: str) -> str:
    return f'<td bgcolor="white"><font point-size="14">{caption}: <b>{value}</b></font></td>'


def _shapes_text(shapes: Optional[list]) -> str:
    if not shapes:
        return "?"
    if len(shapes) == 1:
        return html_text(format_shape(shapes[0]))
    return html_text("[" + ", ".join(format_shape(s) for s in shapes) + "]")


def model_to_keras_dot(graph: ModelGraph, options: RenderOptions, splines: str = "ortho") -> str:
    """DOT source of ``graph`` in plot_model's style; deterministic, no Graphviz run."""
    if options.rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {options.rankdir!r}")
    plan = plan_drawing(graph, options.expand_nested)
    facts = GraphFacts(graph)
    attributes = {"rankdir": options.rankdir, "concentrate": "true", "splines": splines,
                  "bgcolor": "white", "pad": "0.2"}
    if plan.members:
        attributes["compound"] = "true"
    dot = graphviz.Digraph(
        name=graphviz.nohtml(esc_string(graph.factory)), graph_attr=attributes,
        node_attr={"shape": "plain", "fontname": "Helvetica"},
        edge_attr={"penwidth": "2"},
    )
    names = node_names(graph.layers)
    clusters: dict[str, str] = {}
    _draw(dot, plan.top, plan, options, facts, names, clusters)
    for edge in plan.edges:
        add_edge(dot, names[edge.tail], names[edge.head],
                 clusters.get(edge.tail_cluster), clusters.get(edge.head_cluster))
    return dot.source


def _draw(dot, layers: list[Layer], plan: DrawPlan, options, facts: GraphFacts, names, clusters) -> None:
    for layer in layers:
        name = graphviz.nohtml(names[layer.id])
        if plan.is_cluster(layer.id):
            cluster_name = clusters[layer.id] = f"cluster_{len(clusters)}"
            with dot.subgraph(name=cluster_name) as cluster:
                cluster.attr(label=graphviz.nohtml(esc_string(layer.name)), style="dashed", labeljust="l",
                             fontname="Helvetica", id=name, **{"class": "layer layer-model"})
                _draw(cluster, plan.members[layer.id], plan, options, facts, names, clusters)
            continue
        category = style.layer_category(layer.class_name, layer.is_model)
        dot.node(name, label=make_layer_label(layer, options, facts.input_shapes(layer)), id=name,
                 tooltip=graphviz.nohtml(tooltip_text(make_tooltip(layer))),
                 **{"class": f"layer layer-{category}"})


def render_keras(graph: ModelGraph, fmt: str, options: RenderOptions, timeout: float = 30.0) -> bytes:
    """``graph`` in plot_model's style as svg, png, pdf or dot. Raises ``RenderError``."""
    splines = "ortho" if len(graph.layers) <= ORTHO_MAX_NODES else "polyline"
    source = model_to_keras_dot(graph, options, splines)
    if fmt == "dot":
        return source.encode("utf-8")
    dpi = options.dpi if fmt == "png" else None
    try:
        return run_dot(source, fmt, timeout=timeout, dpi=dpi)
    except RenderError as error:
        if splines != "ortho" or "crashed" not in str(error):
            raise
        return run_dot(model_to_keras_dot(graph, options, "polyline"), fmt, timeout=timeout, dpi=dpi)
