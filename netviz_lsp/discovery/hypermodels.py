"""KerasTuner hypermodels: factories that take KerasTuner's hyperparameters, and
``keras_tuner.HyperModel`` subclasses. ``ast`` only.

A function's parameter takes the hyperparameters when the file passes the function to a tuner
(``kt.RandomSearch(hypermodel=build_model, ...)``, or first positional), calls it with
``kt.HyperParameters()`` at that parameter, calls ``p.Int/Float/Choice/Boolean/Fixed/
conditional_scope`` on it (even in a file that never imports KerasTuner: its hypermodels
module), or (in a file that imports KerasTuner) names it ``hp``. Such a
factory is built with a real, fresh ``keras_tuner.HyperParameters()``: every hyperparameter
then takes the value KerasTuner gives it in a first trial (its default: ``min_value`` for
``Int``/``Float``, the first choice, ``False``). A ``HyperModel`` subclass is a target named
after the class, built as ``Cls(<its constructor's arguments>).build(HyperParameters())``.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.discovery import astutil as A
from netviz_lsp.discovery.facts import Facts

#: Import names of KerasTuner (``kerastuner`` is its deprecated alias).
MODULES = frozenset({"keras_tuner", "kerastuner"})
#: Methods of ``HyperParameters`` whose call on a parameter marks it as the hyperparameters.
HP_METHODS = frozenset({"Int", "Float", "Choice", "Boolean", "Fixed", "conditional_scope"})
#: Tuners that take a hypermodel (first positional argument or ``hypermodel=``).
TUNERS = frozenset({"RandomSearch", "Hyperband", "BayesianOptimization", "GridSearch", "Tuner"})
#: What a fresh hyperparameters object is made with when the file names KerasTuner nowhere at the top.
FALLBACK = '__import__("keras_tuner").HyperParameters()'


@dataclass
class Hyper:
    """How a hypermodel target gets its hyperparameters."""

    param: str
    """The parameter (of the function, or of the class's ``build``) that takes them."""
    text: str
    """Source of a fresh ``HyperParameters()``, through the file's own import when it has one."""
    names: list[str] = field(default_factory=list)
    """Top-level names ``text`` reads (the import joins the slice)."""
    method: Optional[str] = None
    """Classes: the method that builds the model (``build``)."""
    calls: list[ast.Call] = field(default_factory=list)
    """Functions: calls of it a tuner is given instead of the function, whose other arguments
    count as the file's own calls: ``functools.partial(build_model, num_classes=10)`` (read as
    ``build_model(num_classes=10)``) and ``lambda hp: build_model(hp, 10)`` (its body)."""


@dataclass
class Tuning:
    """What the file does with KerasTuner."""

    imported: bool
    functions: dict[str, Hyper]
    """Top-level function name -> its hyperparameters, for hypermodel functions."""
    classes: dict[str, Hyper]
    """Top-level ``HyperModel`` subclass name -> how its ``build`` gets them."""


def tuning(facts: Facts) -> Tuning:
    nodes = list(ast.walk(facts.parsed.tree)) if _mentions(facts) else []
    imports = [n for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom))]
    imported = any(_root(n) in MODULES for n in imports)
    aliases = {**A.aliases(imports), **facts.aliases}  # imports inside functions too; the top level wins
    text, names = _fresh(facts)
    calls = [n for n in nodes if isinstance(n, ast.Call)] if imported else []
    functions = {}
    if not imported and not any(f".{m}(" in facts.parsed.source for m in HP_METHODS):
        return Tuning(False, {}, {})  # the common case, as the user types: no walk of every body
    for name, i in facts.functions.items():
        param, given = _function_param(facts.body[i], calls, aliases, imported)
        if param is not None:
            functions[name] = Hyper(param, text, names, calls=given)
    if not imported:
        return Tuning(False, functions, {})
    classes = {}
    for name in _hypermodel_classes(facts, aliases):
        build = method(facts, name, "build")
        params = [a.arg for a in build.args.posonlyargs + build.args.args] if build else []
        if len(params) >= 2:
            classes[name] = Hyper(params[1], text, names, "build")
    return Tuning(True, functions, classes)


def is_hyperparameters(node: ast.AST, aliases: dict[str, str]) -> bool:
    """``kt.HyperParameters()``, ``HyperParameters()`` imported from KerasTuner: a fresh one."""
    if not (isinstance(node, ast.Call) and not node.args and not node.keywords):
        return False
    name = A.dotted(node.func)
    full = A.resolve(name, aliases) if name else ""
    return full.split(".")[0] in MODULES and A.last(full) == "HyperParameters"


def method(facts: Facts, cls: str, name: str) -> Optional[ast.FunctionDef]:
    """``cls.name``'s ``def``, looked up through the file's own base classes."""
    seen = set()
    while cls in facts.classes and cls not in seen:
        seen.add(cls)
        node = facts.body[facts.classes[cls]]
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
                return stmt
        bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
        cls = bases[0] if bases else ""
    return None


def constructor(facts: Facts, cls: str, keywords: bool = True) -> ast.FunctionDef:
    """The class's ``__init__`` without ``self`` (what a call of the class supplies); when the
    file does not define one, ``HyperModel``'s own takes keyword arguments only (``keywords``;
    else ``object``'s takes none)."""
    init = method(facts, cls, "__init__")
    node = facts.body[facts.classes[cls]]
    if init is None:
        empty = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                              kwarg=ast.arg("kwargs") if keywords else None, defaults=[])
        return ast.FunctionDef(name=cls, args=empty, body=[], decorator_list=[], returns=None,
                               lineno=node.lineno, end_lineno=node.end_lineno, col_offset=0)
    trimmed = copy.copy(init)
    trimmed.args = copy.copy(init.args)
    if init.args.posonlyargs:
        trimmed.args.posonlyargs = init.args.posonlyargs[1:]
    else:
        trimmed.args.args = init.args.args[1:]
    trimmed.name = cls
    trimmed.lineno, trimmed.end_lineno = node.lineno, node.end_lineno  # errors point at the class
    return trimmed


# -- evidence --------------------------------------------------------------------------------

def _mentions(facts: Facts) -> bool:
    return any(module in facts.parsed.source for module in MODULES)


def _root(node: ast.AST) -> str:
    if isinstance(node, ast.ImportFrom):
        return "" if node.level else (node.module or "").split(".")[0]
    return next((a.name.split(".")[0] for a in node.names if a.name.split(".")[0] in MODULES), "")


def _fresh(facts: Facts) -> tuple[str, list[str]]:
    """Source of a fresh ``HyperParameters()`` through a top-level import, and the name it reads."""
    for local, full in sorted(facts.aliases.items(), key=lambda item: (len(item[1]), item[0])):
        if full in MODULES:
            return f"{local}.HyperParameters()", [local]
        if full.split(".")[0] in MODULES and A.last(full) == "HyperParameters":
            return f"{local}()", [local]
    return FALLBACK, []


def _function_param(fn: ast.FunctionDef, calls: list[ast.Call], aliases: dict[str, str],
                    imported: bool) -> tuple[Optional[str], list[ast.Call]]:
    """The parameter that takes the hyperparameters, and the calls a tuner is given instead of ``fn``."""
    positional = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    named = set(positional) | {a.arg for a in fn.args.kwonlyargs}
    for call in calls:
        full = A.resolve(A.dotted(call.func) or "", aliases)
        if full.split(".")[0] in MODULES and A.last(full) in TUNERS and positional:
            for value in [k.value for k in call.keywords if k.arg == "hypermodel"] + call.args[:1]:
                if isinstance(value, ast.Name) and value.id == fn.name:
                    return positional[0], []
                param, given = _wrapped(value, fn, positional, aliases)
                if param is not None:
                    return param, given
        if isinstance(call.func, ast.Name) and call.func.id == fn.name:
            for i, value in enumerate(call.args):
                if i < len(positional) and is_hyperparameters(value, aliases):
                    return positional[i], []
            for keyword in call.keywords:
                if keyword.arg in named and is_hyperparameters(keyword.value, aliases):
                    return keyword.arg, []
    for node in (n for stmt in fn.body for n in ast.walk(stmt)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in HP_METHODS
                and isinstance(node.func.value, ast.Name) and node.func.value.id in named):
            return node.func.value.id, []
    return ("hp" if imported and "hp" in named else None), []


def _wrapped(value: ast.AST, fn: ast.FunctionDef, positional: list[str],
             aliases: dict[str, str]) -> tuple[Optional[str], list[ast.Call]]:
    """``functools.partial(fn, ...)`` or ``lambda hp: fn(..., hp, ...)`` given to a tuner: the
    parameter the tuner's hyperparameters reach, and the call it stands for."""
    if (isinstance(value, ast.Call) and A.resolve(A.dotted(value.func) or "", aliases) == "functools.partial"
            and value.args and isinstance(value.args[0], ast.Name) and value.args[0].id == fn.name
            and not any(isinstance(a, ast.Starred) for a in value.args)):
        free = [p for p in positional[len(value.args) - 1:] if p not in {k.arg for k in value.keywords}]
        call = ast.copy_location(ast.Call(func=value.args[0], args=value.args[1:], keywords=value.keywords), value)
        return (free[0], [call]) if free else (None, [])
    if not (isinstance(value, ast.Lambda) and len(value.args.args) == 1 and isinstance(value.body, ast.Call)
            and isinstance(value.body.func, ast.Name) and value.body.func.id == fn.name):
        return None, []
    hp, call = value.args.args[0].arg, value.body
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Name) and arg.id == hp and i < len(positional):
            return positional[i], [call]
    for keyword in call.keywords:
        if isinstance(keyword.value, ast.Name) and keyword.value.id == hp:
            return keyword.arg, [call]
    return None, []


def _hypermodel_classes(facts: Facts, aliases: dict[str, str]) -> list[str]:
    """Top-level classes that subclass ``keras_tuner.HyperModel``, directly or through each other."""
    found: list[str] = []
    changed = True
    while changed:
        changed = False
        for name, i in facts.classes.items():
            if name in found:
                continue
            for base in facts.body[i].bases:
                dotted = A.dotted(base) or ""
                full = A.resolve(dotted, aliases)
                if (full.split(".")[0] in MODULES and A.last(full) == "HyperModel") or dotted in found:
                    found.append(name)
                    changed = True
                    break
    return sorted(found, key=facts.classes.__getitem__)
