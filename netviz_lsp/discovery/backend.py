"""Does a build use TensorFlow or torch directly, or only Keras? By ``ast``; nothing runs.

The ``auto`` backend (``build.backend``) builds shape-only with JAX when the code a build
runs is backend-neutral: Keras layers, ``keras.ops``, NumPy. Code that calls TensorFlow
(``tf.nn.relu``, ``tf.image.resize``, ``from tensorflow import nn``, ``tensorflow_hub``) or
torch needs that backend, so the build stays on the user's own. ``tf.keras`` and
``from tensorflow.keras import layers`` are Keras itself (Keras 3's own classes under
TensorFlow's name), so they count as neutral.

What is read: the statements the build runs (a target's slice; the whole file when none are
given), and every workspace module they import, transitively: the caller resolves those
(``dependencies``: the engine passes ``engine/workspace.py``'s resolver, the same files the
build cache's key reads), and they are read whole. Discovery itself never resolves imports.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from netviz_lsp.discovery.script import script_body

Dependencies = Callable[[str], Iterable[str]]
"""Import statements (as source text) -> the workspace module files they import, transitively."""

TENSORFLOW_ROOTS = ("tensorflow", "tf_keras")
"""Packages whose names are TensorFlow (``tensorflow_hub``, ``tensorflow_addons``… start so too)."""
TORCH_ROOTS = ("torch", "torchvision", "torchaudio", "torchtext")
KERAS_ATTRIBUTE = "keras"
"""``tf.keras``: Keras 3 itself, whatever the backend."""


@dataclass(frozen=True)
class DirectUse:
    """Where a build uses a backend's own library directly."""

    backend: str
    """``tensorflow`` or ``torch``."""
    path: str
    line: int
    what: str
    """What is used there, as written: ``tf.nn.relu``, ``import torch``."""

    def describe(self) -> str:
        return f"{self.what} at line {self.line}"


def direct_use(source: str, path: str, statements: Optional[Iterable[int]] = None,
               dependencies: Optional[Dependencies] = None) -> Optional[DirectUse]:
    """The first direct use of TensorFlow or torch by ``statements`` of ``source`` (indexes into
    its module body; ``None``: all of it) or by a workspace module they import (as
    ``dependencies`` resolves them; none without it); ``None`` when the build is
    backend-neutral. Never raises; a text that does not parse is neutral (it builds nothing)."""
    try:
        body = script_body(ast.parse(source)).body  # as discovery indexes it (the main guard lifted)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    chosen = body if statements is None else [body[i] for i in sorted(set(statements)) if 0 <= i < len(body)]
    try:
        found = _in_module(chosen, path)
        if found is not None:
            return found
        return _in_workspace(chosen, dependencies) if dependencies is not None else None
    except (RecursionError, MemoryError):
        return None


def _in_workspace(statements: list[ast.stmt], dependencies: Dependencies) -> Optional[DirectUse]:
    imports = [node for stmt in statements for node in ast.walk(stmt)
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    if not imports:
        return None
    text = ast.unparse(ast.Module(body=imports, type_ignores=[]))  # what the statements import, nothing else
    for module in sorted(dependencies(text)):
        try:
            with open(module, "rb") as handle:
                tree = ast.parse(handle.read())
        except (OSError, SyntaxError, ValueError):
            continue
        found = _in_module(tree.body, module)
        if found is not None:
            return found
    return None


def _in_module(statements: list[ast.stmt], path: str) -> Optional[DirectUse]:
    """The first direct use in ``statements`` (walked whole: function bodies too)."""
    tensorflow_names: set[str] = set()
    """Names bound to the ``tensorflow`` package itself, whose ``.keras`` alone is neutral."""
    uses: list[DirectUse] = []
    nodes = [node for stmt in statements for node in ast.walk(stmt)]
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.name if alias.asname else alias.name.split(".")[0]
                target = alias.name if alias.asname else bound
                _bind(target, alias.asname or bound, node.lineno, path, tensorflow_names, uses,
                      f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                _bind(f"{node.module}.{alias.name}" if alias.name != "*" else node.module,
                      alias.asname or alias.name, node.lineno, path, tensorflow_names, uses,
                      f"from {node.module} import {alias.name}")
    if tensorflow_names:
        bases = {id(node.value) for node in nodes if isinstance(node, ast.Attribute)}
        for node in nodes:
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in tensorflow_names and node.attr != KERAS_ATTRIBUTE:
                uses.append(DirectUse("tensorflow", path, node.lineno, _dotted(node)))
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                    and node.id in tensorflow_names and id(node) not in bases:  # tf passed on whole
                uses.append(DirectUse("tensorflow", path, node.lineno, node.id))
    return min(uses, key=lambda use: use.line) if uses else None


def _bind(target: str, name: str, line: int, path: str, tensorflow_names: set[str], uses: list[DirectUse],
          what: str) -> None:
    """Record what importing ``target`` (a dotted path) as ``name`` means."""
    parts = target.split(".")
    root = parts[0]
    if root in TORCH_ROOTS:
        uses.append(DirectUse("torch", path, line, what))
    elif root.startswith("tensorflow_") or root == "tf_keras":
        uses.append(DirectUse("tensorflow", path, line, what))
    elif root == "tensorflow":
        if len(parts) == 1:
            tensorflow_names.add(name)  # the package: its uses decide
        elif parts[1] != KERAS_ATTRIBUTE:  # tensorflow.nn, from tensorflow import image, …
            uses.append(DirectUse("tensorflow", path, line, what))


def _dotted(node: ast.Attribute) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # noqa: BLE001  (unparse of an odd tree: the attribute alone says enough)
        return node.attr
