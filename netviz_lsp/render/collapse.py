"""Collapsing groups: a graph in which each collapsed group is one synthetic layer.

``collapse(graph, expanded)`` returns a new ``ModelGraph`` (the input is not changed):

- A group is *shown collapsed* when it is not in ``expanded`` and every group above it
  (``parent`` chain) is. Its layers are replaced by one synthetic ``Layer`` whose ``id``
  is the group's id, at the place of its first layer, titled by the group's label, with
  the group's ``params`` and the summed ``trainable_params`` and ``activation_bytes``
  of its layers, and the output shape of its exit layer (the last of its layers an edge
  leaves the group from; the last layer when none does). ``class_name`` says what it
  is (``COLLAPSED_CLASS``, or the nested model's class for a ``nested`` group).
- A layer inside a shown-collapsed group is absorbed; so are the layers nested in an
  absorbed model (``parent`` chain).
- A ``nested`` group is its model's own layer, which the renderer draws collapsed or
  expanded as ``nesting.py`` says (``nested_model``): collapsing it absorbs nothing, so the
  model keeps its layer id, and only the groups inside it are hidden.
- Edges are rewired to the synthetic layers; an edge that then joins a node to itself
  is dropped, and repeats are dropped (first occurrence order kept).
- ``groups`` keeps the expanded groups every ancestor of which is expanded, and the shown
  collapsed groups; groups inside a collapsed group are gone. Each kept group's
  ``layers`` is unchanged (the ids of the original graph), so a client can still find
  which collapsed node holds a given layer. A synthetic layer is recognised by its id
  being a group's id (group ids are distinct from layer ids by contract).

Totals, inputs, outputs, ``memory`` and ``build`` are those of the original graph.
Collapsing an already collapsed graph with the same ``expanded`` changes nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Optional

from netviz_lsp.graph import Group, Layer, ModelGraph

COLLAPSED_CLASS = {"block": "Block", "repeat": "Repeat", "nested": "Model"}
"""The ``class_name`` of a collapsed group's synthetic layer, by the group's kind."""

COLLAPSE_OVER = 120
"""Graphs with more layers than this are drawn collapsed to the top level of groups by default."""


def default_expanded(graph: ModelGraph) -> set[str]:
    """What a drawing expands when nobody asked: nothing for a big graph, every group otherwise."""
    if len(graph.layers) > COLLAPSE_OVER:
        return set()
    return {group.id for group in graph.groups}


def is_collapsed(graph: ModelGraph) -> bool:
    """Whether ``graph`` already holds a collapsed group's synthetic layer."""
    ids = {group.id for group in graph.groups}
    return any(layer.id in ids for layer in graph.layers)


def group_depths(groups: Iterable[Group]) -> dict[str, int]:
    """Group id -> how many groups lie above it (0 at the top); unknown parents count as top."""
    by_id = {group.id: group for group in groups}
    depths: dict[str, int] = {}
    for gid in by_id:
        depth, seen, current = 0, {gid}, by_id[gid].parent
        while current in by_id and current not in seen:
            seen.add(current)
            depth += 1
            current = by_id[current].parent
        depths[gid] = depth
    return depths


def collapse(graph: ModelGraph, expanded: Iterable[str]) -> ModelGraph:
    """``graph`` with every group outside ``expanded`` drawn as one node (see the module docstring)."""
    expanded = set(expanded)
    by_id = {group.id: group for group in graph.groups}

    def state(gid: str) -> str:
        """``expanded``, ``collapsed`` (shown as one node) or ``hidden`` (inside a collapsed group)."""
        seen, current = set(), by_id[gid].parent
        while current in by_id and current not in seen:
            seen.add(current)
            if current not in expanded:
                return "hidden"
            current = by_id[current].parent
        return "expanded" if gid in expanded else "collapsed"

    states = {gid: state(gid) for gid in by_id}
    shown = [group for group in graph.groups if states[group.id] == "collapsed"]

    # Which shown-collapsed group absorbs each layer.
    owner: dict[str, str] = {}
    children: dict[str, list[str]] = {}
    for layer in graph.layers:
        if layer.parent is not None and layer.parent != layer.id:
            children.setdefault(layer.parent, []).append(layer.id)
    by_layer = {layer.id: layer for layer in graph.layers}
    for group in shown:
        if group.id in by_layer:  # already collapsed: its synthetic layer stays as it is
            owner[group.id] = group.id
            continue
        if nested_model(group, by_layer) is not None:
            continue
        members = [lid for lid in group.layers if lid in by_layer]
        stack = list(members)
        while stack:
            lid = stack.pop()
            if lid in owner:
                continue
            owner[lid] = group.id
            stack.extend(children.get(lid, []))

    layers: list[Layer] = []
    emitted: set[str] = set()
    for layer in graph.layers:
        gid = owner.get(layer.id)
        if gid is None or gid == layer.id:
            layers.append(dataclasses.replace(layer, call_lines=list(layer.call_lines),
                                              call_cells=list(layer.call_cells)))
        elif gid not in emitted:
            emitted.add(gid)
            layers.append(_synthetic(by_id[gid], graph, owner))

    drawn = {layer.id for layer in layers}
    edges: list[list[str]] = []
    seen_edges: set[tuple[str, str]] = set()
    for src, dst in graph.edges:
        tail, head = owner.get(src, src), owner.get(dst, dst)
        if tail == head or tail not in drawn or head not in drawn or (tail, head) in seen_edges:
            continue
        seen_edges.add((tail, head))
        edges.append([tail, head])

    groups = [dataclasses.replace(group, layers=list(group.layers))
              for group in graph.groups if states[group.id] != "hidden"]
    return dataclasses.replace(graph, layers=layers, edges=edges, groups=groups)


def nested_model(group: Group, by_layer: dict[str, Layer]) -> Optional[str]:
    """The id of the model layer a ``nested`` group stands for: the model among its layers
    that no other of its layers holds, or the one parent of all its layers; else ``None``."""
    if group.kind != "nested":
        return None
    inside = set(group.layers)
    for lid in group.layers:
        layer = by_layer.get(lid)
        if layer is not None and layer.is_model and layer.parent not in inside:
            return lid
    parents = {by_layer[lid].parent for lid in group.layers if lid in by_layer}
    if len(parents) == 1:
        (parent,) = parents
        if parent in by_layer and by_layer[parent].is_model:
            return parent
    return None


def _synthetic(group: Group, graph: ModelGraph, owner: dict[str, str]) -> Layer:
    """The one layer a collapsed group is drawn as."""
    members = [layer for layer in graph.layers if owner.get(layer.id) == group.id]
    member_ids = {layer.id for layer in members}
    # Leaves: a nested model's own counts repeat its inner layers', so only leaves are summed.
    leaves = [layer for layer in members
              if not any(other.parent == layer.id for other in members if other is not layer)]
    leaving = {src for src, dst in graph.edges if src in member_ids and dst not in member_ids}
    exits = [layer for layer in members if layer.id in leaving] or members
    exit_layer = exits[-1]
    first = next((layer for layer in members if layer.line is not None), members[0])
    dtypes = {layer.dtype for layer in leaves}
    sizes = [layer.activation_bytes for layer in leaves]
    outer = members[0].parent if members[0].parent not in member_ids else None
    class_name = COLLAPSED_CLASS.get(group.kind, "Group")
    return Layer(
        id=group.id,
        name=group.label,
        class_name=class_name,
        line=first.line,
        call_lines=list(first.call_lines),
        output_shape=exit_layer.output_shape,
        params=group.params or sum(layer.params for layer in leaves),
        trainable=any(layer.trainable for layer in leaves),
        activation=None,
        dtype=dtypes.pop() if len(dtypes) == 1 else None,
        parent=outer,
        trainable_params=sum(layer.trainable_params for layer in leaves),
        is_model=False,
        cell=first.cell,
        call_cells=list(first.call_cells),
        activation_bytes=None if any(size is None for size in sizes) else sum(sizes),
        failed=any(layer.failed for layer in members),
    )
