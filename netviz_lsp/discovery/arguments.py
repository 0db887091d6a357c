"""Stage 4: what to call each factory with.

In order: the ``build.factoryArgs`` setting, a ``# netviz: args=(...)`` comment, the file's
own top-level call (the first whose arguments are constant expressions: literals, names
of top-level values, arithmetic, tuple concatenation, subscripts, attributes, a few pure
builtins), then the defaults. Otherwise the factory needs arguments, and says so.
Variables need none: their assignment is the call.

A KerasTuner hypermodel (``hypermodels.py``) gets a fresh ``HyperParameters()`` for its
hyperparameters parameter: in place of whatever the file's call passes there, and added to
arguments from the settings or a comment that leave it out (no positional arguments, and no
keyword names it). Only its other required parameters can be missing. A ``HyperModel``
subclass's arguments are its constructor's, and its expression calls ``build`` on the instance.
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
    expr: Optional[str] = None
    """What the worker evaluates, when it is not ``name(text)`` (a ``HyperModel`` subclass)."""


@dataclass
class Arguments:
    by_target: dict[str, Args]
    """Target name -> its arguments."""


def arguments(facts: Facts, found: Targets, settings: dict) -> Arguments:
    return Arguments({spec.name: _args(spec, facts, settings) if spec.kind == "factory" else Args("")
                      for spec in found.specs})


def _args(spec: Spec, facts: Facts, settings: dict) -> Args:
    given = _given(spec, facts, settings)
    if spec.builder is not None and given.text is not None:
        kept = spec.builder.kept
        given.expr = f"{spec.builder.cls}({given.text})." + (kept or f"{spec.builder.method.name}()")
        return given
    hyper = spec.hyper
    if hyper is None or given.text is None:
        return given
    if hyper.method is not None:
        given.expr = f"{spec.name}({given.text}).{hyper.method}({hyper.text})"
    elif given.origin in ("settings", "comment") and _leaves_out(given.text, hyper.param):
        given.text = ", ".join(filter(None, [given.text, f"{hyper.param}={hyper.text}"]))
    else:
        return given
    given.names = sorted({*given.names, *hyper.names})
    return given


def _given(spec: Spec, facts: Facts, settings: dict) -> Args:
    name, fn = spec.name, spec.fn
    function_hyper = spec.hyper if spec.hyper is not None and spec.hyper.method is None else None
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
        found = call_args(call, fn, facts, function_hyper, spec.makes)
        if found:
            return Args(found[0], "call", found[1])
    missing = [p for p in A.required(fn) if function_hyper is None or p != function_hyper.param]
    if not missing:
        if function_hyper is None:
            return Args("", "defaults")
        first = [a.arg for a in fn.args.posonlyargs + fn.args.args][:1] == [function_hyper.param]
        text = function_hyper.text if first else f"{function_hyper.param}={function_hyper.text}"
        return Args(text, "defaults", list(function_hyper.names))
    return Args(error=needs_arguments(name, fn, missing), missing=missing)


def _leaves_out(text: str, param: str) -> bool:
    """Arguments ``text`` (settings or a comment: literals) give no positional argument and
    no ``param=``."""
    try:
        call = ast.parse(f"_({text})", mode="eval").body
    except A.LITERAL_ERRORS:
        return False
    return not call.args and all(k.arg != param for k in call.keywords)


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
