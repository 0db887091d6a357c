"""Which layers a diagram draws, where, and which edges join them.

A layer whose ``parent`` is set belongs to the nested model with that id. Collapsed
(``expand_nested=False``) a nested model is one node and its inner layers are not
drawn. Expanded, it becomes a cluster holding its inner layers (recursively), and an
edge that touches it is re-routed: into it means into its entry layers (inner layers
no inner edge enters), out of it means out of its exit layers (inner layers no inner
edge leaves). A nested model with no inner layers recorded stays a node either way.

An edge end that is not drawn (an inner layer of a collapsed model) is lifted to its
nearest drawn ancestor, so a graph that links straight to inner layers still connects
to the collapsed model; an edge that then starts and ends on the same node is
dropped. A ``parent`` naming no layer of the graph counts as top-level, and edges
naming layers the graph does not have are not drawn.

Groups (``graph.groups``, after ``collapse.py``): a group whose id is no layer's is
expanded and drawn as a box (``GroupBox``) around the drawn items it holds, nested as
the groups are; boxes only surround, edges are never re-routed through them. Inside an
expanded model's cluster, only the groups that do not hold the model itself are boxes
there. ``nested`` groups are no boxes: their model's cluster is. When the drawing's
expanded groups are given, a model with a ``nested`` group is expanded exactly when that
group is; ``expand_nested`` then decides only for models without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from netviz_lsp.graph import Group, Layer, ModelGraph


@dataclass(frozen=True)
class DrawnEdge:
    """An edge between two drawn nodes; ``*_cluster`` names the expanded model it was re-routed through."""

    tail: str
    head: str
    tail_cluster: Optional[str] = None
    """The model id whose exit layer ``tail`` is, when the graph's edge left that model."""
    head_cluster: Optional[str] = None
    """The model id whose entry layer ``head`` is, when the graph's edge entered that model."""


@dataclass
class GroupBox:
    """An expanded group drawn as a box around its drawn ``items`` (layers and boxes), in graph order."""

    group: Group
    items: list[Union[Layer, "GroupBox"]] = field(default_factory=list)


@dataclass
class DrawPlan:
    """What to draw: ``top`` and each cluster's ``members`` in graph order, and the edges."""

    top: list[Union[Layer, GroupBox]] = field(default_factory=list)
    """Layers drawn at the top level: nodes, and expanded models (clusters), inside expanded groups' boxes."""
    members: dict[str, list[Union[Layer, GroupBox]]] = field(default_factory=dict)
    """Expanded model id -> the layers drawn inside its cluster (nodes and sub-clusters)."""
    edges: list[DrawnEdge] = field(default_factory=list)
    """Edges between drawn nodes, first occurrence order, one per (tail, head) pair."""
    inner_counts: dict[str, int] = field(default_factory=dict)
    """Collapsed nested model id -> how many layers it holds, at any depth."""

    def is_cluster(self, layer_id: str) -> bool:
        return layer_id in self.members


def plan_drawing(graph: ModelGraph, expand_nested: bool, expanded_groups: Optional[set[str]] = None,
                 group_boxes: bool = False) -> DrawPlan:
    """Decide nodes, clusters and edges for ``graph`` (see the module docstring).

    Only with ``group_boxes`` do ``top`` and ``members`` hold ``GroupBox`` items (the graph view,
    ``dot.py``); the other views get layers only.
    """
    tree = _Tree(graph)
    plan = DrawPlan()
    decided = _nested_groups(graph, tree) if expanded_groups is not None else {}

    def expanded(model_id: str) -> bool:
        seen, current = set(), model_id
        while current is not None:
            group = decided.get(current)
            if current in seen or not (expand_nested if group is None else group in expanded_groups):
                return False
            seen.add(current)
            current = tree.parent(current)
        return True

    for layer in graph.layers:
        parent = tree.parent(layer.id)
        if parent is None:
            plan.top.append(layer)
        elif expanded(parent):
            plan.members.setdefault(parent, []).append(layer)
    drawn = {
        layer.id
        for layer in plan.top + [m for group in plan.members.values() for m in group]
        if not plan.is_cluster(layer.id)
    }
    plan.inner_counts = {m: tree.descendants(m) for m in tree.children if m in drawn}
    seen: set[tuple[str, str]] = set()
    for src, dst in graph.edges:
        tail_cluster = src if plan.is_cluster(src) else None
        head_cluster = dst if plan.is_cluster(dst) else None
        for tail in _attach(src, plan, drawn, tree, exits=True):
            for head in _attach(dst, plan, drawn, tree, exits=False):
                if tail != head and (tail, head) not in seen:
                    seen.add((tail, head))
                    plan.edges.append(DrawnEdge(tail, head, tail_cluster, head_cluster))
    if group_boxes and graph.groups:
        boxes = _Boxes(graph)
        plan.top = boxes.wrap(plan.top, None)
        plan.members = {model: boxes.wrap(items, model) for model, items in plan.members.items()}
    return plan


def _nested_groups(graph: ModelGraph, tree: "_Tree") -> dict[str, str]:
    """Model layer id -> the id of the ``nested`` group that stands for it."""
    from netviz_lsp.render.collapse import nested_model

    found: dict[str, str] = {}
    for group in graph.groups:
        model = nested_model(group, tree.by_id)
        if model is not None:
            found.setdefault(model, group.id)
    return found


class _Boxes:
    """Which expanded groups hold which drawn items, and how to wrap a list of items in their boxes."""

    def __init__(self, graph: ModelGraph):
        layer_ids = {layer.id for layer in graph.layers}
        self.groups = {g.id: g for g in graph.groups}
        self.expanded = [g for g in graph.groups if g.id not in layer_ids and g.kind != "nested"]
        self.members = {g.id: set(g.layers) for g in self.expanded}
        self.depth: dict[str, int] = {}
        for g in graph.groups:
            depth, seen, current = 0, {g.id}, g.parent
            while current in self.groups and current not in seen:
                seen.add(current)
                depth += 1
                current = self.groups[current].parent
            self.depth[g.id] = depth

    def holders(self, item_id: str) -> list[Group]:
        """The expanded groups holding ``item_id`` (a layer, or a collapsed group's node), outermost first."""
        if item_id in self.groups:  # a collapsed group: its ancestors hold it
            found, seen, current = [], {item_id}, self.groups[item_id].parent
            while current in self.groups and current not in seen:
                seen.add(current)
                if current in self.members:
                    found.append(self.groups[current])
                current = self.groups[current].parent
        else:
            found = [g for g in self.expanded if item_id in self.members[g.id]]
        return sorted(found, key=lambda g: self.depth[g.id])

    def wrap(self, items: list, model: Optional[str]) -> list:
        """``items`` (drawn at the top, or in ``model``'s cluster) inside the boxes of the groups that hold them."""
        outside = {g.id for g in self.holders(model)} if model is not None else set()
        result: list = []
        boxes: dict[str, GroupBox] = {}
        for item in items:
            target = result
            for group in self.holders(item.id):
                if group.id in outside:
                    continue
                box = boxes.get(group.id)
                if box is None:
                    box = boxes[group.id] = GroupBox(group)
                    target.append(box)
                target = box.items
            target.append(item)
        return result


class _Tree:
    """The nesting of a graph's layers: parents, children, and each model's own wiring."""

    def __init__(self, graph: ModelGraph):
        self.by_id = {layer.id: layer for layer in graph.layers}
        self.children: dict[str, list[str]] = {}
        for layer in graph.layers:
            parent = self.parent(layer.id)
            if parent is not None:
                self.children.setdefault(parent, []).append(layer.id)
        # Inner edges: both ends share a parent model. Kept per model for entries/exits.
        self.inner: dict[str, list[tuple[str, str]]] = {}
        for src, dst in graph.edges:
            parent = self.parent(src)
            if parent is not None and src in self.by_id and parent == self.parent(dst):
                self.inner.setdefault(parent, []).append((src, dst))

    def parent(self, layer_id: str) -> Optional[str]:
        """The layer's parent id; None at top level, for unknown layers and unknown parents."""
        layer = self.by_id.get(layer_id)
        if layer is None or layer.parent is None or layer.parent == layer_id:
            return None
        return layer.parent if layer.parent in self.by_id else None

    def reaches_top(self, model_id: str) -> bool:
        """Whether following parents from ``model_id`` ends at the top (no parent cycle)."""
        seen = set()
        current: Optional[str] = model_id
        while current is not None:
            if current in seen:
                return False
            seen.add(current)
            current = self.parent(current)
        return True

    def descendants(self, model_id: str) -> int:
        count, stack, seen = 0, [model_id], {model_id}
        while stack:
            for kid in self.children.get(stack.pop(), []):
                if kid not in seen:  # guards against parent cycles
                    seen.add(kid)
                    count += 1
                    stack.append(kid)
        return count

    def boundary(self, model_id: str, exits: bool) -> list[str]:
        """The model's exit layers (no inner edge leaves them) or entry layers (none enters)."""
        kids = self.children.get(model_id, [])
        linked = {edge[0] if exits else edge[1] for edge in self.inner.get(model_id, [])}
        return [kid for kid in kids if kid not in linked] or kids  # all linked: a cycle


def _attach(layer_id: str, plan: DrawPlan, drawn: set[str], tree: _Tree, exits: bool) -> list[str]:
    """The drawn node ids an edge end at ``layer_id`` attaches to (its tail if ``exits``)."""
    ends: list[str] = []
    pending, visited = [layer_id], set()
    while pending:
        current = pending.pop(0)
        if current in visited:
            continue
        visited.add(current)
        if current in drawn:
            ends.append(current)
        elif plan.is_cluster(current):
            pending[0:0] = tree.boundary(current, exits)  # depth first, in graph order
        else:
            parent = tree.parent(current)  # hidden inside a collapsed model: lift
            if parent is not None:
                pending.insert(0, parent)
    return ends
