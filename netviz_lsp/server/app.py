"""The NetViz language server: wiring, lifecycle (``initialize``, ``initialized``,
``shutdown``, workspace folders) and ``main``.

``create_server`` makes the pygls ``LanguageServer`` and lets each feature module
register itself (``textsync``, ``notebooksync``, ``hover``, ``inlay``, ``lens``, ``commands``,
``configuration``). This module owns what they share: settings, open documents, the
engine and its worker pool (started at ``initialize``, so Keras imports while the editor
finishes its handshake and opens the first file; ``python -m netviz_lsp`` starts it even
before the server's own imports, ``prestart.py``; the spare worker starts after the first
build, not competing with it for the CPU), the latest-wins build scheduler (which stops a
long build once a newer text of its file waits: ``cancel_superseded``), the file watcher, and ``post``, the only way the
build and watcher threads reach the event loop. The server never imports TensorFlow and
never runs user code; all of that happens in the pool's worker processes.

    python -m netviz_lsp [--tcp HOST:PORT] [--log-level LEVEL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from typing import Any, Callable, Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from netviz_lsp import __version__
from netviz_lsp.server import (actions, commands, configuration, hover, inlay, lens, notebooks, notebooksync,
                               prestart, publish, textsync)
from netviz_lsp.server.builds import BuildRequest, BuildRunner, RenderRequest
from netviz_lsp.server.configuration import compare
from netviz_lsp.server.documents import Document, DocumentStore
from netviz_lsp.server.guard import guarded, report
from netviz_lsp.server.output import OutputForwarder
from netviz_lsp.server.scheduler import BUILD, RENDER, SETTLE_S, BuildScheduler, Job
from netviz_lsp.server.watch import WorkspaceWatcher
from netviz_lsp.engine import Engine, EngineAPI
from netviz_lsp.settings import Settings

log = logging.getLogger("netviz_lsp.server")
DEBOUNCE_S = 0.25
"""Quiet time after a file-system event before rebuilding: one save is several events."""
CANCEL_AFTER_S = 1.0
"""A superseded build is stopped (its worker killed and replaced) only after running this long
and longer than the file's last build took; a shorter one is left to finish unseen."""
CANCEL_POLL_S = 0.25
"""How often to look again while a superseded build has not reached a worker yet."""


def patience(typical_s: Optional[float]) -> float:
    """How long a superseded build may run on its worker before it is stopped: as long as
    this file's builds take (it should be nearly done), and at least ``CANCEL_AFTER_S``
    (a restart costs a worker's Keras import; dropping a short build's result costs nothing)."""
    return max(CANCEL_AFTER_S, typical_s or 0.0)


class NetVizServer(LanguageServer):
    """The server and the state its features share."""

    guarded = staticmethod(guarded)

    def __init__(self, engine: Optional[EngineAPI] = None) -> None:
        super().__init__("netviz-lsp", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         notebook_document_sync=notebooks.SYNC)
        self.settings = Settings()
        self.documents = DocumentStore()
        self.output = OutputForwarder(self)
        self.engine: EngineAPI = engine or prestart.take(self.output) or Engine(
            spare=True, memory_mb=self.settings.build.effective_memory_limit_mb(), on_output=self.output)
        """Builds, drawings and workspace imports: the only way to the worker processes."""
        self.runner = BuildRunner(self)
        self.scheduler = BuildScheduler(self._run_job, on_queued=self._queued, cancel=self.cancel_superseded)
        self.watcher = WorkspaceWatcher(self._disk_changed)
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._roots: tuple[str, ...] = ()
        self._changed_paths: set[str] = set()
        self._debounce: Optional[asyncio.TimerHandle] = None
        self._closed = False

    # -- threads -> loop -------------------------------------------------------------------

    def post(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function(*args)`` on the event loop, from any thread; errors are logged."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._call, function, args)
        except RuntimeError:  # the loop closed between the check and the call
            pass

    def later(self, delay: float, function: Callable[..., Any], *args: Any) -> Optional[asyncio.TimerHandle]:
        """Run ``function(*args)`` on the event loop after ``delay`` seconds (call from the loop)."""
        if self.loop is None or self.loop.is_closed() or self._closed:
            return None
        return self.loop.call_later(delay, self._call, function, args)

    def _call(self, function: Callable[..., Any], args: tuple) -> None:
        try:
            function(*args)
        except Exception as error:
            report(self, getattr(function, "__name__", "callback"), error)

    # -- builds ------------------------------------------------------------------------------

    def request_build(self, document: Document, reason: str, text: Optional[str] = None) -> None:
        """Queue a build of ``text`` (default: the editor's text) for ``document``; latest wins.

        A notebook always builds the editor's cells, joined (``document.text``)."""
        if document.path is None:
            return
        joined = document.notebook.joined if document.notebook is not None else None
        if joined is not None:
            text = None
        version = document.version if text is None else None
        text = document.text if text is None else text
        if text == document.text:
            document.stop_typing()  # this request builds what the idle timer would have
        document.requested_text = text
        request = BuildRequest(document.uri, document.path, text, version, reason, document.had_factories, joined)
        # A typed edit has already waited out build.onTypeDelayMs of quiet: no more settling.
        self.scheduler.submit(document.uri, BUILD, request, settle=0.0 if reason == "type" else SETTLE_S)

    def _run_job(self, job: Job) -> None:
        if job.kind == BUILD:
            self.output.reset()
        self.runner.run(job)

    def cancel_superseded(self, job: Job) -> Optional[float]:
        """The scheduler asks (timer thread): a newer request for ``job``'s file waits. Stop the
        running build when it has run ``patience`` on its worker; None when done deciding, else
        the seconds after which to ask again."""
        document = self.documents.get(job.key)
        last = document.last if document is not None else None
        typical = last.elapsed_ms / 1000 if last is not None else None
        wait = patience(typical)
        running = self.engine.running_s()
        if running is None:
            return CANCEL_POLL_S  # discovery, drawing, or waiting for a worker to start
        if running < wait:
            return wait - running
        if not self.engine.cancel():
            return CANCEL_POLL_S
        payload = job.payload
        version = getattr(payload, "version", None)
        which = f"version {version}" if version is not None else "the text on disk"
        usual = f"this file's last build took {typical:.1f} s" if typical is not None else "the file never built before"
        self.post(publish.say, self, types.MessageType.Info,
                  f"Stopped the build of {os.path.basename(getattr(payload, 'path', '') or job.key)} ({which}) after "
                  f"{running:.1f} s: a newer text of the file is waiting, and finishing would take longer than "
                  f"starting over ({usual}; builds are stopped after {wait:.1f} s). Its worker was replaced; "
                  "the newer text builds now.")
        return None

    def _queued(self, job: Job) -> None:
        document = self.documents.get(job.key)
        if job.kind == BUILD and document is not None and document.had_factories:
            self.post(publish.send_status, self, job.key, "queued", "waiting for the build before it")

    def roots(self) -> tuple[str, ...]:
        """The workspace folders as paths (read by the build thread)."""
        return self._roots

    def apply_settings(self, new: Settings) -> None:
        """Take new settings and do what their change needs (rebuild, redraw, restart, refresh)."""
        change = compare(self.settings, new)
        self.settings = new
        if change.restart_worker:
            threading.Thread(target=self.engine.restart, args=(new.build.effective_memory_limit_mb(),),
                             name="netviz-restart", daemon=True).start()
        for document in self.documents:
            if change.rebuild and document.had_factories:
                self.request_build(document, "settings")
            elif change.rerender and document.last is not None and (
                    document.last.result.models or any(e.graph is not None for e in document.last.result.errors)):
                self.scheduler.submit(document.uri, RENDER, RenderRequest(document.uri, document.last))
        if change.refresh_hints:
            self.refresh_views()

    # -- disk changes ------------------------------------------------------------------------

    def _disk_changed(self, paths: set[str]) -> None:
        """Watchdog's thread: hand the paths to the loop, which debounces them."""
        self.post(self._collect_changes, paths)

    def _collect_changes(self, paths: set[str]) -> None:
        self._changed_paths |= paths
        if self._debounce is not None:
            self._debounce.cancel()
        assert self.loop is not None
        self._debounce = self.loop.call_later(DEBOUNCE_S, self._call, self._rebuild_changed, ())

    def _rebuild_changed(self) -> None:
        """Rebuild the open files changed outside the editor, and those importing a changed module."""
        paths, self._changed_paths, self._debounce = self._changed_paths, set(), None
        for document in self.documents:
            if document.path is None:
                continue
            mine = os.path.realpath(document.path)
            if mine in paths:
                self._own_file_changed(document)
            elif document.had_factories and paths & document.dependencies:
                self.request_build(document, "import")

    def _own_file_changed(self, document: Document) -> None:
        from netviz_lsp.source import read_source

        if document.notebook is not None:
            return  # the editor owns an open notebook: a reload reaches us as notebookDocument/didChange
        text, error = read_source(document.path)
        if error is not None or text in (document.text, document.requested_text, document.disk_text):
            return  # our own save (didSave builds it; typing may have moved on), or unreadable
        if document.had_factories or "keras" in text:
            self.request_build(document, "disk", text=text)

    def update_watches(self) -> None:
        """Watch the folders of open factory files and of the workspace modules they import."""
        folders = set()
        for document in self.documents:
            if document.had_factories and document.folder:
                folders.add(document.folder)
                folders.update(os.path.dirname(dep) for dep in document.dependencies)
        try:
            self.watcher.watch(folders)
        except Exception as error:  # no watching is a degraded mode, not a dead server
            report(self, "update_watches", error)

    # -- client capabilities -----------------------------------------------------------------

    def _capability(self, *path: str) -> Any:
        value: Any = self.client_capabilities
        for name in path:
            value = getattr(value, name, None)
            if value is None:
                return None
        return value

    def supports_progress(self) -> bool:
        return bool(self._capability("window", "work_done_progress"))

    def supports_configuration(self) -> bool:
        return bool(self._capability("workspace", "configuration"))

    def refresh_views(self) -> None:
        """Ask the client to re-request code lenses and inlay hints (they changed with a build)."""
        if self._capability("workspace", "code_lens", "refresh_support"):
            self.workspace_code_lens_refresh(None)
        if self._capability("workspace", "inlay_hint", "refresh_support"):
            self.workspace_inlay_hint_refresh(None)

    def width(self, uri: str, text: str) -> int:
        """``text``'s length in the position units agreed with the client (UTF-16 by default)."""
        return self.workspace.position_codec.client_num_units(text)

    # -- lifecycle ---------------------------------------------------------------------------

    def set_roots(self, folders: list[types.WorkspaceFolder], root_uri: Optional[str]) -> None:
        uris = [f.uri for f in folders] or ([root_uri] if root_uri else [])
        paths = [to_fs_path(uri) for uri in uris if uri and uri.startswith("file:")]
        self._roots = tuple(p for p in paths if p)

    def shutdown(self) -> None:
        """pygls' teardown, after ours: the workers must not outlive the server."""
        self.close()
        super().shutdown()

    def close(self) -> None:
        """Stop builds, watching and the workers; safe to call twice, from any thread."""
        if self._closed:
            return
        self._closed = True
        self.scheduler.close()
        self.watcher.close()
        self.engine.close()  # kills the workers now, even mid-build


def create_server(engine: Optional[EngineAPI] = None) -> NetVizServer:
    """The server with every feature registered; ``engine`` replaces the real one (tests)."""
    server = NetVizServer(engine)

    @server.feature(types.INITIALIZE)
    @guarded
    def initialize(ls: NetVizServer, params: types.InitializeParams) -> None:
        """Read settings from ``initializationOptions`` and note the workspace folders."""
        ls.loop = asyncio.get_running_loop()
        value = configuration.settings_object(params.initialization_options)
        if value is not None:
            ls.settings = Settings.from_json(value)
            memory = ls.settings.build.effective_memory_limit_mb()
            if isinstance(ls.engine, Engine) and ls.engine.pool.memory_mb != memory:
                if ls.engine.worker_pids():  # started ahead (prestart) under the default cap
                    ls.engine.restart(memory)
                else:
                    ls.engine.pool.memory_mb = memory
        ls.set_roots(params.workspace_folders or [], params.root_uri)
        # The worker's Keras import overlaps the rest of the handshake and the first didOpen (with
        # ``python -m netviz_lsp`` it started before the server's own imports: prestart.py).
        ls.engine.start(ls.settings)

    @server.feature(types.INITIALIZED)
    @guarded
    async def initialized(ls: NetVizServer, params: types.InitializedParams) -> None:
        """Pull the settings when ``initializationOptions`` gave none (the worker started at ``initialize``)."""
        if ls.settings == Settings():
            value = await configuration.pull(ls)
            if value:
                ls.apply_settings(Settings.from_json(value))

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    @guarded
    def folders_changed(ls: NetVizServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        ls.set_roots(list(ls.workspace.folders.values()), None)

    @server.feature(types.SHUTDOWN)
    @guarded
    def shutdown(ls: NetVizServer, params: Any = None) -> None:
        ls.close()

    for feature in (textsync, notebooksync, hover, inlay, lens, actions, commands, configuration):
        feature.register(server)
    return server


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="netviz-lsp", description="The NetViz language server (stdio by default).")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (for debugging)")
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level, format="netviz-lsp %(levelname)s %(name)s: %(message)s")
    if args.log_level != "DEBUG":
        logging.getLogger("pygls").setLevel(logging.WARNING)  # it logs every message body at INFO
    server = create_server()
    # SIGTERM (an editor stopping us): kill the workers, then go at once. Unwinding could
    # wait forever on pygls' stdin reader thread.
    signal.signal(signal.SIGTERM, lambda signum, frame: (server.close(), os._exit(0)))
    try:
        if args.tcp:
            host, _, port = args.tcp.rpartition(":")
            if not port.isdigit():
                parser.error("--tcp wants HOST:PORT, e.g. 127.0.0.1:2087")
            server.start_tcp(host or "127.0.0.1", int(port))
        else:
            server.start_io(sys.stdin.buffer, protect_stdout())
    finally:
        server.close()
    return 0


def protect_stdout():
    """The LSP stream on a private copy of fd 1; fd 1 and ``sys.stdout`` then point at stderr.

    Whatever prints (a library, a stray ``print``, a child process inheriting fd 1) lands on
    stderr instead of corrupting the protocol.
    """
    stream = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return stream


if __name__ == "__main__":
    sys.exit(main())
