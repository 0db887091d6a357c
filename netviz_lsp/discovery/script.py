"""What a script runs: its top-level statements with the main guard's body and the bodies of
the functions it runs (``main()``, ``train()``, ``sys.exit(main())``, ``app.run(main)``) in
their place, in the order the script runs them.

A training script often does all its work under ``if __name__ == "__main__":`` or in a
``main()`` that the guard calls. ``script_body`` lifts those statements into the list every
stage reads as "the top-level statements" (indexes into it are what slices hold), so they are
judged by the same effects table, sliced, and built like top-level code. A lifted function's
parameters become assignments at their own place in the ``def`` (to the call's arguments, or
to their defaults); a last ``return`` is dropped; statements after an unconditional
``return`` never run, and a statement holding a ``return`` deeper inside is a
``"returns"`` statement (``effects``) that never runs. The worker compiles this same list
(``worker/build.py``), so indexes and lines agree. ``ast`` only; never raises.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.discovery import astutil as A
from netviz_lsp.discovery.effects import call_reason, classify, excluded_from_factories

#: The scope of the main guard's own statements.
GUARD = "__main__"
#: How deep lifted functions may call further lifted functions (``main()`` -> ``train()``).
MAX_DEPTH = 4
#: Calls that run a function as the script's entry point: ``sys.exit(main())`` and friends take
#: the function's call as their argument; ``app.run(main)`` takes the function itself.
EXITS = frozenset({"sys.exit", "exit", "quit", "SystemExit", "os._exit"})
RUNNERS = frozenset({"app.run", "absl.app.run", "tf.app.run", "tf.compat.v1.app.run",
                     "tensorflow.compat.v1.app.run", "tensorflow.app.run"})
#: Runners that call the function they are given with what the command line holds: with no
#: arguments, each parameter takes its default (typer's ``typer.Option(64)`` default: ``typer_default``).
CLI_RUNNERS = {"typer.run": "typer", "fire.Fire": "fire"}
#: typer's parameter declarations: their first argument (or ``default=``) is the default.
TYPER_PARAMS = frozenset({"typer.Option", "typer.Argument", "typer.params.Option", "typer.params.Argument"})
#: Argument expressions a lifted call may pass: constants, names, attributes and simple arithmetic.
_SIMPLE = (ast.Constant, ast.Name, ast.Attribute, ast.Tuple, ast.List, ast.Dict, ast.Set, ast.UnaryOp,
           ast.BinOp, ast.expr_context, ast.operator, ast.unaryop, ast.Subscript, ast.Slice)


@dataclass
class Script:
    body: list[ast.stmt]
    """The statements as the script runs them: indexes into this list are statement indexes."""
    scopes: list[str]
    """Per statement: ``""`` at the module level, ``GUARD`` in the main guard, else the lifted
    function's name (``"main"``; ``"main.train"`` for a function ``main`` runs)."""
    lifted: dict[str, ast.FunctionDef] = field(default_factory=dict)
    """Function name -> its ``def``, for each function whose body was lifted."""
    apps: dict[str, str] = field(default_factory=dict)
    """typer apps (``app = typer.Typer()``) with one ``@app.command()`` function -> that function:
    ``app()`` runs it."""
    returns: dict[str, str] = field(default_factory=dict)
    """Data factories (``_data_factory``) lifted at the end of the module -> the name they return:
    the model target of that name in their body is named after the function."""


def script_body(tree: ast.Module) -> Script:
    """``tree``'s body with the main guard and the functions the script runs lifted in place."""
    try:
        functions = {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef)}
        imports = [n for n in A.module_level(tree.body) if isinstance(n, (ast.Import, ast.ImportFrom))]
        known = A.aliases(imports)
        apps = typer_apps(tree, known)
        counts: dict[str, int] = {}  # a function the script runs from two places is not lifted
        places = [*(s.body if A.is_main_guard(s) and not s.orelse else [s] for s in tree.body),
                  *(fn.body for fn in functions.values())]
        for part in (stmt for place in places for stmt in place):
            name = _entry(part, functions, known, apps)
            if name is not None:
                counts[name[0]] = counts.get(name[0], 0) + 1
        runnable = {n: fn for n, fn in functions.items()
                    if counts.get(n) == 1 and _liftable(fn, known, set(apps))}
        out = Script([], [], apps=apps)
        for stmt in tree.body:
            if A.is_main_guard(stmt) and not stmt.orelse:
                _lift(stmt.body, GUARD, runnable, out, 0, known)
            else:
                _lift([stmt], "", runnable, out, 0, known)
        called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        for name, fn in functions.items():
            returned = _data_factory(fn, known) if name not in out.lifted and name not in called else None
            if returned is None:
                continue
            try:
                bindings = _parameters(fn, ast.Call(func=ast.Name(name, ast.Load()), args=[], keywords=[]))
            except _NotLiftable:
                continue
            out.lifted[name] = fn
            out.returns[name] = returned
            for binding in bindings:
                out.body.append(binding)
                out.scopes.append(name)
            _lift(_without_docstring(fn.body)[:-1], name, runnable, out, 1, known)
        return out
    except (RecursionError, MemoryError):
        return Script(list(tree.body), [""] * len(tree.body))


def visible(binder: str, reader: Optional[str]) -> bool:
    """Whether a binding made in scope ``binder`` is seen by code of scope ``reader`` (``None``:
    any). Module code (a factory's body) sees the module's own bindings only, as it did before
    anything was lifted; the guard sees the module's; a lifted function the module's, the
    guard's, and its own (and those of the functions that run it)."""
    if reader is None or not binder or reader == binder:
        return True
    if binder == GUARD:
        return bool(reader)
    return reader.startswith(binder + ".")


def _lift(stmts: list[ast.stmt], scope: str, runnable: dict[str, ast.FunctionDef], out: Script, depth: int,
          known: Optional[dict[str, str]] = None) -> None:
    for stmt in stmts:
        entry = _entry(stmt, runnable, known or {}, out.apps) if depth < MAX_DEPTH else None
        bindings = None
        if entry is not None and entry[0] not in out.lifted:
            try:
                bindings = _parameters(runnable[entry[0]], entry[1], known, entry[2])
            except _NotLiftable:
                bindings = None
        if bindings is not None:
            name = entry[0]
            fn = runnable[name]
            inner = f"{scope}.{name}" if scope and scope != GUARD else name
            out.lifted[name] = fn
            for binding in bindings:
                out.body.append(binding)
                out.scopes.append(inner)
            body = _without_docstring(fn.body)
            cut = next((k for k, s in enumerate(body) if isinstance(s, ast.Return)), None)
            if cut is not None:
                body = body[:cut]  # a last `return` (or dead code after one) never runs here
            _lift(body, inner, runnable, out, depth + 1, known)
            continue
        out.body.append(stmt)
        out.scopes.append(scope)


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return list(body[1:])
    return list(body)


#: What a factory's own statements do that makes it a data factory (``_data_factory``).
DATA_REASONS = frozenset({"reads files", "downloads", "loads data", "trains"})
_MODELS = frozenset({"Sequential", "Model", "Functional"})


def _data_factory(fn: ast.FunctionDef, known: dict[str, str]) -> Optional[str]:
    """The name a never-called function returns when it is a factory that reads data or trains
    before returning its model (``def build_model(): data = np.loadtxt("train.csv"); ...;
    model.fit(...); return model``) and needs no arguments: its body is lifted at the end of
    the module like a script's ``main()``, so its data reads and training never run and its
    model is built from stand-ins. ``None`` for any other function."""
    body = _without_docstring(fn.body)
    if (not body or not isinstance(body[-1], ast.Return) or not isinstance(body[-1].value, ast.Name)
            or A.required(fn) or fn.decorator_list):
        return None
    nodes = list(A.module_level(body[:-1]))
    if any(isinstance(node, (ast.Return, ast.Global, ast.Yield, ast.YieldFrom, ast.Await, ast.Nonlocal))
           for node in nodes):
        return None
    names = [A.resolve(d, known) for n in nodes if isinstance(n, ast.Call) for d in [A.dotted(n.func)] if d]
    if not any(A.last(name) in _MODELS for name in names):
        return None
    calls = [n for n in nodes if isinstance(n, ast.Call)]
    if not any((found := call_reason(call, known)) and found[0] in DATA_REASONS for call in calls):
        return None  # no call reads data or trains (the cheap check, as the user types)
    if not any(classify(stmt, known) in DATA_REASONS for stmt in body[:-1]):
        return None
    return body[-1].value.id


def _entry(stmt: ast.stmt, functions: dict, known: Optional[dict[str, str]] = None,
           apps: Optional[dict[str, str]] = None) -> Optional[tuple[str, Optional[ast.Call], Optional[str]]]:
    """``(function, its call, runner)`` when ``stmt`` runs one of ``functions`` as a statement of
    its own: ``main()``, ``sys.exit(main())``, ``raise SystemExit(main())``, ``app.run(main)`` (call
    ``None``: the runner passes ``argv``), ``typer.run(main)``, ``fire.Fire(main)`` or a typer
    ``app()`` (an empty call, runner ``"typer"``/``"fire"``: the command line gives nothing, so
    each parameter takes its default), or one of those alone in a ``try`` whose handlers only
    run if it raises (they are dropped)."""
    known = known or {}
    if isinstance(stmt, A.TRY) and len(stmt.body) == 1 and not stmt.orelse and not stmt.finalbody:
        return _entry(stmt.body[0], functions, known, apps)  # ``try: main()`` / ``except KeyboardInterrupt:``
    if isinstance(stmt, ast.Expr):
        value = stmt.value
    elif isinstance(stmt, ast.Raise) and stmt.exc is not None and stmt.cause is None:
        value = stmt.exc
        if not (isinstance(value, ast.Call) and A.dotted(value.func) == "SystemExit"):
            return None
    else:
        return None
    if not isinstance(value, ast.Call):
        return None
    name = A.dotted(value.func)
    empty = ast.Call(func=value.func, args=[], keywords=[])
    if isinstance(value.func, ast.Name) and name in functions:
        return name, value, None
    if isinstance(value.func, ast.Name) and apps and name in apps and apps[name] in functions \
            and not value.args and not value.keywords:
        return apps[name], empty, "typer"  # ``app()``: the app's one command, no arguments
    if name in EXITS and len(value.args) == 1 and not value.keywords:
        inner = value.args[0]
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in functions:
            return inner.func.id, inner, None
        return None
    runner = CLI_RUNNERS.get(A.resolve(name or "", known))
    if runner is not None:
        if len(value.args) == 1 and not value.keywords and isinstance(value.args[0], ast.Name) \
                and value.args[0].id in functions:
            return value.args[0].id, empty, runner
        return None
    if name in RUNNERS:
        given = [*value.args[:1], *(k.value for k in value.keywords if k.arg == "main")]
        if len(given) == 1 and isinstance(given[0], ast.Name) and given[0].id in functions:
            return given[0].id, None, None
        if not value.args and not value.keywords and "main" in functions:
            return "main", None, None  # tf.app.run() runs the module's main(argv)
    return None


def typer_apps(tree: ast.Module, known: dict[str, str]) -> dict[str, str]:
    """Module-level ``app = typer.Typer(...)`` names with exactly one ``@app.command()`` function
    (the one ``app()`` runs with no subcommand) -> that function's name."""
    apps = {s.targets[0].id for s in tree.body
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
            and isinstance(s.value, ast.Call) and A.resolve(A.dotted(s.value.func) or "", known) == "typer.Typer"}
    commands: dict[str, list[str]] = {app: [] for app in apps}
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef):
            for decorator in stmt.decorator_list:
                app = _typer_command(decorator, apps)
                if app is not None:
                    commands[app].append(stmt.name)
    return {app: names[0] for app, names in commands.items() if len(names) == 1}


def _typer_command(decorator: ast.expr, apps) -> Optional[str]:
    """The typer app of an ``@app.command()`` / ``@app.command("name")`` decorator, else ``None``."""
    if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute) \
            and decorator.func.attr == "command" and isinstance(decorator.func.value, ast.Name) \
            and decorator.func.value.id in apps:
        return decorator.func.value.id
    return None


def typer_default(value: ast.expr, known: dict[str, str]) -> Optional[ast.expr]:
    """What typer passes for a parameter whose default is ``value`` when the command line gives
    nothing: ``typer.Option(64, help=...)``'s first argument (or ``default=``), ``None`` for
    ``...`` (required) or a declaration without a default; ``value`` itself for a plain default
    (``units: Annotated[int, typer.Option()] = 64``). ``None`` (Python's) for a
    ``default_factory=``, which would run code."""
    if not (isinstance(value, ast.Call) and A.resolve(A.dotted(value.func) or "", known) in TYPER_PARAMS):
        return value
    keywords = {k.arg: k.value for k in value.keywords if k.arg}
    if "default_factory" in keywords:
        return None
    given = value.args[0] if value.args else keywords.get("default")
    if given is None or (isinstance(given, ast.Constant) and given.value is Ellipsis):
        return ast.Constant(None)
    return given


def click_defaults(fn: ast.FunctionDef, known: dict[str, str]) -> Optional[dict[str, ast.expr]]:
    """For a click command (``@click.command()`` with ``@click.option``/``@click.argument``
    decorators only): each parameter's value when the script runs with no arguments, as click
    gives it: the option's ``default=``, ``False`` for a flag, ``()`` for ``multiple=True``, else
    ``None`` (a required argument too, as an argparse required option). ``None`` when ``fn`` has
    a decorator that is not one of these (``@click.pass_context``, ``@hydra.main``)."""
    if not fn.decorator_list:
        return None
    values: dict[str, ast.expr] = {}
    commands = 0
    for decorator in fn.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        full = A.resolve(A.dotted(call.func if call else decorator) or "", known)
        if full == "click.command":
            commands += 1
            continue
        if call is None or full not in ("click.option", "click.argument"):
            return None
        declared = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        name = _click_name(declared, full == "click.argument")
        if name is None:
            return None
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        flag = keywords.get("is_flag")
        if "default" in keywords:
            values[name] = keywords["default"]
        elif isinstance(flag, ast.Constant) and flag.value is True:
            values[name] = ast.Constant(False)
        elif isinstance(keywords.get("multiple"), ast.Constant) and keywords["multiple"].value is True:
            values[name] = ast.Tuple(elts=[], ctx=ast.Load())
        else:
            values[name] = ast.Constant(None)
    return values if commands == 1 else None


def _click_name(declared: list[str], argument: bool) -> Optional[str]:
    """The parameter click passes an option or argument as: its name without dashes (``units``), or
    the first long option's (``--n-units`` -> ``n_units``), else the first short one's."""
    if not declared:
        return None
    if argument:
        return declared[0].replace("-", "_").lower()
    plain = [d for d in declared if not d.startswith("-")]
    if plain:
        return plain[0]
    longs = [d for d in declared if d.startswith("--")]
    chosen = (longs or declared)[0].split("/")[0].lstrip("-")
    return chosen.replace("-", "_").lower() or None


def _liftable(fn: ast.FunctionDef, known: dict[str, str], apps: frozenset = frozenset()) -> bool:
    """A plain function whose body can run as module statements: no decorators but a click
    command's (``click_defaults``: click then parses no arguments, so each parameter takes its
    option's default) or a typer app's one ``@app.command()``, no ``yield`` nor ``await``; and
    not a factory: one that returns a value and neither trains nor downloads is previewed as a
    factory, called, as before."""
    typer_command = len(fn.decorator_list) == 1 and _typer_command(fn.decorator_list[0], apps) is not None
    if fn.decorator_list and not typer_command and click_defaults(fn, known) is None:
        return False
    nodes = list(A.module_level(fn.body))
    if any(isinstance(node, (ast.Yield, ast.YieldFrom, ast.Await, ast.Nonlocal)) for node in nodes):
        return False
    returns = any(isinstance(node, ast.Return) and node.value is not None
                  and not isinstance(node.value, ast.Constant) for node in nodes)
    calls = [node for stmt in fn.body for node in ast.walk(stmt) if isinstance(node, ast.Call)]
    return not returns or excluded_from_factories(calls, known)


def _parameters(fn: ast.FunctionDef, call: Optional[ast.Call],
                known: Optional[dict[str, str]] = None, runner: Optional[str] = None) -> list[ast.stmt]:
    """``param = value`` for each parameter, placed at the parameter in the ``def``: the call's
    argument, else the default (a click command's option default: ``click_defaults``; a typer
    command's: ``typer_default``, ``None`` for a required one); ``argv`` for ``app.run(main)``.
    Raises ``_NotLiftable`` when a parameter has no value, or a value that is not a plain
    expression (the call is kept)."""
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    defaults = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]], args.defaults))
    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
    defaults.update(click_defaults(fn, known or {}) or {})
    if runner == "typer":
        defaults = {name: typer_default(value, known or {}) for name, value in defaults.items()}
        defaults.update({a.arg: ast.Constant(None) for a in [*positional, *args.kwonlyargs] if a.arg not in defaults})
    given: dict[str, ast.expr] = {}
    if call is None:  # app.run(main): main(argv)
        if positional:
            given[positional[0].arg] = ast.List(elts=[ast.Name("__file__", ast.Load())], ctx=ast.Load())
    else:
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            raise _NotLiftable
        for param, value in zip(positional, call.args):
            given[param.arg] = value
        for keyword in call.keywords:
            given[keyword.arg] = keyword.value
        if len(call.args) > len(positional):
            raise _NotLiftable
    out = []
    for param in [*positional, *args.kwonlyargs]:
        value = given.get(param.arg, defaults.get(param.arg))
        if value is None or not all(isinstance(n, _SIMPLE) for n in ast.walk(value)):
            raise _NotLiftable
        if isinstance(value, ast.Name) and value.id == param.arg and call is not None and param.arg in given:
            continue  # ``run(args)`` into ``def run(args)``: the name already holds it
        out.append(_assign(param.arg, value, param))
    for star, empty in ((args.vararg, ast.Tuple(elts=[], ctx=ast.Load())),
                        (args.kwarg, ast.Dict(keys=[], values=[]))):
        if star is not None:
            out.append(_assign(star.arg, empty, star))
    return out


class _NotLiftable(Exception):
    pass


def _assign(name: str, value: ast.expr, where: ast.arg) -> ast.Assign:
    target = ast.Name(name, ast.Store())
    ast.copy_location(target, where)
    target.end_lineno, target.end_col_offset = where.lineno, where.col_offset + len(name)
    if getattr(value, "lineno", None) is None:
        ast.copy_location(value, where)
        for node in ast.walk(value):
            ast.copy_location(node, where)
    stmt = ast.Assign(targets=[target], value=value, lineno=where.lineno, col_offset=where.col_offset,
                      end_lineno=where.lineno, end_col_offset=target.end_col_offset)
    return stmt
