"""Which top-level functions of a file build Keras models, with what arguments, and what they need.

Reads the source with ``ast``, ``symtable`` and ``tokenize`` only: nothing here imports or
runs the user's code, and ``discover`` never raises for any input string (a file that does
not parse comes back as a ``syntax`` error value). Lines are 1-based. A *slice* is a list of
indexes into ``ast.parse(source).body``, ascending; ``slice_module`` turns one back into a
module the worker compiles and runs, so only imports and the definitions the factories
reference run, never top-level training, downloads, plotting or ``__main__`` blocks.

The package is split by concern: ``module`` (the parsed file: statements, bindings, reads,
aliases), ``detect`` (which functions are factories), ``arguments`` (what to call them
with); this module puts them together and holds the public API.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.graph import BuildError

# Package-private helpers (underscored): the package is one unit, split by concern.
from netviz_lsp.discovery.arguments import _arguments, _needs_arguments, _params, _required
from netviz_lsp.discovery.detect import _candidates, _directives, _model_classes, _returns_model, _scan
from netviz_lsp.discovery.module import _ARGS, _PREVIEW, _Module, _module_level, _parse, _too_deep


@dataclass
class Factory:
    """A top-level function to call for a model preview."""

    name: str
    line: int
    """Line of the ``def`` keyword (not of a decorator)."""
    end_line: int
    params: list[str]
    """Parameter names in order, ``*args``/``**kwargs`` with their stars."""
    args: Optional[str]
    """Source to put between the call's parentheses (``""``, ``"0.001"``); ``None`` when unknown."""
    args_origin: Optional[str]
    """``"settings"``, ``"comment"``, ``"defaults"`` or ``"call"``; ``None`` when unknown."""
    missing: list[str] = field(default_factory=list)
    """Required parameters nothing supplies (non-empty only when ``args`` is ``None``)."""
    slice: list[int] = field(default_factory=list)
    """Top-level statements this factory needs, as ascending indexes into the module body."""
    fingerprint: str = ""
    """Changes whenever what a build of this factory runs changes: its slice's text and lines, its arguments."""
    declared: bool = False
    """Marked (``# netviz:`` comment, ``factoryArgs``) or annotated to return a model: if it returns
    something else, that is worth an error rather than a quiet drop."""


@dataclass
class Discovery:
    """Everything ``discover`` found in one file."""

    factories: list[Factory] = field(default_factory=list)
    """In source order, including those whose arguments are unknown."""
    slice: list[int] = field(default_factory=list)
    """Ascending union of the slices of the factories whose arguments are known."""
    errors: list[BuildError] = field(default_factory=list)
    """``syntax`` (file-wide) or ``arguments`` (one factory) errors."""
    imports: list[str] = field(default_factory=list)
    """Modules imported by module-level code, dotted; relative ones keep their dots (``.x``)."""


def discover(source: str, path: str = "<file>", factory_args: Optional[dict[str, list]] = None) -> Discovery:
    """Find the factories of ``source``; never raises, never runs it.

    ``factory_args`` maps factory names to argument lists (the user's settings); they win over
    ``# netviz: args=`` comments, which win over defaults, which win over a top-level call.
    """
    parsed = _parse(source, path)
    if isinstance(parsed, BuildError):
        return Discovery(errors=[parsed])
    settings = factory_args if isinstance(factory_args, dict) else {}
    try:
        return _discover(_Module(source, *parsed), {k: v for k, v in settings.items() if v is not None})
    except (RecursionError, MemoryError):
        return Discovery(errors=[_too_deep()])


def slice_module(source: str, indexes: list[int], path: str) -> ast.Module:
    """The module made of ``body[i]`` for ``i`` in ``indexes``, in source order, original lines kept.

    Raises ``SyntaxError``/``ValueError`` if ``source`` does not parse (``discover`` reported
    that already) and ``ValueError`` for an index outside the body (a slice of another version).
    """
    body = ast.parse(source, path).body
    keep = sorted(set(indexes))
    if keep and not (0 <= keep[0] and keep[-1] < len(body)):
        raise ValueError(f"slice {keep} does not fit a module of {len(body)} statements")
    return ast.Module(body=[body[i] for i in keep], type_ignores=[])


# -- putting it together ---------------------------------------------------------------------

def _discover(mod: _Module, settings: dict) -> Discovery:
    # A name defined twice: the later def is the one a call finds.
    fns = {s.name: i for i, s in enumerate(mod.body) if isinstance(s, ast.FunctionDef)}
    scans = {name: _scan(mod.body[i], mod.aliases) for name, i in fns.items()}
    directives = {name: _directives(mod, mod.body[i], i) for name, i in fns.items()}
    explicit = {name for name, found in directives.items() if any(
        _PREVIEW.match(text) or _ARGS.match(text) for _, text in found)} | (settings.keys() & fns.keys())
    classes = _model_classes(mod)
    candidates = _candidates(mod, fns, scans, explicit, classes)
    helpers = {callee for name in candidates for callee in scans[name].names - {name}}
    calls: dict[str, list[ast.Call]] = {}
    for node in _module_level(mod.body):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in candidates:
            calls.setdefault(node.func.id, []).append(node)
    found = Discovery(imports=_import_names(mod.imports))
    for name in sorted(candidates, key=fns.__getitem__):
        fn = mod.body[fns[name]]
        calls_in_order = sorted(calls.get(name, ()), key=lambda c: (c.lineno, c.col_offset))
        args = _arguments(name, fn, settings, directives[name], calls_in_order, mod)
        missing = _required(fn) if args.text is None else []
        if args.text is None and args.error is None and name in helpers and name not in explicit:
            continue  # a building block called by another factory, previewed through it
        piece = mod.closure([*mod.always, fns[name]], args.names)
        found.factories.append(Factory(name, fn.lineno, fn.end_lineno, _params(fn), args.text, args.origin,
                                       missing, piece, _fingerprint(mod, piece, args.text),
                                       name in explicit or _returns_model(fn, mod.aliases, classes)))
        if args.text is None:
            found.errors.append(args.error or _needs_arguments(name, fn, missing))
    found.slice = sorted({i for f in found.factories if f.args is not None for i in f.slice})
    return found


def _fingerprint(mod: _Module, piece: list[int], args: Optional[str]) -> str:
    """A digest of the slice's exact text at its exact lines (lines matter: layers record them)."""
    digest = hashlib.sha256(repr(args).encode())
    for i in piece:
        stmt = mod.body[i]
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        digest.update(f"\0{first}\0".encode())
        digest.update("\n".join(mod.lines[first - 1:stmt.end_lineno]).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def _import_names(imports: list[ast.AST]) -> list[str]:
    """Dotted names that may be modules: ``from pkg import sub`` gives ``pkg`` and ``pkg.sub``."""
    names: dict[str, None] = {}
    for node in imports:
        if isinstance(node, ast.Import):
            names.update((alias.name, None) for alias in node.names)
            continue
        base = "." * node.level + (node.module or "")
        if node.module:
            names[base] = None
        joiner = "." if node.module else ""
        names.update((f"{base}{joiner}{alias.name}", None) for alias in node.names if alias.name != "*")
    return list(names)

