"""Stage 4: what to call each factory with.

In order: the ``build.factoryArgs`` setting, a ``# netviz: args=(...)`` comment, the file's
own top-level call (the first whose arguments are constant expressions: literals, names
of top-level values, arithmetic, tuple concatenation, subscripts, attributes, a few pure
builtins), then the defaults. Otherwise the factory needs arguments, and says so.
Variables need none: their assignment is the call.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.discovery import astutil as A
from netviz_lsp.discovery.calls import call_args
from netviz_lsp.discovery.facts import ARGS, Facts
from netviz_lsp.discovery.targets import Spec, Targets
from netviz_lsp.graph import BuildError

@dataclass
class Args:
    text: Optional[str] = None
    """Source to put between the call's parentheses; ``None`` when unknown."""
    origin: Optional[str] = None
    """``"settings"``, ``"comment"``, ``"call"`` or ``"defaults"``; ``None`` for variables and when unknown."""
    names: list[str] = field(default_factory=list)
    """Top-level names the arguments read (their bindings join the slice)."""
    error: Optional[BuildError] = None
    missing: list[str] = field(default_factory=list)


@dataclass
class Arguments:
    by_target: dict[str, Args]
    """Target name -> its arguments."""


def arguments(facts: Facts, found: Targets, settings: dict) -> Arguments:
    return Arguments({spec.name: _args(spec, facts, settings) if spec.kind == "factory" else Args("")
                      for spec in found.specs})


def _args(spec: Spec, facts: Facts, settings: dict) -> Args:
    name, fn = spec.name, spec.fn
    if settings.get(name) is not None:
        return Args(_settings_text(settings[name]), "settings")
    for line, text in spec.directives:
        match = ARGS.match(text)
        if match:
            args, problem = _literal_args(match.group(1))
            if problem is None:
                return Args(args, "comment")
            message = f"`# netviz: {text}` on {name}() is not a list of literal arguments: {problem}."
            return Args(error=BuildError("arguments", message, line=line, factory=name))
    for call in spec.calls:
        found = call_args(call, fn, facts)
        if found:
            return Args(found[0], "call", found[1])
    missing = A.required(fn)
    if not missing:
        return Args("", "defaults")
    return Args(error=needs_arguments(name, fn, missing), missing=missing)


def _settings_text(values) -> str:
    """JSON values as call arguments: a list is positional, an object keyword arguments."""
    if isinstance(values, dict):
        return ", ".join(f"{key}={value!r}" for key, value in values.items())
    return ", ".join(map(repr, values if isinstance(values, (list, tuple)) else [values]))


def _literal_args(text: str) -> tuple[Optional[str], Optional[str]]:
    """``(args, None)`` for ``(64, 12)``, ``(0.001,)``, ``0.001`` or ``(64, n=12)``, else
    ``(None, problem)``."""
    text = text.strip()
    if not text:
        return None, "nothing follows `args=`"
    problem = None
    # "(64, 12)" lists the arguments; "(1)+(2)" does not, so it is tried whole next.
    for inner in [text[1:-1], text] if text[0] + text[-1] == "()" else [text]:
        wrapped = f"_({inner})"
        try:
            call = ast.parse(wrapped, mode="eval").body
        except A.LITERAL_ERRORS as error:
            problem = problem or f"invalid syntax ({getattr(error, 'msg', error)})"
            continue
        if isinstance(call, ast.Call) and A.dotted(call.func) == "_":
            return _literal_call(call, wrapped)
    return None, problem


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except A.LITERAL_ERRORS:
        return False


def _literal_call(call: ast.Call, wrapped: str) -> tuple[Optional[str], Optional[str]]:
    """The source of ``call``'s arguments if all are literals, else ``(None, problem)``."""
    for value in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(value, ast.Starred) or not _is_literal(value):
            return None, f"`{ast.get_source_segment(wrapped, value)}` is not a literal"
    if any(k.arg is None for k in call.keywords):
        return None, "`**` unpacking is not a literal"
    parts = [ast.get_source_segment(wrapped, a) for a in call.args]
    parts += [f"{k.arg}={ast.get_source_segment(wrapped, k.value)}" for k in call.keywords]
    return ", ".join(parts), None


def needs_arguments(name: str, fn: ast.FunctionDef, missing: list[str]) -> BuildError:
    message = (f"{name}({', '.join(A.params(fn))}) needs arguments for: {', '.join(missing)}. Give them "
               "defaults, call it once at the top level with literal arguments, add a "
               "`# netviz: args=(...)` comment, or set netviz.build.factoryArgs.")
    return BuildError("arguments", message, line=fn.lineno, factory=name)
