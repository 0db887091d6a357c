"""Graph -> DOT source, one function per concern as in Keras' ``model_visualization.py``.

``make_layer_label`` says what a node shows, ``make_node`` adds it with its id, class
and tooltip, ``add_edge`` joins two nodes, ``make_cluster`` draws an expanded nested
model, and ``model_to_dot`` assembles the graph. The same graph and options always
give byte-identical DOT.

Every node's DOT name and ``id`` attribute is its layer id, so the SVG has
``<g id="<layer id>" class="node layer layer-<category>">``: exact after XML parsing
for any id XML can hold (see ``escape.py`` for how). All user text is escaped there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import graphviz

from netviz_lsp.graph import Layer, ModelGraph, format_shape
from netviz_lsp.render import style
from netviz_lsp.render.escape import (
    dot_quote,
    esc_string,
    html_text,
    shorten,
    tooltip_text,
)
from netviz_lsp.render.nesting import DrawPlan, plan_drawing
from netviz_lsp.settings import RANKDIRS, RenderOptions

FACT_SEPARATOR = " \u00b7 "
"""Between facts on one line of a label: a middle dot."""


def layer_category(layer: Layer) -> str:
    """The theming category of ``layer`` (``style.CATEGORIES``)."""
    return style.layer_category(layer.class_name, layer.is_model)


def format_params(count: int) -> str:
    """``640`` -> ``"640 params"``, with thousands separators."""
    return f"{count:,} param" if count == 1 else f"{count:,} params"


# Graphviz rejects empty <B></B> and <FONT></FONT> ("syntax error ... in label"), and
# Keras accepts an empty layer name, so both helpers drop the tag around empty text.


def _font(
    text: str, size: Optional[int] = None, color: Optional[str] = None, face: Optional[str] = None
) -> str:
    """Already-escaped HTML ``text`` in a FONT tag with only the given attributes."""
    attrs = "".join(
        f' {name}="{value}"'
        for name, value in (("POINT-SIZE", size), ("COLOR", color), ("FACE", face))
        if value is not None
    )
    return f"<FONT{attrs}>{text}</FONT>" if attrs and text else text


def _bold(text: str) -> str:
    return f"<B>{text}</B>" if text else ""


def _header(layer: Layer, options: RenderOptions, accent: str) -> str:
    """Name in bold then class in the category's accent, or the class alone in bold."""
    class_text = html_text(shorten(layer.class_name, style.MAX_NAME_CHARS))
    name = html_text(shorten(layer.name, style.MAX_NAME_CHARS)) if options.show_layer_names else ""
    if not name:
        return _font(_bold(class_text), color=accent)
    # The gap goes inside the class's span so the SVG has no whitespace-only <text>.
    return _bold(name) + _font(f"  {class_text}" if class_text else "", color=accent)


def _details(layer: Layer, options: RenderOptions, inner_layers: int) -> list[str]:
    """The small facts under the shape: activation, params, dtype, trainable, size."""
    facts = []
    if options.show_layer_activations and layer.activation:
        facts.append(shorten(layer.activation, style.MAX_NAME_CHARS))
    if options.show_params and layer.params > 0:
        facts.append(format_params(layer.params))
    if inner_layers:
        facts.append(f"{inner_layers:,} layers")
    if options.show_dtype and layer.dtype is not None:
        facts.append(layer.dtype)
    if options.show_trainable:
        facts.append("trainable: yes" if layer.trainable else "trainable: no")
    return facts


def make_layer_label(layer: Layer, options: RenderOptions, inner_layers: int = 0) -> str:
    """The node's HTML-like label: header, output shape, then the small facts, per ``options``.

    The header is the layer name (bold) and class, or the class alone (bold) when
    ``show_layer_names`` is off. Zero-parameter layers show no parameter count.
    ``inner_layers`` > 0 marks a collapsed nested model and is shown as a count.
    """
    colors = style.colors(layer_category(layer))
    lines = [_header(layer, options, colors.accent)]
    if options.show_shapes:
        shape = html_text(format_shape(layer.output_shape))
        lines.append(_font(shape, face=style.MONO_FONT, color=style.TEXT))
    facts = _details(layer, options, inner_layers)
    if facts:
        small = html_text(FACT_SEPARATOR.join(facts))
        lines.append(_font(small, size=style.SMALL_FONT_SIZE, color=style.MUTED))
    rows = "".join(f'<TR><TD ALIGN="LEFT">{line}</TD></TR>' for line in lines if line)
    rows = rows or "<TR><TD> </TD></TR>"  # a table needs a row even when nothing is shown
    return (
        f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" STYLE="rounded" '
        f'BGCOLOR="{colors.fill}" COLOR="{colors.border}">'
        f'<TR><TD CELLPADDING="3"><TABLE BORDER="0" CELLSPACING="1" CELLPADDING="0">'
        f"{rows}</TABLE></TD></TR></TABLE>>"
    )


def make_tooltip(layer: Layer) -> str:
    """Everything known about the layer, one fact per line, for hovering an SVG node."""
    lines = [f"{layer.name} ({layer.class_name})", f"output: {format_shape(layer.output_shape)}"]
    lines.append(f"params: {layer.params:,} ({layer.trainable_params:,} trainable)")
    if layer.activation is not None:
        lines.append(f"activation: {layer.activation}")
    if layer.dtype is not None:
        lines.append(f"dtype: {layer.dtype}")
    lines.append("trainable: yes" if layer.trainable else "trainable: no")
    if layer.line is not None:
        lines.append(f"line {layer.line}")
    return "\n".join(lines)


def node_names(layers: list[Layer]) -> dict[str, str]:
    """Layer id -> its node's DOT name (an ``esc_string`` value), one distinct name per layer.

    Ids differing only in characters XML cannot hold would map to the same name and
    merge two layers into one node; later ones get a ``~2``, ``~3``... suffix instead.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for layer in layers:
        name, suffix = esc_string(layer.id), 1
        while name in taken:
            suffix += 1
            name = f"{esc_string(layer.id)}~{suffix}"
        names[layer.id] = name
        taken.add(name)
    return names


def make_node(
    dot: graphviz.Digraph, layer: Layer, options: RenderOptions, name: str, inner_layers: int = 0
) -> None:
    """Add ``layer`` as a node called ``name`` (from ``node_names``), which is also its ``id``."""
    node_id = graphviz.nohtml(name)  # nohtml: an id like <x> is not markup
    dot.node(
        node_id,
        label=make_layer_label(layer, options, inner_layers),
        id=node_id,
        tooltip=graphviz.nohtml(tooltip_text(make_tooltip(layer))),
        **{"class": f"layer layer-{layer_category(layer)}"},
    )


def add_edge(
    dot: graphviz.Digraph, tail: str, head: str, ltail: Optional[str] = None, lhead: Optional[str] = None
) -> None:
    """Join the nodes called ``tail`` and ``head`` (names from ``node_names``).

    ``ltail``/``lhead`` name clusters the edge is clipped at, so an edge re-routed into a
    nested model stops at its border instead of running over the cluster's title.
    """
    # Written by hand: Digraph.edge() reads "a:b" as node a, port b, and layer ids may hold colons.
    tail, head = dot_quote(tail), dot_quote(head)
    clips = [f"{name}={cluster}" for name, cluster in (("ltail", ltail), ("lhead", lhead)) if cluster]
    attributes = f" [{' '.join(clips)}]" if clips else ""
    dot.body.append(f"\t{tail} -> {head}{attributes}\n")


def _cluster_label(model: Layer) -> str:
    name = html_text(shorten(model.name, style.MAX_NAME_CHARS))
    facts = [html_text(shorten(model.class_name, style.MAX_NAME_CHARS))]
    if model.params > 0:
        facts.append(html_text(format_params(model.params)))
    muted = _font(FACT_SEPARATOR.join(facts), size=style.SMALL_FONT_SIZE, color=style.MUTED)
    return (
        f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD ALIGN="LEFT">{_bold(name)}</TD></TR>'
        f'<TR><TD ALIGN="LEFT">{muted}</TD></TR></TABLE>>'
    )


@dataclass
class _Drawing:
    """What drawing the layers needs besides the Digraph: the plan, options and names."""

    plan: DrawPlan
    options: RenderOptions
    names: dict[str, str]
    """Layer id -> DOT node name (``node_names``)."""
    clusters: dict[str, str] = field(default_factory=dict)
    """Expanded model id -> its ``cluster_<n>`` subgraph name, filled while drawing."""


def make_cluster(dot: graphviz.Digraph, model: Layer, drawing: _Drawing) -> None:
    """Draw an expanded nested model as ``subgraph cluster_<n>`` holding its members, recursively.

    ``n`` counts clusters in drawing order; the cluster's ``id`` is the model's layer id.
    """
    cluster_name = drawing.clusters[model.id] = f"cluster_{len(drawing.clusters)}"
    with dot.subgraph(name=cluster_name) as cluster:
        cluster.attr(
            label=_cluster_label(model),
            id=graphviz.nohtml(drawing.names[model.id]),
            tooltip=graphviz.nohtml(tooltip_text(make_tooltip(model))),
            style="rounded,filled",
            fillcolor=style.CLUSTER_FILL,
            color=style.CLUSTER_BORDER,
            labeljust="l",
            fontsize=str(style.CLUSTER_FONT_SIZE),
            margin="12",
            **{"class": "layer layer-model"},
        )
        _draw_layers(cluster, drawing.plan.members[model.id], drawing)


def _draw_layers(dot: graphviz.Digraph, layers: list[Layer], drawing: _Drawing) -> None:
    for layer in layers:
        if drawing.plan.is_cluster(layer.id):
            make_cluster(dot, layer, drawing)
        else:
            inner = drawing.plan.inner_counts.get(layer.id, 0)
            make_node(dot, layer, drawing.options, drawing.names[layer.id], inner)


def graph_title(graph: ModelGraph) -> str:
    """``factory · ClassName · 63,021,004 params`` as an HTML-like label."""
    facts = FACT_SEPARATOR.join([graph.class_name, format_params(graph.total_params)])
    muted = _font(html_text(facts), color=style.MUTED)
    return f"<{_bold(html_text(graph.factory))}{FACT_SEPARATOR}{muted}>"


def _graph_attributes(graph: ModelGraph, options: RenderOptions, has_clusters: bool) -> dict[str, str]:
    attributes = {
        "rankdir": options.rankdir,
        "splines": style.SPLINES,
        "nodesep": style.NODESEP,
        "ranksep": style.RANKSEP,
        "newrank": "true",  # lets clusters share ranks with their surroundings
        "outputorder": "edgesfirst",  # arrowheads never paint over node boxes
        "bgcolor": style.BACKGROUND,
        "pad": "0.25",
        "fontname": style.FONT,
        "fontsize": str(style.TITLE_FONT_SIZE),
        "fontcolor": style.TEXT,
        "label": graph_title(graph),
        "labelloc": "t",
        "labeljust": "l",
    }
    if has_clusters:
        attributes["compound"] = "true"  # lets edges stop at cluster borders (ltail/lhead)
    return attributes


def model_to_dot(graph: ModelGraph, options: RenderOptions) -> str:
    """The DOT source of ``graph`` as ``options`` ask; deterministic, no Graphviz run.

    Raises ``ValueError`` for a ``rankdir`` outside ``settings.RANKDIRS``.
    """
    if options.rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {options.rankdir!r}")
    plan = plan_drawing(graph, options.expand_nested)
    dot = graphviz.Digraph(
        name=graphviz.nohtml(esc_string(graph.factory)),
        graph_attr=_graph_attributes(graph, options, bool(plan.members)),
        node_attr={
            "shape": "plain",
            "fontname": style.FONT,
            "fontsize": str(style.FONT_SIZE),
            "fontcolor": style.TEXT,
        },
        edge_attr={"color": style.EDGE, "arrowsize": "0.6", "penwidth": "1.1"},
    )
    drawing = _Drawing(plan, options, node_names(graph.layers))
    _draw_layers(dot, plan.top, drawing)
    for edge in plan.edges:
        ltail, lhead = drawing.clusters.get(edge.tail_cluster), drawing.clusters.get(edge.head_cluster)
        add_edge(dot, drawing.names[edge.tail], drawing.names[edge.head], ltail, lhead)
    return dot.source
