"""Which top-level functions are factories: what they build, call, are annotated or marked with."""

from __future__ import annotations

import ast
import tokenize
from dataclasses import dataclass
from typing import Callable


from netviz_lsp.discovery.module import (_DIRECTIVE, _LITERAL_ERRORS, MODEL_CLASSES,
                                         TRAINING_CALLS, _Module, _aliases, _dotted, _last, _resolve)

# -- factories -------------------------------------------------------------------------------

@dataclass
class _Scan:
    """What one top-level function's body calls."""

    called: set[str]
    """Dotted names of everything called, imports resolved (``keras.applications.ResNet50``)."""
    names: set[str]
    """Bare names called: in-file functions and classes."""

    def builds(self, model_classes: set[str]) -> bool:
        """Constructs a model, a ``keras.applications`` model, or an in-file model class."""
        return any(_last(d) in MODEL_CLASSES or _is_application(d) for d in self.called) or bool(
            self.names & model_classes)

    def trains(self) -> bool:
        return any(_last(d) in TRAINING_CALLS for d in self.called)


def _is_application(dotted: str) -> bool:
    """``keras.applications...X`` with a class-like ``X``: ``preprocess_input`` builds nothing."""
    parts = dotted.split(".")
    return parts[-1][:1].isupper() and any(
        parts[i:i + 2] == ["keras", "applications"] for i in range(len(parts) - 2))


def _scan(fn: ast.FunctionDef, aliases: dict[str, str]) -> _Scan:
    """The calls anywhere in ``fn``'s body, nested functions and lambdas included."""
    nodes = [n for stmt in fn.body for n in ast.walk(stmt)]
    local = {**aliases, **_aliases(n for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom)))}
    called = [d for n in nodes if isinstance(n, ast.Call) for d in [_dotted(n.func)] if d]
    return _Scan({_resolve(d, local) for d in called}, {d for d in called if "." not in d})


def _model_classes(mod: _Module) -> set[str]:
    """Top-level classes that subclass a Keras model, directly or through each other."""
    seeds, subclasses = set(), {}
    for stmt in mod.body:
        if isinstance(stmt, ast.ClassDef):
            for base in filter(None, map(_dotted, stmt.bases)):
                if _last(_resolve(base, mod.aliases)) in MODEL_CLASSES:
                    seeds.add(stmt.name)
                subclasses.setdefault(base, set()).add(stmt.name)
    return _reach(seeds, subclasses)


def _returns_model(fn: ast.FunctionDef, aliases: dict[str, str], model_classes: set[str]) -> bool:
    """Annotated ``-> keras.Model`` and the like, string annotations included."""
    returns = fn.returns
    if isinstance(returns, ast.Constant) and isinstance(returns.value, str):
        try:
            returns = ast.parse(returns.value.strip(), mode="eval").body
        except _LITERAL_ERRORS:
            return False
    dotted = _dotted(returns)
    return bool(dotted) and (_last(_resolve(dotted, aliases)) in MODEL_CLASSES or dotted in model_classes)


def _reach(seeds: set[str], edges: dict[str, set[str]],
           allowed: Callable[[str], bool] = lambda name: True) -> set[str]:
    """``seeds`` plus every allowed name reachable from them along ``edges``."""
    found, todo = set(seeds), list(seeds)
    while todo:
        for name in edges.get(todo.pop(), ()):
            if name not in found and allowed(name):
                found.add(name)
                todo.append(name)
    return found


def _candidates(mod: _Module, fns: dict[str, int], scans: dict[str, _Scan], explicit: set[str],
                classes: set[str]) -> set[str]:
    """Functions that build a model, are annotated or marked to, or call such a function.

    Functions that also train or download are left out unless marked explicitly: previewing
    them would run the training."""
    seeds = {name for name, i in fns.items() if name in explicit or not scans[name].trains() and (
        scans[name].builds(classes) or _returns_model(mod.body[i], mod.aliases, classes))}
    callers: dict[str, set[str]] = {}
    for name, scan in scans.items():
        for callee in scan.names & fns.keys():
            if callee != name:
                callers.setdefault(callee, set()).add(name)
    return _reach(seeds, callers, lambda name: not scans[name].trains())


# -- comments --------------------------------------------------------------------------------

def _directives(mod: _Module, fn: ast.FunctionDef, index: int) -> list[tuple[int, str]]:
    """``(line, text after "netviz:")`` of the directive comments that belong to ``fn``: on
    its header lines and first body line, or in the comment block right above it."""
    first = mod.body[index - 1].end_lineno + 1 if index else 1
    last = fn.body[0].lineno
    if not any("netviz" in line for line in mod.lines[first - 1:last]):
        return []  # the common case: no tokenizing at all
    found, comment_lines = _comments(mod.lines, first, last)
    top = min([d.lineno for d in fn.decorator_list] + [fn.lineno])
    above = top - 1
    while above in comment_lines:
        above -= 1
    return [(line, found[line]) for line in range(above + 1, last + 1) if line in found]


def _comments(lines: list[str], first: int, last: int) -> tuple[dict[int, str], set[int]]:
    """Directives and comment-only lines among ``lines[first..last]`` (1-based), which start
    between statements. ``tokenize`` keeps a ``#`` inside a string from counting."""
    found, comment_lines = {}, set()
    chunk = iter([line + "\n" for line in lines[first - 1:last]])
    try:
        for token in tokenize.generate_tokens(lambda: next(chunk, "")):
            if token.type == tokenize.COMMENT:
                line = first + token.start[0] - 1
                if not token.line[:token.start[1]].strip():
                    comment_lines.add(line)
                match = _DIRECTIVE.match(token.string)
                if match:
                    found[line] = match.group(1).strip()
    except (tokenize.TokenError, SyntaxError):
        pass  # the chunk ends inside the first body statement; its comments were read already
    return found, comment_lines


