"""A minimal editor for benchmarks: drives ``python -m netviz_lsp`` over stdio as an LSP client does.

Not a test helper: benchmarks time what a user waits for, from the request an
editor sends (didSave) to the notification it renders (``netviz/diagram``).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any, Optional

from lsprotocol import types
from pygls.lsp.client import LanguageClient


class Session:
    """One server process and the documents it has open."""

    def __init__(self, root: Path, settings: Optional[dict] = None):
        self.root = root
        self.settings = settings or {}
        self.client = LanguageClient("netviz-bench", "1")
        self.diagrams: list[tuple[float, dict]] = []
        self.waiters: list[tuple[str, int, asyncio.Future]] = []
        self.versions: dict[str, int] = {}
        self.started_at = 0.0
        self.initialized_at = 0.0
        """When the server answered ``initialize`` (``time.perf_counter``)."""

        @self.client.feature("netviz/diagram")
        def on_diagram(params: Any) -> None:
            payload = _plain(params)
            self.diagrams.append((time.perf_counter(), payload))
            for waiter in list(self.waiters):
                uri, version, future = waiter
                if payload.get("uri") == uri and payload.get("version", 0) >= version and not future.done():
                    future.set_result(payload)
                    self.waiters.remove(waiter)

        @self.client.feature("netviz/buildStatus")
        def on_status(params: Any) -> None:
            pass

        @self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def on_progress_create(params: Any) -> None:
            return None

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: Any) -> None:
            pass

        @self.client.feature(types.WORKSPACE_CONFIGURATION)
        def on_configuration(params: Any) -> list:
            return [self.settings for _ in params.items]

    async def start(self) -> None:
        self.started_at = time.perf_counter()
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        await self.client.start_io(sys.executable, "-m", "netviz_lsp", env=env)
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True)),
            root_uri=self.root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=self.root.as_uri(), name="bench")],
            initialization_options=self.settings,
        ))
        self.initialized_at = time.perf_counter()
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 30)
            self.client.exit(None)
        finally:
            await self.client.stop()

    def server_pid(self) -> Optional[int]:
        process = getattr(self.client, "_server", None)
        return getattr(process, "pid", None)

    def expect(self, uri: str, version: int) -> asyncio.Future:
        """A future for the first diagram of ``uri`` at ``version`` or later; register before acting."""
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((uri, version, future))
        return future

    def open(self, path: Path) -> tuple[str, int]:
        uri = path.as_uri()
        self.versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                                 text=path.read_text())))
        return uri, 1

    def type(self, path: Path, text: str) -> tuple[str, int]:
        """An unsaved edit: a full didChange and nothing else (the server builds it once idle)."""
        uri = path.as_uri()
        version = self.versions[uri] = self.versions.get(uri, 0) + 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        return uri, version

    def save(self, path: Path, text: str) -> tuple[str, int]:
        """Write ``text`` as the editor does on save: a full didChange, the file on disk, then didSave."""
        uri = path.as_uri()
        version = self.versions[uri] = self.versions.get(uri, 0) + 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        path.write_text(text)
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri), text=text))
        return uri, version


def _plain(value: Any) -> Any:
    """pygls hands custom notifications over as namespaces; turn them into dicts and lists."""
    if hasattr(value, "_asdict"):  # pygls' generic params are namedtuples
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: _plain(v) for k, v in vars(value).items()}
    return value
