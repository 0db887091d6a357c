"""Rebuilds triggered by the disk: an open factory file edited by another tool, or a workspace
module it imports changed (``git checkout``, a formatter, a save in another editor).

A watchdog observer watches, without recursion, exactly the folders that matter: those of
the open factory files and of the workspace modules they import (``dependencies.py``).
Recursive watches of a workspace root would also walk its ``.venv`` and
``node_modules``; these are never watched, and events under them are ignored. Events
arrive on watchdog's thread and are handed to ``on_change`` as a set of real paths; the
server debounces them on its event loop (a save is several events) and decides what to
rebuild.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Callable, Iterable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from netviz_lsp.discovery.effects import CONFIG_SUFFIXES  # a script's config files are dependencies too

log = logging.getLogger(__name__)

_CHANGES = frozenset({"created", "modified", "moved", "deleted", "closed"})


class _Forward(FileSystemEventHandler):
    def __init__(self, on_change: Callable[[set[str]], None]):
        self._on_change = on_change

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in _CHANGES:
            return
        paths = {os.fsdecode(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p}
        paths = {os.path.realpath(p) for p in paths if p.endswith((".py", *CONFIG_SUFFIXES))}
        if paths:
            try:
                self._on_change(paths)
            except Exception:  # never let a callback bug kill watchdog's thread
                log.exception("handling a file change failed")


class WorkspaceWatcher:
    """Keeps one non-recursive watch per folder of interest."""

    def __init__(self, on_change: Callable[[set[str]], None]):
        self._handler = _Forward(on_change)
        self._observer = None
        self._watches: dict[str, object] = {}
        self._lock = threading.Lock()

    def watch(self, folders: Iterable[str]) -> None:
        """Watch exactly ``folders`` (those that exist); unwatch the rest.

        Callers pass folders already filtered by ``dependencies.is_ignored``.
        """
        wanted = {os.path.realpath(f) for f in folders if f}
        wanted = {f for f in wanted if os.path.isdir(f)}
        with self._lock:
            if self._observer is None:
                if not wanted:
                    return
                self._observer = Observer()
                self._observer.daemon = True
                self._observer.start()
            for folder in set(self._watches) - wanted:
                self._observer.unschedule(self._watches.pop(folder))
            for folder in wanted - set(self._watches):
                try:
                    self._watches[folder] = self._observer.schedule(self._handler, folder, recursive=False)
                except OSError as error:  # inotify limits, permissions: rebuild on save still works
                    log.warning("cannot watch %s: %s", folder, error)

    @property
    def folders(self) -> set[str]:
        with self._lock:
            return set(self._watches)

    def close(self) -> None:
        with self._lock:
            if self._observer is not None:
                self._observer.stop()
                self._observer.join(timeout=2)
                self._observer = None
            self._watches.clear()
