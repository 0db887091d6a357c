"""Graph -> DOT source, one function per concern as in Keras' ``model_visualization.py``.

``make_layer_label`` says what a node shows, ``make_node`` adds it with its id, class
and tooltip, ``add_edge`` joins two nodes, ``make_cluster`` draws an expanded nested
model, ``add_failure_note`` puts an error's message beside the layer whose call raised
(an error's partial graph), and ``model_to_dot`` assembles the graph. The same graph
and options always give byte-identical DOT.

Every node's DOT name and ``id`` attribute is its layer id, so the SVG has
``<g id="<layer id>" class="node layer layer-<category>">``: exact after XML parsing
for any id XML can hold (see ``escape.py`` for how). All user text is escaped there.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Optional

import graphviz

from netviz_lsp.graph import Group, Layer, ModelGraph, format_shape
from netviz_lsp.render import style
from netviz_lsp.render.escape import (
    dot_quote,
    esc_string,
    html_text,
    shorten,
    tooltip_text,
)
from netviz_lsp.render.nesting import DrawPlan, GroupBox, plan_drawing
from netviz_lsp.settings import RANKDIRS, RenderOptions

FACT_SEPARATOR = " \u00b7 "
"""Between facts on one line of a label: a middle dot."""
FAILED_TEXT = "this call raised"
"""Where a failed layer's output shape would be."""
PARTIAL_TITLE = "drawn up to the error"
"""Ends the title of an error's partial graph."""


def layer_category(layer: Layer) -> str:
    """The theming category of ``layer`` (``style.CATEGORIES``)."""
    return style.layer_category(layer.class_name, layer.is_model)


def layer_classes(layer: Layer) -> str:
    """The node's SVG classes besides ``node``: ``layer layer-<category>``, plus ``layer-failed``
    for the layer whose call raised (an error's partial graph)."""
    classes = f"layer layer-{layer_category(layer)}"
    return f"{classes} layer-failed" if layer.failed else classes


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
    colors = style.FAILED if layer.failed else style.CHANGES.get(change_of(layer, options)) or \
        style.colors(layer_category(layer))
    lines = [_header(layer, options, colors.accent)]
    if layer.failed:  # it has no output: say so where the shape would be
        lines.append(_font(_bold(FAILED_TEXT), color=colors.accent))
    elif options.show_shapes:
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
    output = FAILED_TEXT if layer.failed else format_shape(layer.output_shape)
    lines = [f"{layer.name} ({layer.class_name})", f"output: {output}"]
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
        **{"class": layer_classes(layer) + (f" layer-{change_of(layer, options)}" if change_of(layer, options) else "")},
    )


def change_of(layer: Layer, options: RenderOptions) -> Optional[str]:
    """``added`` or ``changed`` when ``options.changed_layers`` marks ``layer`` (``netviz diff``), else None."""
    return next((change for layer_id, change in options.changed_layers if layer_id == layer.id), None)


def add_edge(
    dot: graphviz.Digraph, tail: str, head: str, ltail: Optional[str] = None, lhead: Optional[str] = None,
    label: Optional[str] = None,
) -> None:
    """Join the nodes called ``tail`` and ``head`` (names from ``node_names``).

    ``ltail``/``lhead`` name clusters the edge is clipped at, so an edge re-routed into a
    nested model stops at its border instead of running over the cluster's title.
    """
    # Written by hand: Digraph.edge() reads "a:b" as node a, port b, and layer ids may hold colons.
    tail, head = dot_quote(tail), dot_quote(head)
    clips = [f"{name}={cluster}" for name, cluster in (("ltail", ltail), ("lhead", lhead)) if cluster]
    if label is not None:  # the tensor's shape (RenderOptions.edge_shapes): small, monospaced
        clips.append(f'label={dot_quote(" " + label)} fontname="{style.MONO_FONT}" '
                     f'fontsize={style.SMALL_FONT_SIZE} fontcolor="{style.MUTED}"')
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
    groups: dict[str, Group] = field(default_factory=dict)
    """Collapsed group id (its synthetic layer's id) -> the group (groupdraw.py)."""
    nodes: list[Layer] = field(default_factory=list)
    """The layers drawn as nodes, in drawing order, filled while drawing."""


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


def _draw_layers(dot: graphviz.Digraph, layers: list, drawing: _Drawing) -> None:
    from netviz_lsp.render.groupdraw import make_group_box, make_group_node  # it imports this module's deps

    for layer in layers:
        if isinstance(layer, GroupBox):  # an expanded group (groupdraw.py)
            name = drawing.clusters[layer.group.id] = f"cluster_{len(drawing.clusters)}"
            make_group_box(dot, layer, name, lambda sub, items: _draw_layers(sub, items, drawing))
        elif layer.id in drawing.groups:  # a collapsed group's node
            make_group_node(dot, layer, drawing.groups[layer.id], drawing.options, drawing.names[layer.id])
        elif drawing.plan.is_cluster(layer.id):
            make_cluster(dot, layer, drawing)
        else:
            inner = drawing.plan.inner_counts.get(layer.id, 0)
            make_node(dot, layer, drawing.options, drawing.names[layer.id], inner)
            drawing.nodes.append(layer)


def wrap_message(message: str) -> list[str]:
    """An error message as the note's lines: wrapped, blank lines dropped, cut with an ellipsis."""
    lines = [part for paragraph in message.splitlines()
             for part in textwrap.wrap(paragraph.strip(), style.FAILURE_NOTE_CHARS, break_on_hyphens=False)]
    if len(lines) > style.FAILURE_NOTE_LINES:
        lines = lines[: style.FAILURE_NOTE_LINES]
        lines[-1] = shorten(lines[-1] + " \u2026", style.FAILURE_NOTE_CHARS)
    return lines


def failure_note_label(failed: Optional[Layer], message: str) -> str:
    """The note's HTML-like label: what failed (the layer, or the build), then the message."""
    colors = style.FAILED
    what = f"{shorten(failed.name, style.MAX_NAME_CHARS)} failed" if failed else "The build failed here"
    lines = [_font(_bold(html_text(what)), color=colors.accent)]
    lines += [_font(html_text(line), color=style.TEXT) for line in wrap_message(message)]
    rows = "".join(f'<TR><TD ALIGN="LEFT">{line}</TD></TR>' for line in lines)
    return (
        f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" STYLE="rounded" '
        f'BGCOLOR="{colors.fill}" COLOR="{colors.border}">'
        f'<TR><TD CELLPADDING="4"><TABLE BORDER="0" CELLSPACING="1" CELLPADDING="0">'
        f"{rows}</TABLE></TD></TR></TABLE>>"
    )


def add_failure_note(dot: graphviz.Digraph, message: str, drawing: _Drawing) -> None:
    """The error ``message`` in a note beside the failed layer (same rank, a dashed line to it),
    or under the last layer drawn when no layer failed (the build failed after its layers:
    ``compile()``). The note's SVG class is ``failure-note``, and it is no layer."""
    failed = next((layer for layer in drawing.nodes if layer.failed), None)
    anchor = failed or (drawing.nodes[-1] if drawing.nodes else None)
    taken, name, suffix = set(drawing.names.values()), NOTE_NAME, 1
    while name in taken:
        suffix += 1
        name = f"{NOTE_NAME}~{suffix}"
    dot.node(
        name,
        label=failure_note_label(failed, message),
        id=name,
        tooltip=graphviz.nohtml(tooltip_text(message)),
        **{"class": "failure-note"},
    )
    if anchor is None:
        return
    link = f'style=dashed arrowhead=none color="{style.FAILED.border}" class="failure-link"'
    dot.body.append(f"\t{dot_quote(drawing.names[anchor.id])} -> {dot_quote(name)} [{link}]\n")
    if failed is not None:
        dot.body.append(f"\t{{rank=same; {dot_quote(drawing.names[anchor.id])}; {dot_quote(name)}}}\n")


NOTE_NAME = "netviz_failure_note"
"""The failure note's DOT name and SVG id (suffixed when a layer already has it)."""


def graph_title(graph: ModelGraph, partial: bool = False) -> str:
    """``factory · ClassName · 63,021,004 params`` as an HTML-like label; an error's partial
    graph (``partial``) adds that it is drawn up to the error."""
    facts = FACT_SEPARATOR.join([graph.class_name, format_params(graph.total_params)]
                                + ([PARTIAL_TITLE] if partial else []))
    muted = _font(html_text(facts), color=style.MUTED)
    return f"<{_bold(html_text(graph.factory))}{FACT_SEPARATOR}{muted}>"


def _graph_attributes(graph: ModelGraph, options: RenderOptions, has_clusters: bool,
                      partial: bool = False) -> dict[str, str]:
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
        "label": graph_title(graph, partial),
        "labelloc": "t",
        "labeljust": "l",
    }
    if has_clusters:
        attributes["compound"] = "true"  # lets edges stop at cluster borders (ltail/lhead)
    return attributes


def model_to_dot(graph: ModelGraph, options: RenderOptions, failure: Optional[str] = None) -> str:
    """The DOT source of ``graph`` as ``options`` ask; deterministic, no Graphviz run.

    ``failure``: ``graph`` is an error's partial graph and this its message, drawn in a note
    beside the layer marked ``failed`` (which is drawn in the error style either way).
    Raises ``ValueError`` for a ``rankdir`` outside ``settings.RANKDIRS``.
    """
    if options.rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {options.rankdir!r}")
    from netviz_lsp.render.groupdraw import drawn_graph

    graph, expanded_groups = drawn_graph(graph, options)  # groups collapsed as options.expand_groups asks
    plan = plan_drawing(graph, options.expand_nested, expanded_groups, group_boxes=True)
    dot = graphviz.Digraph(
        name=graphviz.nohtml(esc_string(graph.factory)),
        graph_attr=_graph_attributes(graph, options, bool(plan.members), failure is not None),
        node_attr={
            "shape": "plain",
            "fontname": style.FONT,
            "fontsize": str(style.FONT_SIZE),
            "fontcolor": style.TEXT,
        },
        edge_attr={"color": style.EDGE, "arrowsize": "0.6", "penwidth": "1.1"},
    )
    layer_ids = {layer.id for layer in graph.layers}
    drawing = _Drawing(plan, options, node_names(graph.layers),
                       groups={g.id: g for g in graph.groups if g.id in layer_ids})
    _draw_layers(dot, plan.top, drawing)
    shapes = {layer.id: layer.output_shape for layer in graph.layers} if options.edge_shapes else {}
    for edge in plan.edges:
        ltail, lhead = drawing.clusters.get(edge.tail_cluster), drawing.clusters.get(edge.head_cluster)
        label = format_shape(shapes[edge.tail]) if edge.tail in shapes else None
        add_edge(dot, drawing.names[edge.tail], drawing.names[edge.head], ltail, lhead, label)
    if failure is not None:
        add_failure_note(dot, failure, drawing)
    return dot.source
