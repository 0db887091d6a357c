"""Discovery plus a worker build: one file's source in, a ``FileResult`` out.

Shared by the CLI and the language server. Never imports Keras (the pool's worker
does that) and never raises for anything in the user's file: syntax errors,
missing arguments, crashes and timeouts all come back as ``BuildError`` values.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable, Optional

from netviz_lsp.discovery import Discovery, discover
from netviz_lsp.graph import FileResult, ModelGraph
from netviz_lsp.settings import Settings
from netviz_lsp.worker.pool import BuildPool


def build_request(found: Discovery, path: str, source: str, settings: Settings,
                  roots: Iterable[str] = (), only: Optional[Iterable[str]] = None) -> dict:
    """The worker request for the factories of ``found`` whose arguments are known."""
    wanted = None if only is None else set(only)
    factories = [
        {"name": f.name, "line": f.line, "args": f.args}
        for f in found.factories
        if f.args is not None and (wanted is None or f.name in wanted)
    ]
    return {
        "op": "build",
        "path": os.path.abspath(path),
        "source": source,
        "slice": found.slice,
        "factories": factories,
        "shape_only": settings.build.shape_only,
        "roots": [os.path.abspath(r) for r in roots],
    }


def build_file(pool: BuildPool, path: str, source: str, settings: Settings,
               roots: Iterable[str] = (), only: Optional[Iterable[str]] = None,
               on_stage: Optional[Callable[[str, Optional[str]], None]] = None,
               found: Optional[Discovery] = None) -> FileResult:
    """Discover and build ``source`` (the text of ``path``); every failure is an error value."""
    found = found or discover(source, os.path.abspath(path), settings.build.factory_args)
    wanted = None if only is None else set(only)
    result = FileResult(file=path)
    result.errors.extend(e for e in found.errors if wanted is None or e.factory in wanted or e.factory is None)
    request = build_request(found, path, source, settings, roots, only)
    if not request["factories"]:
        return result
    outcome = pool.build(request, settings.build.timeout_seconds, on_stage)
    order = {f.name: i for i, f in enumerate(found.factories)}
    result.models = sorted((ModelGraph.from_dict(m) for m in outcome.models), key=lambda m: order.get(m.factory, 0))
    result.errors.extend(outcome.errors)
    result.errors.sort(key=lambda e: (e.line or 0, e.factory or ""))
    return result
