"""Which workspace files a file imports, directly or through other workspace modules, and the
config files its top level reads.

The engine's one answer to "what does this file depend on": the server's watcher
rebuilds an open file when one of these changes on disk (the worker re-imports
workspace modules fresh on every build), and the build cache keys each target on their
modification times. Only files under the file's own folder or a workspace folder count,
never installed packages or anything inside ``.venv``, ``node_modules``,
``__pycache__`` or ``.git``. ``from pkg import sub`` and ``from . import sibling`` may
import submodules, so their names are followed too. Reads sources with ``ast`` only;
nothing runs.
"""

from __future__ import annotations

import ast
import os
from typing import Iterable, Iterator, Optional

from netviz_lsp.discovery.parse import parse_module

IGNORED_DIRS = frozenset({".venv", "venv", "node_modules", "__pycache__", ".git", "site-packages"})
MAX_FILES = 200
"""A bound on the files followed, so a huge workspace cannot stall the build thread."""


def is_ignored(path: str) -> bool:
    """True for paths inside a virtual environment, ``node_modules``, caches or ``.git``."""
    return any(part in IGNORED_DIRS for part in os.path.normpath(path).split(os.sep))


def imported_names(source: str) -> list[tuple[int, str]]:
    """``(level, dotted name)`` for every module ``source`` may import, submodule candidates included."""
    try:
        tree = parse_module(source, "<file>")  # a Colab export's !pip lines blanked, as discovery reads it
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((0, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if base:
                names.append((node.level, base))
            names.extend((node.level, f"{base}.{alias.name}" if base else alias.name)
                         for alias in node.names if alias.name != "*")
    return names


def module_files(level: int, name: str, importer: str, roots: Iterable[str]) -> Iterator[str]:
    """Files that importing ``name`` from ``importer`` may load: the module and its packages' ``__init__``."""
    if level:
        base = os.path.dirname(importer)
        for _ in range(level - 1):
            base = os.path.dirname(base)
        bases = [base]
    else:
        bases = list(dict.fromkeys([os.path.dirname(importer), *roots]))
    parts = name.split(".")
    for base in bases:
        folder = base
        for i, part in enumerate(parts):
            package = os.path.join(folder, part)
            init = os.path.join(package, "__init__.py")
            if i == len(parts) - 1:
                for candidate in (package + ".py", init):
                    if os.path.isfile(candidate):
                        yield candidate
            elif os.path.isfile(init):
                yield init
            elif not os.path.isdir(package):  # namespace packages have no __init__
                break
            folder = package


def workspace_dependencies(path: str, source: str, roots: Iterable[str]) -> frozenset[str]:
    """Real paths of the workspace files ``path`` (whose text is ``source``) imports, transitively."""
    roots = [os.path.realpath(r) for r in roots]
    allowed = [os.path.join(r, "") for r in [os.path.realpath(os.path.dirname(path)), *roots]]
    me = os.path.realpath(path)
    found: set[str] = set()
    todo: list[tuple[str, Optional[str]]] = [(me, source)]
    while todo and len(found) < MAX_FILES:
        importer, text = todo.pop()
        if text is None:
            text = _read(importer)
        for level, name in imported_names(text):
            for file in module_files(level, name, importer, roots):
                real = os.path.realpath(file)
                if real == me or real in found:
                    continue
                prefix = next((a for a in allowed if real.startswith(a)), None)
                if prefix is not None and not is_ignored(real[len(prefix):]):
                    found.add(real)
                    todo.append((real, None))
    found |= _config_files(path, source, allowed)
    return frozenset(found)


def _config_files(path: str, source: str, allowed: list[str]) -> set[str]:
    """Real paths of the config files ``path``'s top level reads (``discovery.facts.config_files``:
    the one file read a build makes), inside the allowed folders, whether they exist yet or not."""
    from netviz_lsp.discovery.facts import config_files
    from netviz_lsp.discovery.parse import Parsed, parse

    parsed = parse(source, path)
    if not isinstance(parsed, Parsed):
        return set()
    try:
        names = config_files(parsed)
    except (RecursionError, MemoryError):  # a pathologically nested file: discovery says so itself
        return set()
    found = set()
    for name in names:
        real = os.path.realpath(os.path.join(os.path.dirname(path), name))
        if any(real.startswith(a) for a in allowed):
            found.add(real)
    return found


def _read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
