"""What to call a factory with: settings, a ``# netviz: args=`` comment, defaults, or a top-level call."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.graph import BuildError

from netviz_lsp.discovery.module import _ARGS, _LITERAL_ERRORS, _Module, _dotted

# -- arguments -------------------------------------------------------------------------------

@dataclass
class _Args:
    text: Optional[str] = None
    origin: Optional[str] = None
    names: list[str] = field(default_factory=list)
    """Top-level names the arguments read (their assignments join the slice)."""
    error: Optional[BuildError] = None


def _required(fn: ast.FunctionDef) -> list[str]:
    args = fn.args
    positional = args.posonlyargs + args.args
    required = positional[:len(positional) - len(args.defaults)]
    return [a.arg for a in required] + [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]


def _params(fn: ast.FunctionDef) -> list[str]:
    args = fn.args
    star = [f"*{args.vararg.arg}"] if args.vararg else []
    stars = [f"**{args.kwarg.arg}"] if args.kwarg else []
    return [a.arg for a in args.posonlyargs + args.args] + star + [a.arg for a in args.kwonlyargs] + stars


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except _LITERAL_ERRORS:
        return False


def _arguments(name: str, fn: ast.FunctionDef, settings: dict, directives: list[tuple[int, str]],
               calls: list[ast.Call], mod: _Module) -> _Args:
    """The arguments to call ``fn`` with: settings, comment, defaults, then a top-level call."""
    if settings.get(name) is not None:
        return _Args(_settings_text(settings[name]), "settings")
    for line, text in directives:
        match = _ARGS.match(text)
        if match:
            args, problem = _literal_args(match.group(1))
            if problem is None:
                return _Args(args, "comment")
            message = f"`# netviz: {text}` on {name}() is not a list of literal arguments: {problem}."
            return _Args(error=BuildError("arguments", message, line=line, factory=name))
    if not _required(fn):
        return _Args("", "defaults")
    for call in calls:
        found = _call_args(call, fn, mod)
        if found:
            return _Args(found[0], "call", found[1])
    return _Args()


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
        except _LITERAL_ERRORS as error:
            problem = problem or f"invalid syntax ({getattr(error, 'msg', error)})"
            continue
        if isinstance(call, ast.Call) and _dotted(call.func) == "_":
            return _literal_call(call, wrapped)
    return None, problem


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


def _call_args(call: ast.Call, fn: ast.FunctionDef, mod: _Module) -> Optional[tuple[str, list[str]]]:
    """The source of ``call``'s arguments and the names they read, if every argument is a
    literal or a top-level assigned name and together they supply every required parameter."""
    args = fn.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    by_keyword = {a.arg for a in args.args + args.kwonlyargs}
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None
    if len(call.args) > len(positional) and not args.vararg:
        return None
    if any(k.arg is None or (k.arg not in by_keyword and not args.kwarg) for k in call.keywords):
        return None
    if set(_required(fn)) - set(positional[:len(call.args)]) - {k.arg for k in call.keywords}:
        return None
    names = []
    for value in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(value, ast.Name) and value.id in mod.simple:
            names.append(value.id)
        elif not _is_literal(value):
            return None
    parts = [mod.segment(a) for a in call.args] + [f"{k.arg}={mod.segment(k.value)}" for k in call.keywords]
    return ", ".join(parts), names


def _needs_arguments(name: str, fn: ast.FunctionDef, missing: list[str]) -> BuildError:
    message = (f"{name}({', '.join(_params(fn))}) needs arguments for: {', '.join(missing)}. Give them "
               "defaults, call it once at the top level with literal arguments, add a "
               "`# netviz: args=(...)` comment, or set netviz.build.factoryArgs.")
    return BuildError("arguments", message, line=fn.lineno, factory=name)


