"""Drawing groups (``graph.groups``): a collapsed group as one node, an expanded one as a box.

``drawn_graph`` collapses a graph as ``RenderOptions.expand_groups`` asks (``collapse.py``);
``dot.model_to_dot`` then draws each collapsed group's synthetic layer with
``make_group_node`` and each expanded group's ``nesting.GroupBox`` with ``make_group_box``.

In the SVG a collapsed group is ``<g id="<group id>" class="node layer layer-group
group-collapsed group-<kind>">`` (a layer for the panel: hover, click, search) and an
expanded one ``<g id="<group id>" class="cluster group group-expanded group-<kind>">``
whose title starts with ``COLLAPSE_MARK`` (the panel's collapse control).
"""

from __future__ import annotations

from typing import Callable, Optional

import graphviz

from netviz_lsp.graph import Group, Layer, ModelGraph, format_shape
from netviz_lsp.render import style
from netviz_lsp.render.collapse import collapse, default_expanded, is_collapsed
from netviz_lsp.render.escape import esc_string, html_text, shorten, tooltip_text
from netviz_lsp.render.nesting import GroupBox
from netviz_lsp.settings import RenderOptions

GROUP_COLORS = style.Colors("#f1f3f6", "#4b5563", "#374151")
"""A collapsed group's node: a neutral fill, and a heavier, darker border than any layer's."""
COLLAPSE_MARK = "\u2212"
"""The first text of an expanded group's title: clicking it in the panel collapses the group."""
SEPARATOR = " \u00b7 "


def drawn_graph(graph: ModelGraph, options: RenderOptions) -> tuple[ModelGraph, Optional[set[str]]]:
    """``graph`` with its groups collapsed as ``options.expand_groups`` asks, and the groups expanded.

    ``expand_groups`` ``None`` is the default: every group expanded, none in a graph over
    ``COLLAPSE_OVER`` layers; nested models' groups as ``expand_nested`` says. A graph
    ``collapse`` made already is drawn as it is (its nested models as ``expand_nested`` says:
    pass ``expand_groups`` instead to decide them too).
    """
    if not graph.groups:
        return graph, None
    if options.expand_groups is not None:
        expanded = set(options.expand_groups)
    elif is_collapsed(graph):
        return graph, None
    else:
        expanded = {gid for gid in default_expanded(graph)}
        nested = {g.id for g in graph.groups if g.kind == "nested"}
        expanded = (expanded | nested) if options.expand_nested else (expanded - nested)
    return collapse(graph, expanded), expanded


def group_facts(group: Group) -> str:
    """``16 layers · 70,400 params``."""
    count = len(group.layers)
    facts = ["1 layer" if count == 1 else f"{count:,} layers"]
    if group.params > 0:
        facts.append(f"{group.params:,} params" if group.params != 1 else "1 param")
    return SEPARATOR.join(facts)


def _font(text: str, size: int | None = None, color: str | None = None, face: str | None = None) -> str:
    attrs = "".join(f' {name}="{value}"' for name, value in (("POINT-SIZE", size), ("COLOR", color), ("FACE", face))
                    if value is not None)
    return f"<FONT{attrs}>{text}</FONT>" if attrs and text else text


def _bold(text: str) -> str:
    return f"<B>{text}</B>" if text else ""


def group_node_label(node: Layer, group: Group, options: RenderOptions) -> str:
    """A collapsed group's label: its label and kind, output shape, layer count and params."""
    colors = GROUP_COLORS
    title = _bold(html_text(shorten(group.label, style.MAX_NAME_CHARS)))
    lines = [title + _font(html_text(f"  {group.kind}"), color=colors.accent)]
    if options.show_shapes:
        lines.append(_font(html_text(format_shape(node.output_shape)), face=style.MONO_FONT, color=style.TEXT))
    lines.append(_font(html_text(group_facts(group)), size=style.SMALL_FONT_SIZE, color=style.MUTED))
    rows = "".join(f'<TR><TD ALIGN="LEFT">{line}</TD></TR>' for line in lines if line)
    return (
        f'<<TABLE BORDER="2" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" STYLE="rounded" '
        f'BGCOLOR="{colors.fill}" COLOR="{colors.border}">'
        f'<TR><TD CELLPADDING="4"><TABLE BORDER="0" CELLSPACING="1" CELLPADDING="0">'
        f"{rows}</TABLE></TD></TR></TABLE>>"
    )


def make_group_node(dot: graphviz.Digraph, node: Layer, group: Group, options: RenderOptions, name: str) -> None:
    """Add a collapsed group's synthetic layer as the node ``name`` (its DOT name and ``id``)."""
    tooltip = "\n".join([f"{group.label} ({group.kind} group, collapsed)",
                         f"output: {format_shape(node.output_shape)}", group_facts(group)])
    node_id = graphviz.nohtml(name)
    dot.node(node_id, label=group_node_label(node, group, options), id=node_id,
             tooltip=graphviz.nohtml(tooltip_text(tooltip)),
             **{"class": f"layer layer-group group-collapsed group-{group.kind}"})


def make_group_box(dot: graphviz.Digraph, box: GroupBox, cluster_name: str,
                   draw_items: Callable[[graphviz.Digraph, list], None]) -> None:
    """An expanded group as ``subgraph <cluster_name>`` around its items; the cluster's ``id`` is the group id."""
    group = box.group
    title = _font(COLLAPSE_MARK, color=style.MUTED) + " " + _bold(html_text(shorten(group.label, style.MAX_NAME_CHARS)))
    muted = _font(html_text(f"{group.kind}{SEPARATOR}{group_facts(group)}"), size=style.SMALL_FONT_SIZE,
                  color=style.MUTED)
    label = (f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD ALIGN="LEFT">{title}</TD></TR>'
             f'<TR><TD ALIGN="LEFT">{muted}</TD></TR></TABLE>>')
    with dot.subgraph(name=cluster_name) as cluster:
        cluster.attr(
            label=label,
            id=graphviz.nohtml(esc_string(group.id)),
            tooltip=graphviz.nohtml(tooltip_text(f"{group.label} ({group.kind} group, {group_facts(group)})")),
            style="rounded,dashed",
            color=style.CLUSTER_BORDER,
            labeljust="l",
            fontsize=str(style.CLUSTER_FONT_SIZE),
            margin="10",
            **{"class": f"group group-expanded group-{group.kind}"},
        )
        draw_items(cluster, box.items)
