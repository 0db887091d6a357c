"""Collapsible groups of layers (``ModelGraph.groups``), from the graph contract alone (no Keras).

Three kinds, as docs/protocol.md defines them:

- ``nested``: a nested model: the model's own layer and every layer inside it.
- ``block``: layers that share a name prefix, among the layers of one level (the top level
  or one nested model's):
  - numbered prefixes: ``conv2_block1_1_conv`` belongs to block ``conv2_block1`` inside stage
    ``conv2`` (ResNet, DenseNet), ``transformer_layer_3_attention`` to ``transformer_layer_3``,
    ``block_1_expand`` to ``block_1`` (MobileNetV2), ``block2a_dwconv`` to ``block2a`` inside
    stage ``block2`` (EfficientNet). A prefix groups at least two layers that follow each other in the model's
    order (only Keras' automatic names, ``add_3``, may lie between them), so a prefix that
    recurs all over a model (``separable_conv_1_...``) is no block;
  - NASNet's cells: ``separable_conv_1_normal_left1_3`` belongs to normal cell 3,
    ``reduction_add_1_reduce_6`` to reduction cell ``reduce_6``; a run of normal cells between
    two reduction cells is one stage;
  - a layer with an automatic name joins the group that holds every layer it feeds (else
    every layer that feeds it): the ``activation_23`` before a cell's separable convolution;
  - InceptionV3's modules: a named layer (``mixed5``) after a run of automatically named ones
    is the block of them all (a layer its name prefixes, ``mixed9_0``, is taken along);
  - when a level has stages (groups of blocks, or cells), or else at least ``MIN_MAJORS``
    blocks, the layers before the first one are its ``stem`` and those after the last one its
    ``head``.
- ``repeat``: a run of identical blocks, as ``render/views/repeats.py`` finds them at the top
  level, when the names did not already make each copy a group; each copy of more than one
  layer is a ``block`` of its own inside it.

Groups nest as their layer sets do (``parent`` is the smallest group holding another); a
group that would cut across another is dropped. Ids start with ``group:``, so they never
equal a layer id. ``params`` sums the group's layers (a nested model's own count is not
added again to its layers').
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.graph import Group, Layer, ModelGraph

MIN_COVER = 0.5
"""Stem and head are made only when a level's groups hold at least this share of its layers."""

_CELL = re.compile(r"(?:^|_)(?:normal|reduction|adjust)(?:_|\d).*?_((?:stem|reduce)_\d+|\d+)$")
_LETTERED = re.compile(r"^[A-Za-z]+\d+[a-z]$")
_KIND_ORDER = {"nested": 0, "block": 1, "repeat": 2}
MIN_MAJORS = 4
"""Without stages, a level's stem and head are made when it has at least this many blocks (VGG16's five)."""


@dataclass
class _Candidate:
    id: str
    label: str
    kind: str
    members: set[str]
    rank: int = 0
    """Tie-break when two candidates hold the same layers: lower wins."""
    first: int = 0
    layers: list[str] = field(default_factory=list)


def compute_groups(graph: ModelGraph) -> list[Group]:
    """The groups of ``graph``, parents before children, siblings in model order."""
    return _Grouping(graph).groups()


def auto_named(layer: Layer) -> bool:
    """True when ``layer.name`` is Keras' automatic name for its class (``conv2d``, ``add_3``, ``re_lu_1``)."""
    base = re.sub(r"_\d+$", "", layer.name)
    return base == snake_case(layer.class_name)


def snake_case(name: str) -> str:
    """Keras' ``to_snake_case``: ``BatchNormalization`` -> ``batch_normalization``, ``Conv2D`` -> ``conv2d``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def name_prefixes(name: str) -> list[str]:
    """The numbered prefixes of a layer name, outermost first, at most two (stage, block).

    ``conv2_block1_1_conv`` -> ``[conv2, conv2_block1]``; ``transformer_layer_3_ffn`` ->
    ``[transformer_layer_3]``; a prefix is never the whole name.
    """
    tokens = name.split("_")
    found: list[str] = []
    for i, token in enumerate(tokens[:-1]):
        if not any(ch.isdigit() for ch in token):
            continue
        if token.isdigit() and (i == 0 or any(ch.isdigit() for ch in tokens[i - 1])):
            continue  # ``conv2_block1_1``: a counter inside a block, not a block
        prefix = "_".join(tokens[: i + 1])
        if not found and _LETTERED.match(token):
            found.append(prefix[:-1])  # EfficientNet's ``block2a``, ``block2b``: blocks of stage ``block2``
        found.append(prefix)
        if len(found) == 2:
            break
    return found


def cell_of(name: str) -> Optional[str]:
    """NASNet's cell of a layer name: ``normal_add_1_3`` -> ``3``, ``adjust_bn_reduce_6`` -> ``reduce_6``."""
    match = _CELL.search(name)
    return match.group(1) if match else None


class _Grouping:
    def __init__(self, graph: ModelGraph):
        self.graph = graph
        self.by_id = {layer.id: layer for layer in graph.layers}
        self.position = {layer.id: i for i, layer in enumerate(graph.layers)}
        self.children: dict[Optional[str], list[str]] = {}
        for layer in graph.layers:
            parent = layer.parent if layer.parent in self.by_id and layer.parent != layer.id else None
            self.children.setdefault(parent, []).append(layer.id)
        self.successors: dict[str, list[str]] = {}
        self.predecessors: dict[str, list[str]] = {}
        for src, dst in graph.edges:
            if src in self.by_id and dst in self.by_id and src != dst:
                self.successors.setdefault(src, []).append(dst)
                self.predecessors.setdefault(dst, []).append(src)
        self.taken = set(self.by_id)
        self.candidates: list[_Candidate] = []

    # -- the candidates -------------------------------------------------------------------------

    def groups(self) -> list[Group]:
        for layer in self.graph.layers:
            if layer.is_model and self.children.get(layer.id):
                self._add(f"group:{layer.id}", layer.name, "nested", self._with_descendants([layer.id]))
        for parent, siblings in self.children.items():
            self._level(parent, siblings)
        self._repeats()
        return self._assemble()

    def _add(self, wanted_id: str, label: str, kind: str, members: set[str], rank: int = 0) -> Optional[_Candidate]:
        if len(members) < 2:
            return None
        group_id, n = wanted_id, 1
        while group_id in self.taken:
            n += 1
            group_id = f"{wanted_id}~{n}"
        self.taken.add(group_id)
        candidate = _Candidate(group_id, label, kind, members, rank=rank)
        self.candidates.append(candidate)
        return candidate

    def _with_descendants(self, ids) -> set[str]:
        out, stack = set(), list(ids)
        while stack:
            layer_id = stack.pop()
            if layer_id in out:
                continue
            out.add(layer_id)
            stack.extend(self.children.get(layer_id, []))
        return out

    def _level(self, parent: Optional[str], siblings: list[str]) -> None:
        """Block groups among ``siblings`` (the layers directly inside ``parent``)."""
        prefix = f"group:{parent}/" if parent is not None else "group:"
        index = {layer_id: i for i, layer_id in enumerate(siblings)}
        owner: dict[str, list[str]] = {}  # sibling id -> keys of the block groups holding it, outermost first
        labels: dict[str, tuple[str, int]] = {}  # key -> (label, rank); ranks order keys that hold the same layers
        stages: list[str] = []

        cells: dict[str, list[str]] = {}
        for layer_id in siblings:
            cell = cell_of(self.by_id[layer_id].name)
            if cell is not None:
                cells.setdefault(cell, []).append(layer_id)
        cells = {c: ids for c, ids in cells.items() if len(ids) >= 2}
        if len(cells) >= 2:
            order = sorted(cells, key=lambda c: min(index[i] for i in cells[c]))
            run: list[str] = []
            for cell in order + [None]:
                if cell is not None and not _reduction(cell):
                    run.append(cell)
                    continue
                if len(run) >= 2:
                    key = f"cells_{run[0]}-{run[-1]}"
                    labels[key] = (f"normal cells {run[0]}\u2013{run[-1]}", 0)
                    stages.append(key)
                    for c in run:
                        for layer_id in cells[c]:
                            owner.setdefault(layer_id, []).append(key)
                elif run:
                    stages.append(f"cell_{run[0]}")
                if cell is not None:
                    stages.append(f"cell_{cell}")
                run = []
            for cell, ids in cells.items():
                key = f"cell_{cell}"
                labels[key] = (f"{'reduction' if _reduction(cell) else 'normal'} cell {cell}", 1)
                for layer_id in ids:
                    owner.setdefault(layer_id, []).append(key)

        self._prefix_blocks(siblings, index, owner, labels, stages)
        self._absorb(siblings, owner)
        self._anchored_runs(siblings, index, owner, labels)
        self._stem_and_head(siblings, index, owner, labels, stages)

        members: dict[str, list[str]] = {}
        for layer_id in siblings:
            for key in owner.get(layer_id, []):
                members.setdefault(key, []).append(layer_id)
        for key, ids in members.items():
            label, rank = labels[key]
            self._add(prefix + key, label, "block", self._with_descendants(ids), rank)

    def _prefix_blocks(self, siblings, index, owner, labels, stages) -> None:
        chains = {layer_id: ([] if layer_id in owner or auto_named(self.by_id[layer_id])
                             else name_prefixes(self.by_id[layer_id].name)) for layer_id in siblings}

        def valid(key: str, depth: int, within: Optional[str]) -> list[str]:
            ids = [i for i in siblings if len(chains[i]) > depth and chains[i][depth] == key
                   and (within is None or chains[i][depth - 1] == within)]
            if len(ids) < 2:
                return []
            lo, hi = index[ids[0]], index[ids[-1]]
            inside = set(ids)
            for other in siblings[lo:hi + 1]:
                if other not in inside and (chains[other] or other in owner or not auto_named(self.by_id[other])):
                    return []
            return ids

        outer_keys = list(dict.fromkeys(c[0] for c in chains.values() if c))
        for key in outer_keys:
            ids = valid(key, 0, None)
            if not ids:
                continue
            inner = [k for k in dict.fromkeys(chains[i][1] for i in ids if len(chains[i]) > 1)]
            blocks = [(k, valid(k, 1, key)) for k in inner]
            blocks = [(k, b) for k, b in blocks if b]
            labels[key] = (key, 0)
            if blocks:
                stages.append(key)
            if len(blocks) == 1 and len(blocks[0][1]) == len(ids):
                labels[key] = (blocks[0][0], 0)  # a stage of one block is that block
                blocks = []
            for layer_id in ids:
                owner.setdefault(layer_id, []).append(key)
            for block, block_ids in blocks:
                labels[block] = (block, 1)
                for layer_id in block_ids:
                    owner[layer_id].append(block)

    def _absorb(self, siblings: list[str], owner: dict[str, list[str]]) -> None:
        """Automatically named layers join the innermost group that holds all they feed (or all that feeds them)."""
        if not owner:
            return
        level = set(siblings)
        loose = [i for i in siblings if i not in owner and auto_named(self.by_id[i])
                 and self.by_id[i].class_name != "InputLayer"]
        changed = True
        while changed and loose:
            changed = False
            for layer_id in list(loose):
                feeds = self.successors.get(layer_id, [])
                # Joining what feeds it only when all it feeds is in groups: the layers after a
                # model's last block (its head) stay out.
                ways = [feeds] + ([self.predecessors.get(layer_id, [])] if all(n in owner for n in feeds) else [])
                for neighbours in ways:
                    keys = {tuple(owner.get(n, ())) for n in neighbours if n in level}
                    if len(keys) == 1 and () not in keys and all(n in level for n in neighbours) and neighbours:
                        owner[layer_id] = list(next(iter(keys)))
                        loose.remove(layer_id)
                        changed = True
                        break

    def _anchored_runs(self, siblings, index, owner, labels) -> None:
        """Inception's ``mixed0`` ... ``mixed10``: a named layer after a run of automatically named
        ones is the block of them all (with the block its name already prefixes, ``mixed9_0``)."""
        def anchor(layer: Layer) -> bool:
            return (layer.id not in owner and layer.class_name != "InputLayer" and not auto_named(layer)
                    and any(ch.isdigit() for ch in layer.name) and not name_prefixes(layer.name))

        anchors = [i for i in siblings if anchor(self.by_id[i])]
        if len(anchors) < 3:
            return
        names = {self.by_id[i].name for i in anchors}
        for anchor_id in anchors:
            key = self.by_id[anchor_id].name
            run = []
            for other in reversed(siblings[:index[anchor_id]]):
                layer = self.by_id[other]
                if other in owner:
                    if owner[other][0] != key:
                        break
                elif layer.class_name == "InputLayer" or not (
                        auto_named(layer) or (name_prefixes(layer.name) or [None])[0] in names):
                    break  # another named layer; ``mixed9_0`` (named after an anchor) is taken along
                run.append(other)
            loose = [i for i in run if i not in owner]
            if not loose and key not in labels:
                continue
            labels.setdefault(key, (key, 0))
            for layer_id in loose + [anchor_id]:
                owner[layer_id] = [key]

    def _stem_and_head(self, siblings, index, owner, labels, stages) -> None:
        if sum(1 for i in siblings if i in owner) < MIN_COVER * len(siblings):
            return
        if len(stages) < 2:  # no stages: the level's blocks, when there are enough of them
            stages = list(dict.fromkeys(owner[i][0] for i in siblings if i in owner))
            if len(stages) < MIN_MAJORS:
                return
        stage_set = set(stages)
        staged = [index[i] for i in siblings if stage_set & set(owner.get(i, ()))]
        first, last = min(staged), max(staged)
        for key, span in (("stem", siblings[:first]), ("head", siblings[last + 1:])):
            ids = [i for i in span if self.by_id[i].class_name != "InputLayer"
                   and not (stage_set & set(owner.get(i, ())))]
            if len(ids) < 2 or key in labels:
                continue
            labels[key] = (key, -1)
            for layer_id in ids:
                owner[layer_id] = [key] + owner.get(layer_id, [])

    def _repeats(self) -> None:
        """Runs of identical top-level blocks whose copies no name made groups of."""
        from netviz_lsp.render.views.repeats import _common_name, collapse_repeats

        try:
            _, runs = collapse_repeats(self.graph)
        except Exception:  # a graph repeats.py cannot read is drawn without repeat groups
            return
        existing = [frozenset(c.members) for c in self.candidates]
        for run in runs:
            copies = [self._with_descendants(ids) for ids in run.copies]
            if all(any(copy == e for e in existing) for copy in copies):
                continue  # each copy is a block already: its names say more than "× k"
            layers = [self.by_id[i] for ids in run.copies for i in ids]
            name = _common_name(layers)
            whole = set().union(*copies)
            repeat = self._add(f"group:{run.block_id}", f"{name} \u00d7 {run.count}", "repeat", whole)
            if repeat is None:
                continue
            for n, copy in enumerate(copies, 1):
                if len(copy) >= 2 and copy not in existing:
                    self._add(f"{repeat.id}/{n}", f"{name} {n}/{run.count}", "block", copy)

    # -- the tree --------------------------------------------------------------------------------

    def _assemble(self) -> list[Group]:
        for c in self.candidates:
            c.first = min(self.position[i] for i in c.members)
        ordered = sorted(self.candidates, key=lambda c: (-len(c.members), _KIND_ORDER[c.kind], c.rank, c.first))
        accepted: list[_Candidate] = []
        parent: dict[str, Optional[str]] = {}
        for c in ordered:
            ok, holder = True, None
            for a in accepted:
                if c.members == a.members or (c.members & a.members and not c.members <= a.members):
                    ok = False
                    break
                if c.members <= a.members and (holder is None or len(a.members) < len(holder.members)):
                    holder = a
            if ok:
                accepted.append(c)
                parent[c.id] = holder.id if holder else None
        kids: dict[Optional[str], list[_Candidate]] = {}
        for c in accepted:
            kids.setdefault(parent[c.id], []).append(c)
        out: list[Group] = []

        def visit(group_parent: Optional[str]) -> None:
            for c in sorted(kids.get(group_parent, []), key=lambda c: c.first):
                layers = sorted(c.members, key=self.position.__getitem__)
                inner_parents = {self.by_id[i].parent for i in layers}
                params = sum(self.by_id[i].params for i in layers if i not in inner_parents)
                out.append(Group(c.id, c.label, c.kind, layers, group_parent, params))
                visit(c.id)

        visit(None)
        return out


def _reduction(cell: str) -> bool:
    return not cell.isdigit()


def annotate(graph: ModelGraph) -> ModelGraph:
    """``graph`` with its ``groups`` and ``memory`` filled in (in place; returned for chaining).

    Called once per built graph, at the end of the worker's extraction, so cached graphs and
    notebooks carry them too. Each layer's ``activation_bytes`` is set by the extraction,
    which knows the dtypes of its output tensors.
    """
    from netviz_lsp.memory import model_memory

    graph.groups = compute_groups(graph)
    graph.memory = model_memory(graph)
    return graph
