"""Document sync: ``didOpen`` and ``didSave`` start builds; ``didChange`` re-maps; ``didClose`` forgets.

Builds are triggered by opening and saving a Python file, not by typing. Between saves
the server only re-maps what it knows to the new text: diagnostics are re-published for
the new version (moved with their lines, or dropped when their line changed), and a
diagram held back because the text differed is sent once the text matches again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from lsprotocol import types
from pygls.uris import to_fs_path

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
    """The editor's text changed, unsaved (no build): diagnostics move with their lines, and a
    diagram held back because the text differed is sent once the text matches again."""
    document.update(text, version)
    if document.last is not None:
        diagnostics.publish(ls, document)
        publish.held_diagram(ls, document)


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
        ls.request_build(document, "open")

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
        ls.request_build(document, "save")

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @server.guarded
    def did_close(ls: "NetVizServer", params: types.DidCloseTextDocumentParams) -> None:
        """Forget the document, drop its queued build and clear its diagnostics."""
        document = ls.documents.close(params.text_document.uri)
        if document is None:
            return
        ls.scheduler.discard(document.uri)
        if document.published_diagnostics:
            diagnostics.clear(ls, document.uri)
        ls.update_watches()
