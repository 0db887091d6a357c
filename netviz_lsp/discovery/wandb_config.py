"""Weights & Biases run configs: ``wandb.config`` as the config dict the script gives ``wandb.init``.

Training scripts often size their model from the run's config::

    wandb.init(project="mnist-mlp", config={"units": 128, "dropout": 0.2})
    config = wandb.config
    model = keras.Sequential([layers.Dense(config.units), layers.Dropout(config["dropout"])])

``wandb.init`` never runs (it logs in and talks to the network: ``effects.CALLS``' ``wandb.``
row), and wandb is usually not installed where NetViz runs. When the file makes one
``wandb.init(config=...)`` call (or ``run = wandb.init(...)``) whose config is a literal dict, a
name (``CONFIG``, an ``argparse`` namespace) or ``vars(args)``, that statement is stood in for
by ``CONFIG_NAME = <the dict>``, a plain ``dict`` subclass made inline whose keys are also its
attributes (``CONFIG_DICT``: what the script gave ``wandb.init``, nothing of wandb's), and every other statement that reads ``wandb.config``
(or ``run.config``) reads ``CONFIG_NAME`` instead, on the same lines: ``config = wandb.config``,
``layers.Dense(wandb.config.units)``, ``wandb.config.update({"units": 256})``. A statement that
would still never run once rewritten (``model.fit(epochs=wandb.config.epochs)``) is left as it is.
Without such a config, a statement reading ``wandb.config`` never runs (``"downloads"``: in a
sweep the config comes from the server), so a model that needs it gets the usual error naming
the line for a ``# netviz: value=`` stand-in. ``ast`` only; never imports wandb.
"""

from __future__ import annotations

import ast
from typing import Optional

from netviz_lsp.discovery import astutil as A

#: The name the stand-in binds; never a name a script uses.
CONFIG_NAME = "__netviz_wandb_config__"
#: A ``dict`` subclass whose keys are also attributes (``config.units`` and ``config["units"]``),
#: setting an attribute sets the key; a missing one is an ``AttributeError``, as on any object.
CONFIG_DICT = ('type("config", (dict,), {"__getattr__": lambda self, key: self[key] if key in self '
               'else object.__getattribute__(self, key), "__setattr__": dict.__setitem__})')
#: Why a statement reading ``wandb.config`` never runs when no literal config stands in.
REASON = "downloads"


def stand_ins(body: list[ast.stmt], aliases: dict[str, str], lines: list[str]) -> dict[int, Optional[str]]:
    """Statement index -> its replacement source (``None``: it reads ``wandb.config`` and never
    runs), for the statements of ``body`` that init or read a wandb run's config."""
    try:
        wandb = {name for name, full in aliases.items() if full == "wandb"}
        if not wandb:
            return {}
        inits = [(i, node) for i, stmt in enumerate(body) for node in A.module_level([stmt])
                 if isinstance(node, ast.Call) and A.resolve(A.dotted(node.func) or "", aliases) == "wandb.init"]
        runs = {t.id for i, _ in inits for t in getattr(body[i], "targets", ())
                if isinstance(body[i], ast.Assign) and isinstance(t, ast.Name)}
        readers = {i: nodes for i, stmt in enumerate(body)
                   for nodes in [_config_reads(stmt, wandb | runs)] if nodes}
        config = _config_source(body, inits) if len(inits) == 1 else None
        out: dict[int, Optional[str]] = {}
        if config is None:  # a def reading it keeps wandb's (its build says wandb is missing)
            return {i: None for i in readers if not isinstance(body[i], A.DEFS)}
        index, _ = inits[0]
        init = body[index]
        if not (isinstance(init, ast.Expr) or (isinstance(init, ast.Assign) and len(init.targets) == 1
                                               and isinstance(init.targets[0], ast.Name))):
            return {i: None for i in readers if not isinstance(body[i], A.DEFS)}
        out[index] = f"{CONFIG_NAME} = {CONFIG_DICT}({config})"
        for i, nodes in readers.items():
            if i != index:
                out[i] = _rewritten(body[i], nodes, lines)
        return out
    except (RecursionError, MemoryError, ValueError, SyntaxError):
        return {}


def _config_reads(stmt: ast.stmt, names: set[str]) -> list[ast.Attribute]:
    """The ``wandb.config`` / ``run.config`` attribute nodes in ``stmt`` (nested defs included:
    they read the module's name)."""
    return [node for node in ast.walk(stmt) if isinstance(node, ast.Attribute) and node.attr == "config"
            and isinstance(node.value, ast.Name) and node.value.id in names and isinstance(node.ctx, ast.Load)]


def _config_source(body: list[ast.stmt], inits: list[tuple[int, ast.Call]]) -> Optional[str]:
    """What ``wandb.init``'s ``config=`` holds, as source for ``CONFIG_DICT(...)``: a literal dict
    as it is; a name (a dict the script makes, an ``argparse`` namespace) or ``vars(args)`` read
    from that name when the stand-in runs (a slice then needs the name); else ``None``."""
    index, call = inits[0]
    given = next((k.value for k in call.keywords if k.arg == "config"), None)
    if isinstance(given, ast.Call) and A.dotted(given.func) == "vars" and len(given.args) == 1 \
            and not given.keywords and isinstance(given.args[0], ast.Name):
        return f"vars({given.args[0].id})"
    if isinstance(given, ast.Name):
        return f"{given.id} if isinstance({given.id}, dict) else vars({given.id})"
    return _literal(given) if isinstance(given, ast.Dict) else None


def _literal(node: ast.Dict) -> Optional[str]:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not all(isinstance(key, str) for key in value):
        return None
    return ast.unparse(node)


def _rewritten(stmt: ast.stmt, nodes: list[ast.Attribute], lines: list[str]) -> str:
    """``stmt``'s source with each of ``nodes`` read as ``CONFIG_NAME``, on the same lines (one
    line per original line, so layers keep their lines)."""
    first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))]) - 1
    last = stmt.end_lineno - 1
    chunk = [line.encode() for line in lines[first:last + 1]]
    for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        row = node.lineno - 1 - first
        if node.end_lineno != node.lineno:
            return _unparsed(stmt, nodes)
        line = chunk[row]
        chunk[row] = line[:node.col_offset] + CONFIG_NAME.encode() + line[node.end_col_offset:]
    chunk[-1] = chunk[-1][:stmt.end_col_offset + (len(chunk[-1]) - len(lines[last].encode()))]
    indent = stmt.col_offset
    text = [chunk[0][indent:].decode()]
    for line in chunk[1:]:
        decoded = line.decode()
        text.append(decoded[indent:] if decoded[:indent].strip() == "" else decoded.lstrip())
    source = "\n".join(text)
    try:
        ast.parse(source)
    except SyntaxError:
        return _unparsed(stmt, nodes)
    return source


def _unparsed(stmt: ast.stmt, nodes: list[ast.Attribute]) -> str:
    return ast.unparse(_swap(stmt, {id(n) for n in nodes}))


def _swap(stmt: ast.stmt, ids: set[int]) -> ast.stmt:
    """A copy of ``stmt`` with the attribute nodes in ``ids`` read as ``CONFIG_NAME``."""

    def copy(node):
        if isinstance(node, ast.AST):
            if id(node) in ids:
                return ast.Name(CONFIG_NAME, ast.Load())
            fields = {name: copy(value) for name, value in ast.iter_fields(node)}
            return type(node)(**fields)
        if isinstance(node, list):
            return [copy(item) for item in node]
        return node

    return copy(stmt)
