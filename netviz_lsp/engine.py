"""Discovery plus a worker build: one file's source in, a ``FileResult`` out.

Shared by the CLI and the language server. Never imports Keras (the pool's worker
does that) and never raises for anything in the user's file: syntax errors,
missing arguments, crashes and timeouts all come back as ``BuildError`` values.

With a ``BuildCache``, a factory whose slice text, lines, arguments, build options
and imported workspace modules are unchanged is not built again: a save that only
touched comments or other factories reuses its last graph.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import Callable, Iterable, Optional, Union

from netviz_lsp.discovery import Discovery, Factory, discover
from netviz_lsp.graph import BuildError, FileResult, ModelGraph
from netviz_lsp.settings import Settings
from netviz_lsp.worker.pool import BuildPool

Outcome = Union[ModelGraph, BuildError]
_REUSABLE_ERRORS = ("build", "arguments")
"""Deterministic failures; a timeout or crash may be the machine's fault, so it is retried."""


class BuildCache:
    """The last outcome of each (file, factory), valid while its key holds. Thread-safe."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[str, Outcome]] = {}
        self._lock = threading.Lock()

    def get(self, path: str, factory: str, key: str) -> Optional[Outcome]:
        with self._lock:
            entry = self._entries.get((path, factory))
        return entry[1] if entry and entry[0] == key else None

    def put(self, path: str, factory: str, key: str, outcome: Outcome) -> None:
        with self._lock:
            self._entries[(path, factory)] = (key, outcome)

    def forget(self, path: Optional[str] = None) -> None:
        with self._lock:
            if path is None:
                self._entries.clear()
            else:
                self._entries = {k: v for k, v in self._entries.items() if k[0] != path}


def build_request(found: Discovery, path: str, source: str, settings: Settings,
                  roots: Iterable[str] = (), factories: Optional[list[Factory]] = None) -> dict:
    """The worker request for ``factories`` (default: every factory whose arguments are known)."""
    chosen = [f for f in found.factories if f.args is not None] if factories is None else factories
    return {
        "op": "build",
        "path": os.path.abspath(path),
        "source": source,
        "slice": sorted({i for f in chosen for i in f.slice}),
        "factories": [{"name": f.name, "line": f.line, "args": f.args} for f in chosen],
        "shape_only": settings.build.shape_only,
        "roots": [os.path.abspath(r) for r in roots],
    }


def build_file(pool: BuildPool, path: str, source: str, settings: Settings,
               roots: Iterable[str] = (), only: Optional[Iterable[str]] = None,
               on_stage: Optional[Callable[[str, Optional[str]], None]] = None,
               found: Optional[Discovery] = None, cache: Optional[BuildCache] = None) -> FileResult:
    """Discover and build ``source`` (the text of ``path``); every failure is an error value."""
    roots = list(roots)
    absolute = os.path.abspath(path)
    found = found or discover(source, absolute, settings.build.factory_args)
    wanted = None if only is None else set(only)
    result = FileResult(file=path)
    result.errors.extend(e for e in found.errors if wanted is None or e.factory in wanted or e.factory is None)
    buildable = [f for f in found.factories if f.args is not None and (wanted is None or f.name in wanted)]
    stamp = _workspace_stamp(absolute, found.imports, roots) + repr(settings.build.shape_only)
    outcomes: dict[str, Outcome] = {}
    if cache is not None:
        for factory in buildable:
            hit = cache.get(absolute, factory.name, factory.fingerprint + stamp)
            if hit is not None:
                outcomes[factory.name] = _reused(hit)
    todo = [f for f in buildable if f.name not in outcomes]
    if todo:
        outcome = pool.build(build_request(found, path, source, settings, roots, todo),
                             settings.build.timeout_seconds, on_stage)
        for graph in outcome.models:
            outcomes[graph["factory"]] = ModelGraph.from_dict(graph)
        for factory in todo:
            returned = outcome.dropped.get(factory.name)
            if returned is not None and factory.declared:  # inferred candidates are dropped quietly
                outcomes[factory.name] = BuildError(
                    "build", f"{factory.name}() returned {returned}, not a Keras model", factory.line, factory.name)
        for error in outcome.errors:
            if error.factory is None:
                result.errors.append(error)
            else:
                outcomes[error.factory] = error
        if cache is not None and not [e for e in outcome.errors if e.factory is None]:
            _remember(cache, absolute, todo, outcomes, stamp)
    for factory in buildable:
        item = outcomes.get(factory.name)
        if isinstance(item, ModelGraph):
            result.models.append(item)
        elif item is not None:
            result.errors.append(item)
    result.errors.sort(key=lambda e: (e.line or 0, e.factory or ""))
    return result


def _reused(outcome: Outcome) -> Outcome:
    if isinstance(outcome, ModelGraph):
        return dataclasses.replace(outcome, build=dataclasses.replace(outcome.build, cached=True))
    return outcome


def _remember(cache: BuildCache, path: str, built: list[Factory], outcomes: dict, stamp: str) -> None:
    for factory in built:
        item = outcomes.get(factory.name)
        if isinstance(item, ModelGraph) or (isinstance(item, BuildError) and item.kind in _REUSABLE_ERRORS):
            cache.put(path, factory.name, factory.fingerprint + stamp, item)


def _workspace_stamp(path: str, imports: list[str], roots: list[str]) -> str:
    """Modification times of the workspace modules ``path`` imports (first level), as a key part."""
    folder = os.path.dirname(path)
    stamps = []
    for name in imports:
        dots = len(name) - len(name.lstrip("."))
        base = folder if dots else None
        for _ in range(max(dots - 1, 0)):
            base = os.path.dirname(base)
        parts = [p for p in name.lstrip(".").split(".") if p]
        for root in [base] if base else [folder, *roots]:
            for depth in range(1, len(parts) + 1):
                stem = os.path.join(root, *parts[:depth])
                for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
                    try:
                        stamps.append(f"{candidate}:{os.stat(candidate).st_mtime_ns}")
                    except OSError:
                        pass
    return "|".join(stamps)
