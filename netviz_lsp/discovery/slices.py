"""Stage 5: the program slice of each target, and what blocks it.

A slice is the target's own statements plus, transitively, the statements binding every
name they read. Bindings are looked up in order: a statement reads the bindings made before
it; a function body reads those made before the target is evaluated. Walking back from the
latest binding: one that runs is taken (and the walk stops at one that replaces the name
outright); a loop or the main guard is passed over for an earlier binding; any other
statement that never runs (a download, a file read, training...) blocks the target, with one
error naming the value and the line a ``# netviz: value=`` stand-in would go on.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.discovery import astutil as A
from netviz_lsp.discovery.arguments import Args, Arguments
from netviz_lsp.discovery.effects import PASSABLE, REASONS
from netviz_lsp.discovery.facts import Facts, loop_binding, with_assignment
from netviz_lsp.discovery.result import Factory
from netviz_lsp.discovery.script import visible
from netviz_lsp.discovery.targets import Spec, Targets
from netviz_lsp.graph import BuildError

_BUILTINS = frozenset(dir(builtins))


@dataclass
class Slices:
    targets: list[Factory]
    errors: list[BuildError] = field(default_factory=list)
    stand_ins: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


@dataclass
class _Block:
    name: str
    """The name the slice needed."""
    at: int
    """The statement that never runs and binds it."""
    reader: int
    """The statement in the slice that reads it."""
    text: Optional[str] = None
    """What is wrong, when it is not that ``at`` never runs."""


def slices(facts: Facts, found: Targets, args: Arguments) -> Slices:
    out = Slices([])
    resolver = _Resolver(facts)
    for spec in found.specs:
        given = args.by_target[spec.name]
        if spec.kind == "factory" and spec.helper and given.missing and not spec.explicit:
            continue  # a building block called by other functions, previewed through them
        out.targets.append(_target(spec, given, facts, resolver, out))
    return out


def _target(spec: Spec, given: Args, facts: Facts, resolver: "_Resolver", out: Slices) -> Factory:
    if spec.kind == "factory":
        roots, horizon = [spec.index], len(facts.body)
        expr = (given.expr or f"{spec.name}({given.text})") if given.text is not None else ""
    else:
        roots, horizon = [spec.index, *spec.touches], spec.after + 1
        expr = spec.variable
        if facts.statements[spec.index].effect is not None:
            roots = []  # its own statement never runs: nothing to slice
    own = facts.statements[spec.index].scope
    configuration = [i for i in facts.configuration  # e.g. a mixed-precision policy set before it
                     if i < horizon and visible(facts.statements[i].scope, own)]
    graph = resolver.closure([*facts.always, *configuration, *roots] if roots else [], horizon, given.names,
                             spec.index)
    _values_of_stand_ins(graph, facts)
    piece = graph.chosen
    blocked = given.error
    if blocked is None:
        blocked = _own_problem(spec, facts) or _blocked(spec, graph, facts, out)
    if blocked is not None:
        out.errors.append(blocked)
    fn = spec.fn if spec.kind == "factory" else None
    target = Factory(
        spec.name, spec.line, spec.end_line, A.params(fn) if fn else [], given.text,
        given.origin, list(given.missing), piece, "", spec.declared, spec.kind, expr,
        spec.after if spec.kind == "variable" else None, spec.index if spec.kind == "variable" else None,
        blocked)
    target.fingerprint = _fingerprint(facts, target)
    return target


def _own_problem(spec: Spec, facts: Facts) -> Optional[BuildError]:
    if spec.kind != "variable":
        return None
    own = facts.statements[spec.index]
    if own.effect == "with block":
        message = (f"`{spec.name}` is built inside the `with` block at line {own.first}, which NetViz does not "
                   "run. Build it outside the block (or in a function) to preview it.")
        return BuildError("arguments", message, line=spec.line, factory=spec.name)
    if own.effect is not None:
        message = (f"`{spec.name}` is built at line {own.first}, which {own.effect}; NetViz never runs that. "
                   "Build the model in a statement of its own.")
        return BuildError("arguments", message, line=spec.line, factory=spec.name)
    if spec.changed_by is not None:
        st = facts.statements[spec.changed_by]
        what = {"loop": "the loop", "with block": "the `with` block"}.get(st.effect, "the statement")
        message = (f"`{spec.name}` is changed by {what} at line {st.first}, which NetViz does not run "
                   f"({st.effect}). Build the model without it (or in a function) to preview it.")
        return BuildError("arguments", message, line=spec.line, factory=spec.name)
    return None


# -- blame -----------------------------------------------------------------------------------

def _class_count(stmt: ast.stmt) -> bool:
    """``n = info.features["label"].num_classes`` (tfds ``with_info=True``) or any other
    ``X.num_classes`` read from data NetViz does not load: its stand-in is a class count."""
    value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
    return isinstance(value, ast.Attribute) and value.attr == "num_classes"


def _blocked(spec: Spec, graph: "_Graph", facts: Facts, out: Slices) -> Optional[BuildError]:
    """One error for everything that blocks ``spec``; the stand-in lines go to ``out.stand_ins``.

    Each value to stand in for is the first plain value (not a layer or model being built) on
    a way from the target's own statements down to a statement that never runs, or that
    statement itself when the way holds no plain value."""
    blamed = graph.blame(lambda i: _plain_value(facts.statements[i].node, facts))
    if not blamed:
        return None
    messages: list[tuple[int, str]] = []
    fixes: list[tuple[str, int]] = []
    for names, at, block in _together(blamed):
        name = ", ".join(names)  # `x, y = load(path)`: one stand-in, a value for each
        bad = facts.statements[block.at]
        reason = REASONS.get(bad.effect, "comes from line {line}").format(line=bad.first)
        st = facts.statements[at]
        if block.text is not None:
            text = f"`{name}` {block.text}."
        elif at == block.at and len(names) > 1:
            plural = reason.replace("comes ", "come ", 1) if reason.startswith("comes ") else \
                reason.replace("is ", "are ", 1)
            listed = ", ".join(f"`{n}`" for n in names[:-1]) + f" and `{names[-1]}`"
            text = (f"{listed} {plural}; NetViz does not run it. Add `# netviz: value=...` on that line to stand "
                    f"in for them, a value for each (`# netviz: value={', '.join('...' for _ in names)}`).")
            if (name, st.last) not in fixes:
                fixes.append((name, st.last))
            if text not in (m for _, m in messages):
                messages.append((st.first, text))
            continue
        elif at == block.at:
            text = f"`{name}` {reason}; NetViz does not run it."
        else:
            text = (f"`{name}` (line {st.first}) needs `{block.name}`, which {reason}; "
                    "NetViz does not run that.")
        if isinstance(st.node, (ast.Assign, ast.AnnAssign)):
            if (name, st.last) not in fixes:
                fixes.append((name, st.last))
            if st.first != st.last:
                where = f"at the end of line {st.last}"
            else:
                where = "on that line" if at == block.at and block.text is None else f"on line {st.last}"
            text += f" Add `# netviz: value=...` {where} to stand in for it."
            if _class_count(st.node):
                text += " It is the dataset's number of classes (`# netviz: value=10` for ten)."
            if st.bad_value:
                text += f" ({st.bad_value}.)"
        elif at == block.at and (line := _inner_binding(bad.effect, st.node, name)) is not None:
            if (name, line) not in fixes:
                fixes.append((name, line))
            where = "in the loop" if bad.effect == "loop" else "in the block"
            text += f" Add `# netviz: value=...` at the end of line {line}, {where}, to stand in for it."
            if st.bad_value:
                text += f" ({st.bad_value}.)"
        elif bad.effect == "loop":
            text += f" Give `{name}` a value before the loop to preview this model."
        if text not in (m for _, m in messages):
            messages.append((st.first, text))
    messages.sort()
    first = messages[0][1]
    if len(messages) > 1:
        first += " Also: " + " ".join(m for _, m in messages[1:])
    if fixes:
        out.stand_ins[spec.name] = fixes
    return BuildError("arguments", first, line=spec.line, factory=spec.name)


def _together(blamed: list[tuple[str, int, "_Block"]]) -> list[tuple[list[str], int, "_Block"]]:
    """``blamed`` with the names one never-run assignment binds together (``x, y = load(path)``)
    as one entry: they take one stand-in on that line."""
    out: list[tuple[list[str], int, _Block]] = []
    joined: dict[tuple[int, int], list[str]] = {}
    for name, at, block in blamed:
        key = (at, block.at)
        if at == block.at and block.text is None and key in joined:
            joined[key].append(name)
            continue
        names = [name]
        if at == block.at and block.text is None:
            joined[key] = names
        out.append((names, at, block))
    return out


def _inner_binding(effect: Optional[str], stmt: ast.stmt, name: str) -> Optional[int]:
    """The line inside a top-level loop or ``with`` block where a ``# netviz: value=`` comment
    stands in for ``name``; ``None`` for other statements, or when no one assignment binds it."""
    if effect == "loop":
        return loop_binding(stmt, name)
    if effect == "with block":
        return _with_binding(stmt, name)
    return None


def _with_binding(stmt: ast.stmt, name: str) -> Optional[int]:
    """The line where a ``# netviz: value=`` comment stands in for ``name`` set by a top-level
    ``with`` block in one assignment of its body (``with open("model.json") as f:`` then
    ``json_string = f.read()``; ``facts._with_stand_in`` runs the block as it)."""
    child = with_assignment(stmt, name)
    return child.end_lineno if child is not None else None


#: Calls whose result depends on an array's values, not its shape: with a dataset stood in
#: by zeros they would give a wrong size silently (``len(np.unique(y_train))`` is 1).
VALUE_CALLS = frozenset({"unique", "nunique", "value_counts", "bincount", "max", "amax", "argmax", "min",
                         "amin", "argmin", "set", "sorted"})


def _values_of_stand_ins(graph: "_Graph", facts: Facts) -> None:
    """Block statements of the slice that compute a new value from the *values* of a dataset
    stand-in (``num_classes = y.max() + 1``, ``to_categorical(y)`` without a class count)."""
    derived = {i for i in graph.chosen if facts.statements[i].dataset}
    if not derived:
        return
    changed = True
    while changed:
        changed = False
        for i, pairs in graph.edges.items():
            if i not in derived and any(j in derived for _, j in pairs):
                derived.add(i)
                changed = True
    for i in sorted(derived):
        st = facts.statements[i]
        if st.dataset or st.effect is not None or not _uses_values(st, facts):
            continue
        source = next((j for _, j in graph.edges.get(i, ()) if j in derived), None)
        origin = _dataset_origin(source, graph, facts)
        name = ", ".join(sorted(st.rebinds)) or next(iter(sorted(st.binds)), "it")
        text = (f"depends on the values of the data loaded at line {facts.statements[origin].first}, which "
                "NetViz stands in for with its shapes only")
        graph.blocks.setdefault(i, []).append(_Block(name, i, i, text))


def _uses_values(st, facts: Facts) -> bool:
    for node in A.module_level([st.node]):
        if not isinstance(node, ast.Call):
            continue
        name = A.dotted(node.func)
        method = node.func.attr if isinstance(node.func, ast.Attribute) else (A.last(name) if name else None)
        if method == "to_categorical" and len(node.args) < 2 and not any(
                k.arg == "num_classes" for k in node.keywords):
            return True
        if method in VALUE_CALLS and not (st.rebinds & st.now):
            return True  # ``x = x / x.max()`` keeps the shape; ``n = y.max() + 1`` is a new value
    return False


def _dataset_origin(i: Optional[int], graph: "_Graph", facts: Facts) -> int:
    seen = set()
    while i is not None and not facts.statements[i].dataset and i not in seen:
        seen.add(i)
        i = next((j for _, j in graph.edges.get(i, ()) if j not in seen), None)
    return i if i is not None else 0


def _plain_value(stmt: ast.stmt, facts: Facts) -> bool:
    return isinstance(stmt, (ast.Assign, ast.AnnAssign)) and not _builds_layers(stmt, facts)


def _builds_layers(stmt: ast.stmt, facts: Facts) -> bool:
    """Calls Keras or TensorFlow, calls what a call returned (``Dense(3)(x)``), or calls an
    in-file function or class: model code, not a value to stand in for."""
    for node in A.module_level([stmt]):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Call):
                return True
            name = A.dotted(node.func)
            if name is None:
                continue
            full = A.resolve(name, facts.aliases)
            if full.split(".")[0] in ("keras", "tensorflow", "tf_keras"):
                return True
            if "." not in name and (name in facts.functions or name in facts.classes):
                return True
    return False


# -- the closure -----------------------------------------------------------------------------

class _Resolver:
    """Which statements a name read at a position needs (memoized per file)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._memo: dict[tuple[str, int, Optional[str]], tuple[list[int], Optional[int]]] = {}

    def resolve(self, name: str, pos: int, scope: Optional[str] = None) -> tuple[list[int], Optional[int]]:
        """``(statements to run, statement that blocks)`` for ``name`` read before statement ``pos``
        by code of ``scope`` (``None``: any), which sees the module's bindings and those of the
        lifted function bodies it runs in (``script.py``), not the locals of a ``main()``."""
        key = (name, pos, scope)
        if key not in self._memo:
            self._memo[key] = self._resolve(name, pos, scope)
        return self._memo[key]

    def _resolve(self, name: str, pos: int, scope: Optional[str]) -> tuple[list[int], Optional[int]]:
        facts = self.facts
        binders = [j for j in facts.binders.get(name, ()) if j < pos and visible(facts.statements[j].scope, scope)]
        chosen: list[int] = []
        passed = None
        for j in reversed(binders):
            st = facts.statements[j]
            if st.effect is None:
                chosen.append(j)
                if name in st.rebinds:
                    return chosen, None
            elif st.effect in PASSABLE and name not in st.mutates:  # a sweep's rebinding, not a change in place
                passed = j if passed is None else passed
            else:
                return chosen, j
        if not chosen and passed is not None:
            return [], passed
        if not binders and name not in _BUILTINS:
            chosen = [j for j in facts.star_imports if j < pos]  # ``from x import *`` may bind it
        return chosen, None

    def closure(self, roots: list[int], horizon: int, names: list[str], owner: int) -> "_Graph":
        """The statements ``roots`` need, transitively. ``names`` are read by ``owner`` when the
        target is evaluated (after ``horizon``)."""
        graph = _Graph(list(roots))
        todo = list(roots)
        reads = [(owner, n, horizon, None) for n in names]
        seen = set(roots)
        while True:
            for reader, name, pos, scope in reads:
                found, block = self.resolve(name, pos, scope)
                if block is not None:
                    graph.blocks.setdefault(reader, []).append(_Block(name, block, reader))
                for j in found:
                    graph.edges.setdefault(reader, []).append((name, j))
                    if j not in seen:
                        seen.add(j)
                        todo.append(j)
            if not todo:
                return graph
            i = todo.pop(0)
            st = self.facts.statements[i]
            reads = [*((i, n, i, st.scope) for n in sorted(st.now)),
                     *((i, n, horizon, st.scope) for n in sorted(st.later))]


@dataclass
class _Graph:
    """A target's slice as a graph: who needs whom, and which reads hit a statement that never runs."""

    roots: list[int]
    edges: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    """Statement -> ``(name, statement binding it)`` for each name it reads."""
    blocks: dict[int, list[_Block]] = field(default_factory=dict)

    @property
    def chosen(self) -> list[int]:
        found = set(self.roots)
        for pairs in self.edges.values():
            found.update(j for _, j in pairs)
        return sorted(found)

    def blame(self, plain) -> list[tuple[str, int, _Block]]:
        """``(name, statement to stand in, the block behind it)`` for each way to a block."""
        tainted: dict[int, _Block] = {i: blocks[0] for i, blocks in self.blocks.items()}
        changed = True
        while changed:
            changed = False
            for i, pairs in self.edges.items():
                if i not in tainted:
                    hit = next((tainted[j] for _, j in pairs if j in tainted), None)
                    if hit is not None:
                        tainted[i] = hit
                        changed = True
        found: list[tuple[str, int, _Block]] = []
        todo = [i for i in self.roots if i in tainted]
        seen = set(todo)
        while todo:
            i = todo.pop(0)
            found.extend((block.name, block.at, block) for block in self.blocks.get(i, ()))
            for name, j in self.edges.get(i, ()):
                if j in tainted and j not in seen:
                    seen.add(j)
                    if plain(j):
                        found.append((name, j, tainted[j]))
                    else:
                        todo.append(j)
        unique = {}
        for item in found:
            unique.setdefault((item[0], item[1]), item)
        return list(unique.values())


def _fingerprint(facts: Facts, target: Factory) -> str:
    """A digest of the slice's exact text at its exact lines (lines matter: layers record them)."""
    digest = hashlib.sha256(repr((target.args, target.kind, target.expr, target.after)).encode())
    for i in target.slice:
        st = facts.statements[i]
        digest.update(f"\0{st.first}\0".encode())
        digest.update("\n".join(facts.parsed.lines[st.first - 1:st.last]).encode("utf-8", "surrogatepass"))
        if st.replacement is not None:
            digest.update(b"\0=" + st.replacement.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]
