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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.graph import Layer, ModelGraph


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
class DrawPlan:
    """What to draw: ``top`` and each cluster's ``members`` in graph order, and the edges."""

    top: list[Layer] = field(default_factory=list)
    """Layers drawn at the top level: nodes, and expanded models (clusters)."""
    members: dict[str, list[Layer]] = field(default_factory=dict)
    """Expanded model id -> the layers drawn inside its cluster (nodes and sub-clusters)."""
    edges: list[DrawnEdge] = field(default_factory=list)
    """Edges between drawn nodes, first occurrence order, one per (tail, head) pair."""
    inner_counts: dict[str, int] = field(default_factory=dict)
    """Collapsed nested model id -> how many layers it holds, at any depth."""

    def is_cluster(self, layer_id: str) -> bool:
        return layer_id in self.members


def plan_drawing(graph: ModelGraph, expand_nested: bool) -> DrawPlan:
    """Decide nodes, clusters and edges for ``graph`` (see the module docstring)."""
    tree = _Tree(graph)
    plan = DrawPlan()
    for layer in graph.layers:
        parent = tree.parent(layer.id)
        if parent is None:
            plan.top.append(layer)
        elif expand_nested and tree.reaches_top(parent):
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
    return plan


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
