"""Document sync: ``didOpen`` and ``didSave`` start builds; ``didChange`` re-maps and, once the
typing pauses, builds the unsaved text; ``didClose`` forgets.

Opening and saving a Python file build it. On each edit the server first re-maps what it
knows to the new text: diagnostics are re-published for the new version (moved with their
lines, or dropped when their line changed), and a diagram held back because the text
differed is sent once the text matches again. Then, with ``build.onType`` (the default),
an idle timer of ``build.onTypeDelayMs`` restarts; when it fires and the buffer parses,
the unsaved text is built like a save (same scheduler, latest wins, same slices and
safety rules), so the diagram, hovers, inlay hints and diagnostics follow the typed
version. A buffer that does not parse is not built: the last diagram stays, and its
syntax error is published when the file is saved (a half-typed line is no error worth
showing). A notebook counts as not parsing while any of its code cells does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from lsprotocol import types
from pygls.uris import to_fs_path

from netviz_lsp.discovery.parse import parse
from netviz_lsp.graph import BuildError
from netviz_lsp.server import diagnostics, publish

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer


def python_path(uri: str, language_id: Optional[str] = None) -> Optional[str]:
    """The file path of a Python document with a ``file:`` URI, else None (untitled, notebooks, …)."""
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    if not path:
        return None
    if language_id is not None and language_id != "python" and not path.endswith(".py"):
        return None
    if language_id is None and not path.endswith((".py", ".pyw")):
        return None
    return path


def text_changed(ls: "NetVizServer", document, text: str, version: Optional[int]) -> None:
    """The editor's text changed, unsaved: diagnostics move with their lines, a diagram held
    back because the text differed is sent once the text matches again, and the typed text
    is built once the editor has been idle for ``build.onTypeDelayMs``."""
    document.update(text, version)
    if document.last is not None:
        diagnostics.publish(ls, document)
        publish.held_diagram(ls, document)
    build_when_idle(ls, document)


def opened_or_saved(ls: "NetVizServer", document, why: str) -> None:
    """The editor's text is the file's now (``why``: ``open`` or ``save``): remember it as such
    (the watcher's own-save check, ``changes``' baseline) and build it. A file's and a notebook's."""
    document.disk_text = document.text
    ls.request_build(document, why)


def closed(ls: "NetVizServer", document) -> None:
    """The editor closed it: no typed build fires, its queued build is dropped, its imports unwatched.
    (Its diagnostics are the caller's: a file's or each of a notebook's cells'.)"""
    document.stop_typing()
    ls.scheduler.discard(document.uri)
    ls.update_watches()


def build_when_idle(ls: "NetVizServer", document) -> None:
    """(Re)start the document's idle timer; it builds the text as typed (``build.onType``)."""
    document.stop_typing()
    options = ls.settings.build
    if options.on_type and document.path is not None:
        document.typing = ls.later(options.on_type_delay_ms / 1000, typing_paused, ls, document)


def typing_paused(ls: "NetVizServer", document) -> None:
    """The idle timer fired: build the editor's text if it parses and is not already asked for."""
    document.typing = None
    if ls.documents.get(document.uri) is not document or not ls.settings.build.on_type:
        return
    text = document.text
    if text == document.requested_text:
        return  # the build of exactly this text is queued, running or done
    if not (document.had_factories or "keras" in text) or not parses(document):
        return  # not a model file; or mid-edit: keep the last diagram, say nothing until a save
    ls.request_build(document, "type")


def parses(document) -> bool:
    """Whether the document's text compiles (a notebook: every code cell does)."""
    if document.notebook is not None:
        return not document.notebook.joined.errors
    return not isinstance(parse(document.text, document.path or "<editor>"), BuildError)


def register(server: "NetVizServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @server.guarded
    def did_open(ls: "NetVizServer", params: types.DidOpenTextDocumentParams) -> None:
        """Track the document and build it: its factories may never have been built."""
        item = params.text_document
        path = python_path(item.uri, item.language_id)
        if path is None:
            return
        document = ls.documents.open(item.uri, path, item.text, item.version)
        opened_or_saved(ls, document, "open")

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @server.guarded
    def did_change(ls: "NetVizServer", params: types.DidChangeTextDocumentParams) -> None:
        """Take the new text (pygls applied the changes), re-map diagnostics, release a held diagram."""
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return
        current = ls.workspace.get_text_document(document.uri)
        text_changed(ls, document, current.source, params.text_document.version)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    @server.guarded
    def did_save(ls: "NetVizServer", params: types.DidSaveTextDocumentParams) -> None:
        """Build what was saved (the editor's text; it is the file's text now)."""
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return
        opened_or_saved(ls, document, "save")

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @server.guarded
    def did_close(ls: "NetVizServer", params: types.DidCloseTextDocumentParams) -> None:
        """Forget the document, drop its queued build and clear its diagnostics."""
        document = ls.documents.close(params.text_document.uri)
        if document is None:
            return
        if document.published_diagnostics:
            diagnostics.clear(ls, document.uri)
        closed(ls, document)
