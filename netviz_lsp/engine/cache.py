"""What the engine reuses between builds: each target's last outcome, and each model's last drawing.

``BuildCache`` keeps a target's graph (or deterministic error) while its key holds: the
exact text and lines of its slice, its arguments, ``shapeOnly``, the backend, the workspace
roots, and the modification times of the workspace modules the file imports. ``RenderCache`` keeps a drawing while
its graph is the same object (a reused graph shares its ``layers`` list) and the options
are equal, so no layout runs twice. Both are thread-safe.
"""

from __future__ import annotations

import threading
from typing import Any, Hashable, Optional, Union

from netviz_lsp.graph import BuildError, ModelGraph

Outcome = Union[ModelGraph, BuildError]


class BuildCache:
    """The last outcome of each (file, target), valid while its key holds."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[str, Outcome]] = {}
        self._lock = threading.Lock()

    def get(self, path: str, target: str, key: str) -> Optional[Outcome]:
        with self._lock:
            entry = self._entries.get((path, target))
        return entry[1] if entry and entry[0] == key else None

    def put(self, path: str, target: str, key: str, outcome: Outcome) -> None:
        with self._lock:
            self._entries[(path, target)] = (key, outcome)

    def forget(self, path: Optional[str] = None) -> None:
        with self._lock:
            if path is None:
                self._entries.clear()
            else:
                self._entries = {k: v for k, v in self._entries.items() if k[0] != path}


class RenderCache:
    """The last drawing of each (document, target, view, format)."""

    def __init__(self) -> None:
        self._entries: dict[tuple, tuple[list, Hashable, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, model: ModelGraph, options: Any) -> Optional[bytes]:
        with self._lock:
            entry = self._entries.get(key)
        return entry[2] if entry and entry[0] is model.layers and entry[1] == options else None

    def put(self, key: tuple, model: ModelGraph, options: Any, data: bytes) -> None:
        with self._lock:
            self._entries[key] = (model.layers, options, data)

    def forget(self, document: Optional[str] = None) -> None:
        with self._lock:
            if document is None:
                self._entries.clear()
            else:
                self._entries = {k: v for k, v in self._entries.items() if k[0] != document}
