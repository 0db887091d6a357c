"""The file's own top-level calls of a factory: are their arguments constant expressions?

Shared by stage 3 (a factory assigned once keeps its name only when its call can be
evaluated as its arguments) and stage 4 (those arguments). ``ast`` only.
"""

from __future__ import annotations

import ast
from typing import Optional

from netviz_lsp.discovery import astutil as A
from netviz_lsp.discovery.facts import Facts
from netviz_lsp.discovery.hypermodels import Hyper

#: Builtins a constant argument expression may call: pure, cheap, no I/O.
PURE_BUILTINS = frozenset({"len", "int", "float", "str", "bool", "tuple", "list", "dict", "set", "frozenset",
                           "min", "max", "abs", "round", "sum", "range", "sorted", "reversed", "divmod", "pow"})
_CONSTANT_NODES = (ast.Constant, ast.Name, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.BinOp, ast.UnaryOp,
                   ast.BoolOp, ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Attribute, ast.JoinedStr,
                   ast.FormattedValue, ast.Starred, ast.Call, ast.keyword, ast.expr_context, ast.operator,
                   ast.unaryop, ast.boolop, ast.cmpop)


def constant_names(node: ast.AST, makes: frozenset = frozenset()) -> Optional[set[str]]:
    """The names a constant expression reads, or ``None`` when ``node`` is not one. ``makes``:
    top-level classes it may also call (``Config()``; ``builders.safe_classes``)."""
    names: set[str] = set()
    for part in ast.walk(node):
        if not isinstance(part, _CONSTANT_NODES):
            return None
        if isinstance(part, ast.Call) and not (isinstance(part.func, ast.Name)
                                               and (part.func.id in PURE_BUILTINS or part.func.id in makes)):
            return None
        if isinstance(part, ast.Name):
            names.add(part.id)
    return names - PURE_BUILTINS


def call_args(call: ast.Call, fn: ast.FunctionDef, facts: Facts, hyper: Optional[Hyper] = None,
              makes: frozenset = frozenset()) -> Optional[tuple[str, list[str]]]:
    """The source of ``call``'s arguments and the names they read, if every argument is a
    constant expression over names some top-level statement that runs binds, and together
    they supply every required parameter.

    ``hyper``: ``fn`` is a KerasTuner hypermodel; whatever the call passes for its
    hyperparameters (``best_hps[0]``, a tuner's result) is replaced by a fresh
    ``HyperParameters()``, which is also supplied when the call leaves that parameter out."""
    args = fn.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    by_keyword = {a.arg for a in args.args + args.kwonlyargs}
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None
    if len(call.args) > len(positional) and not args.vararg:
        return None
    if any(k.arg is None or (k.arg not in by_keyword and not args.kwarg) for k in call.keywords):
        return None
    given = set(positional[:len(call.args)]) | {k.arg for k in call.keywords}
    if set(A.required(fn)) - given - ({hyper.param} if hyper else set()):
        return None
    seg = facts.parsed.segment
    names: set[str] = set()
    parts: list[str] = []
    pairs = [(positional[i] if i < len(positional) else None, None, a) for i, a in enumerate(call.args)]
    pairs += [(k.arg, k.arg, k.value) for k in call.keywords]
    for param, keyword, value in pairs:
        prefix = f"{keyword}=" if keyword else ""
        if hyper is not None and param == hyper.param:
            parts.append(prefix + hyper.text)
            continue
        found = constant_names(value, makes)
        if found is None:
            return None
        names |= found
        parts.append(prefix + seg(value))
    if any(not any(facts.runs(i) for i in facts.binders.get(n, ())) for n in names):
        return None  # a name only a loop, a download or the like binds
    if hyper is not None:
        if hyper.param not in given and positional[:1] == [hyper.param]:
            parts.insert(0, hyper.text)  # nothing else is positional: the call gave hp no value
        elif hyper.param not in given:
            parts.append(f"{hyper.param}={hyper.text}")
        names |= set(hyper.names)
    return ", ".join(parts), sorted(names)
