"""Collapsing repeated blocks: 32 identical transformer blocks become one "block × 32".

The top level of a graph is cut into *units* at every point where one tensor carries
everything forward: the gap after position ``i`` of the topological order is a cut
when every edge crossing it leaves layer ``i``. A residual block (its input feeds both
its first layer and its ``Add``) is therefore one unit, a plain layer of a chain is one
unit of its own. Two units are identical when their layers agree in class, output
shape, parameters, activation and nesting, and their inner wiring is the same.

A run is ``k >= 2`` consecutive copies of a sequence of ``p`` units (``p`` up to
``MAX_PERIOD``); runs are found greedily from the input, preferring the one that hides
most layers, then the shortest period. A run is collapsed only when it hides at least
``min_hidden`` layers, so a three-layer MLP stays as it is.

A collapsed run becomes one layer of class ``Block``, drawn as a nested model would
be: its first copy's layers are its members (re-parented to it, ids unchanged, so
clicks still reach real layers), the other copies are dropped, and edges to or from
them are re-attached to the block. Its parameters are those of all copies.
"""

from __future__ import annotations

import dataclasses
import heapq
import os
from dataclasses import dataclass
from typing import Optional

from netviz_lsp.graph import Layer, ModelGraph

BLOCK_CLASS = "Block"
MAX_PERIOD = 64
"""Longest repeated sequence looked for, in units."""
MIN_HIDDEN = 8
"""Collapse a run only when it hides at least this many layers."""


@dataclass(frozen=True)
class Repeat:
    """One collapsed run: the block layer's id, how many copies, and each copy's layer ids."""

    block_id: str
    count: int
    copies: tuple[tuple[str, ...], ...]


def collapse_repeats(graph: ModelGraph, min_hidden: int = MIN_HIDDEN) -> tuple[ModelGraph, list[Repeat]]:
    """``graph`` with its repeated runs collapsed (see the module docstring), and the runs found.

    Returns ``graph`` itself when nothing repeats.
    """
    top = _TopLevel(graph)
    units = top.units()
    signatures = [top.signature(unit) for unit in units]
    names = [[top.by_id[top.order[p]].name for p in unit] for unit in units]
    runs = _find_runs(signatures, [sum(top.size(i) for i in unit) for unit in units], min_hidden, names)
    if not runs:
        return graph, []
    return _collapse(graph, top, units, runs)


class _TopLevel:
    """The top-level layers of a graph in topological order, with their wiring."""

    def __init__(self, graph: ModelGraph):
        self.graph = graph
        by_id = {layer.id: layer for layer in graph.layers}
        self.by_id = by_id
        self.children: dict[str, list[str]] = {}
        for layer in graph.layers:
            if layer.parent is not None and layer.parent in by_id and layer.parent != layer.id:
                self.children.setdefault(layer.parent, []).append(layer.id)
        tops = [layer.id for layer in graph.layers if self.top_of(layer.id) == layer.id]
        self.edges = []
        for src, dst in graph.edges:
            if src in by_id and dst in by_id:
                a, b = self.top_of(src), self.top_of(dst)
                if a is not None and b is not None and a != b and (a, b) not in self.edges:
                    self.edges.append((a, b))
        self.order = _topological(tops, self.edges)
        self.position = {layer_id: i for i, layer_id in enumerate(self.order)}
        self.incoming: dict[int, list[int]] = {}
        for a, b in self.edges:
            self.incoming.setdefault(self.position[b], []).append(self.position[a])
        self._sizes: dict[str, int] = {}

    def top_of(self, layer_id: str) -> Optional[str]:
        seen = set()
        current = layer_id
        while True:
            layer = self.by_id.get(current)
            if layer is None or current in seen:
                return None
            seen.add(current)
            if layer.parent is None or layer.parent not in self.by_id or layer.parent == current:
                return current
            current = layer.parent

    def size(self, position: int) -> int:
        """Layers drawn for the top-level layer at ``position``: itself plus its descendants."""
        layer_id = self.order[position]
        if layer_id not in self._sizes:
            self._sizes[layer_id] = self._count(layer_id)
        return self._sizes[layer_id]

    def _count(self, layer_id: str) -> int:
        count, stack = 1, [layer_id]
        seen = set(stack)
        while stack:
            for kid in self.children.get(stack.pop(), []):
                if kid not in seen:
                    seen.add(kid)
                    count += 1
                    stack.append(kid)
        return count

    def units(self) -> list[list[int]]:
        """Positions grouped into units between cuts (see the module docstring)."""
        n = len(self.order)
        crossing_sources: list[set[int]] = [set() for _ in range(n + 1)]
        for a, b in self.edges:
            i, j = self.position[a], self.position[b]
            if i < j:
                for gap in range(i + 1, j + 1):
                    crossing_sources[gap].add(i)
            else:  # a cycle (never from Keras): nothing across it is a cut
                for gap in range(j + 1, i + 1):
                    crossing_sources[gap].add(-1)
        units, current = [], []
        for position in range(n):
            if current and crossing_sources[position] <= {position - 1}:
                units.append(current)
                current = []
            current.append(position)
        if current:
            units.append(current)
        return units

    def signature(self, unit: list[int]) -> tuple:
        """What makes two units identical: their layers' facts and their wiring, relative to the unit."""
        start = unit[0]
        layers = tuple(self._layer_signature(self.order[p]) for p in unit)
        wiring = tuple(sorted((a - start, b - start) for b in unit for a in self.incoming.get(b, [])))
        return layers, wiring

    def _layer_signature(self, layer_id: str) -> tuple:
        layer = self.by_id[layer_id]
        return (layer.class_name, repr(layer.output_shape), layer.params, layer.trainable_params,
                layer.activation, layer.dtype, layer.is_model, self.size(self.position[layer_id]))


def _topological(ids: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Kahn's order, ties broken by graph order; layers on a cycle follow in graph order."""
    index = {layer_id: i for i, layer_id in enumerate(ids)}
    incoming = {layer_id: 0 for layer_id in ids}
    outgoing: dict[str, list[str]] = {}
    for a, b in edges:
        incoming[b] += 1
        outgoing.setdefault(a, []).append(b)
    ready = [index[i] for i in ids if incoming[i] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        layer_id = ids[heapq.heappop(ready)]
        order.append(layer_id)
        for nxt in outgoing.get(layer_id, []):
            incoming[nxt] -= 1
            if incoming[nxt] == 0:
                heapq.heappush(ready, index[nxt])
    placed = set(order)
    return order + [i for i in ids if i not in placed]


def _find_runs(signatures: list, sizes: list[int], min_hidden: int,
               names: Optional[list[list[str]]] = None) -> list[tuple[int, int, int]]:
    """Greedy runs as ``(first unit, period, copies)``, see the module docstring.

    A run found at unit ``i`` may also start up to ``period - 1`` units later with as
    many copies (a ResNet block's trailing activation can open or close a copy); the
    alignment whose copies share the longest name prefix wins, e.g. ``conv2_block2_*``.
    """
    ids: dict = {}
    keys = [ids.setdefault(sig, len(ids)) for sig in signatures]
    runs, i, n = [], 0, len(keys)
    while i < n:
        best = None
        for period in range(1, min(MAX_PERIOD, (n - i) // 2) + 1):
            copies = _copies(keys, i, period)
            if copies < 2:
                continue
            hidden = (copies - 1) * sum(sizes[i: i + period])
            if hidden >= min_hidden and (best is None or hidden > best[0]):
                best = (hidden, period, copies)
        if best is None:
            i += 1
            continue
        _, period, copies = best
        start = i
        if names is not None:
            aligned = [(s, _copies(keys, s, period)) for s in range(i, min(i + period, n))]
            aligned = [(s, c) for s, c in aligned if c >= copies]
            start, copies = max(aligned, key=lambda sc: (_shared_prefix(names, sc[0], period, sc[1]), -sc[0]))
        runs.append((start, period, copies))
        i = start + period * copies
    return runs


def _copies(keys: list[int], start: int, period: int) -> int:
    copies = 1
    while keys[start + copies * period: start + (copies + 1) * period] == keys[start: start + period]:
        copies += 1
    return copies


def _shared_prefix(names: list[list[str]], start: int, period: int, copies: int) -> int:
    """Total length of each copy's common layer-name prefix: high when copies follow the names' blocks."""
    total = 0
    for c in range(copies):
        copy = [name for unit in names[start + c * period: start + (c + 1) * period] for name in unit]
        total += len(os.path.commonprefix(copy))
    return total


def _collapse(graph, top: _TopLevel, units, runs) -> tuple[ModelGraph, list[Repeat]]:
    by_id = top.by_id
    taken = {layer.id for layer in graph.layers}
    block_of: dict[str, str] = {}  # every top-level id in a run -> its block id
    kept: set[str] = set()  # top-level ids of first copies
    blocks: dict[str, Layer] = {}  # first layer id of the run -> block layer
    repeats: list[Repeat] = []
    for first_unit, period, copies in runs:
        copy_ids = []
        for c in range(copies):
            positions = [p for unit in units[first_unit + c * period: first_unit + (c + 1) * period] for p in unit]
            copy_ids.append(tuple(top.order[p] for p in positions))
        block = _block_layer(graph, top, copy_ids, taken)
        taken.add(block.id)
        blocks[copy_ids[0][0]] = block
        kept.update(copy_ids[0])
        for ids in copy_ids:
            for layer_id in ids:
                block_of[layer_id] = block.id
        repeats.append(Repeat(block.id, copies, tuple(copy_ids)))

    layers: list[Layer] = []
    for layer in graph.layers:
        top_id = top.top_of(layer.id)
        if top_id is not None and top_id in block_of and top_id not in kept:
            continue  # a later copy (or inside one)
        if layer.id in blocks:
            layers.append(blocks[layer.id])
        if layer.id in kept and layer.id == top_id:
            layer = dataclasses.replace(layer, parent=block_of[layer.id])
        layers.append(layer)

    edges: list[list[str]] = []
    for src, dst in graph.edges:
        ends = []
        for layer_id in (src, dst):
            top_id = top.top_of(layer_id)
            hidden = top_id is not None and top_id in block_of and top_id not in kept
            ends.append((block_of.get(top_id), block_of[top_id] if hidden else layer_id))
        (block_a, a), (block_b, b) = ends
        if block_a is not None and block_a == block_b and (a == block_a or b == block_b):
            continue  # from one copy to the next, or inside a dropped copy
        if a != b and [a, b] not in edges:
            edges.append([a, b])
    return dataclasses.replace(graph, layers=layers, edges=edges), repeats


def _block_layer(graph: ModelGraph, top: _TopLevel, copies: list[tuple[str, ...]], taken: set) -> Layer:
    first_layers = [top.by_id[i] for i in copies[0]]
    last = top.by_id[copies[-1][-1]]
    every = [top.by_id[i] for ids in copies for i in ids]
    block_id, suffix = f"repeat:{copies[0][0]}", 1
    while block_id in taken:
        suffix += 1
        block_id = f"repeat:{copies[0][0]}~{suffix}"
    lines = [layer.line for layer in first_layers if layer.line is not None]
    return Layer(
        id=block_id,
        name=f"{_common_name(every)} \u00d7 {len(copies)}",
        class_name=BLOCK_CLASS,
        line=min(lines) if lines else None,
        call_lines=list(first_layers[0].call_lines),
        output_shape=last.output_shape,
        params=sum(layer.params for layer in every),
        trainable=any(layer.trainable for layer in every),
        activation=None,
        dtype=first_layers[0].dtype,
        parent=None,
        trainable_params=sum(layer.trainable_params for layer in every),
        is_model=True,
    )


def _common_name(layers: list[Layer]) -> str:
    """The name the copies share, e.g. ``conv2_block`` from ``conv2_block2_1_conv`` ... ``conv2_block3_out``."""
    prefix = os.path.commonprefix([layer.name for layer in layers]).rstrip("_-/.0123456789 ")
    return prefix or "block"


def repeated_count(layer: Layer) -> Optional[int]:
    """How many copies a collapsed ``Block`` layer stands for (from its name), else ``None``."""
    if layer.class_name != BLOCK_CLASS or "\u00d7" not in layer.name:
        return None
    tail = layer.name.rsplit("\u00d7", 1)[1].strip()
    return int(tail) if tail.isdigit() else None
