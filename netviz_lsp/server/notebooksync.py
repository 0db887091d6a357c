"""Notebook document sync: ``notebookDocument/didOpen``, ``didChange``, ``didSave``, ``didClose``.

pygls keeps the notebook and its cells (as text documents) in ``ls.workspace`` and applies
every change before these handlers run. Here a notebook becomes ONE NetViz document,
keyed by the notebook's URI, whose text is its Python code cells joined
(``notebooks.NotebookView``), built through the same scheduler and engine as a ``.py``
file (as the ``.ipynb`` path), latest wins: opening and saving build, editing a cell
only re-maps (diagnostics move with their lines, a held diagram is released when the
text comes back), closing forgets. Diagnostics go to the cell documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from lsprotocol import types
from pygls.uris import to_fs_path

from netviz_lsp.server import diagnostics, notebooks, textsync

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer


def notebook_path(uri: str) -> Optional[str]:
    """The file of a notebook saved on disk (a ``file:`` URI), else None (untitled, interactive)."""
    if not uri.startswith("file:"):
        return None
    return to_fs_path(uri) or None


def register(server: "NetVizServer") -> None:
    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    @server.guarded
    def did_open(ls: "NetVizServer", params: types.DidOpenNotebookDocumentParams) -> None:
        """Track the notebook as one document (its code cells joined) and build it."""
        notebook = params.notebook_document
        path = notebook_path(notebook.uri)
        held = ls.workspace.get_notebook_document(notebook_uri=notebook.uri)
        if path is None or held is None:
            return
        view = notebooks.read(ls, held)
        document = ls.documents.open(notebook.uri, path, view.joined.source, held.version)
        document.notebook = view
        textsync.opened_or_saved(ls, document, "open")

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    @server.guarded
    def did_change(ls: "NetVizServer", params: types.DidChangeNotebookDocumentParams) -> None:
        """Re-join the cells (pygls applied the changes), re-map diagnostics, release a held diagram."""
        document = ls.documents.get(params.notebook_document.uri)
        held = ls.workspace.get_notebook_document(notebook_uri=params.notebook_document.uri)
        if document is None or held is None:
            return
        view = notebooks.read(ls, held)
        document.notebook = view
        textsync.text_changed(ls, document, view.joined.source, held.version)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    @server.guarded
    def did_save(ls: "NetVizServer", params: types.DidSaveNotebookDocumentParams) -> None:
        """Build the cells as the editor has them (the notebook's text on disk now)."""
        document = ls.documents.get(params.notebook_document.uri)
        if document is None:
            return
        textsync.opened_or_saved(ls, document, "save")

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    @server.guarded
    def did_close(ls: "NetVizServer", params: types.DidCloseNotebookDocumentParams) -> None:
        """Forget the notebook, drop its queued build, clear its cells' diagnostics."""
        document = ls.documents.close(params.notebook_document.uri)
        if document is None:
            return
        for cell_uri, published in document.published_cells.items():
            if published:
                diagnostics.clear(ls, cell_uri)
        textsync.closed(ls, document)
