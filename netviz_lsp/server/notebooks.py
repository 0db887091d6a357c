"""Notebooks in the server: one NetViz document per notebook, and the way between cells and it.

A Jupyter notebook open in the editor (LSP notebook document sync, ``notebooksync.py``) is
ONE ``Document``, keyed by the notebook's URI, whose text is its code cells joined
(``netviz_lsp.notebook.join``): it is built, cached, held back and superseded exactly as a
``.py`` file is, and everything inside the server (good graphs, line maps, diagnostics
before they go out) counts lines of that joined text. Cells appear only at the edges:

- ``NotebookView`` is the notebook as the editor has it now: its cell URIs, their join,
  and each joined line's own text in its cell. It maps a cell document's 0-based line to
  the joined text's and back, so hover, inlay hints, lenses and quick fixes asked on a
  cell answer from the notebook's last good build through the same ``LineMap`` of
  unsaved edits as a file's;
- ``with_cell_errors`` adds the syntax errors of cells that do not parse (blanked in the
  join) to a build's result at their joined lines, so they count like any other error;
- ``for_contract`` turns a build's result into the contract's notebook form (``cell``,
  cell-local ``line``) for ``netviz/diagram`` and JSON export.

Pure data: no LSP traffic here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Optional
from urllib.parse import unquote

from lsprotocol import types

from netviz_lsp import notebook as nb
from netviz_lsp.graph import BuildError, FileResult, ModelGraph

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer
    from netviz_lsp.server.documents import Document

NOTEBOOK_TYPE = "jupyter-notebook"
SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[types.NotebookDocumentFilterWithNotebook(
        notebook=NOTEBOOK_TYPE, cells=[types.NotebookCellLanguage(language=language)
                                       for language in ("python", "markdown", "raw")])],
    save=True,
)
"""What the server declares: ``jupyter-notebook`` notebooks with their Python, markdown and raw
cells, saves included. A client sends only the cells the selector names (vscode-languageclient
filters them), so markdown cells must be named for the cell indices to count them."""


@dataclass(eq=False)
class CellText:
    """One cell as the editor holds it."""

    uri: str
    """The cell's text document URI (``vscode-notebook-cell:...``)."""
    kind: str
    """``code`` (a Python code cell), ``markdown``, or ``raw`` (a code cell in another language)."""
    text: str


@dataclass(eq=False)
class NotebookView:
    """A notebook's cells now, their join, and the map between cell lines and joined lines."""

    uri: str
    """The notebook's URI."""
    cells: list[CellText]
    """Every cell, markdown included, in order: a cell's index here is its index in the notebook."""
    joined: nb.Notebook = field(init=False)
    """The code cells joined: ``joined.source`` is the document's text."""
    display: list[str] = field(init=False, repr=False)
    """0-based joined line -> that line's own text in its cell (magics and broken cells not blanked)."""
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.joined = nb.join(nb.Cell(i, c.kind, c.text) for i, c in enumerate(self.cells))
        own = [cell.text.split("\n") for cell in self.cells]
        self.display = [own[cell][line - 1] if line - 1 < len(own[cell]) else "" for cell, line in self.joined.origins]
        self.display.append("")  # the joined text ends with a newline: one more (empty) line
        self._index = {_key(cell.uri): i for i, cell in enumerate(self.cells)}

    def index_of(self, cell_uri: str) -> Optional[int]:
        """The cell's index in the notebook, or None when it is not one of its cells."""
        return self._index.get(_key(cell_uri))

    def to_joined(self, cell_uri: str, line: int) -> Optional[int]:
        """0-based ``line`` of the cell -> 0-based line of the joined text (None: not a code line)."""
        index = self.index_of(cell_uri)
        if index is None or line < 0:
            return None
        at = self.joined.line_of(index, line + 1)
        return at - 1 if at is not None else None

    def to_cell(self, line: int) -> Optional[tuple[str, int]]:
        """0-based joined ``line`` -> (cell URI, 0-based line in that cell)."""
        cell, local = self.joined.where(line + 1)
        if cell is None or local is None:
            return None
        return self.cells[cell].uri, local - 1

    def span(self, cell_uri: str, first: int, last: int) -> Optional[tuple[int, int]]:
        """The joined lines of the cell's 0-based lines ``first..last`` (clamped to the cell)."""
        index = self.index_of(cell_uri)
        start = self.joined.starts.get(index) if index is not None else None
        if start is None:
            return None
        size = sum(1 for cell, _ in self.joined.origins if cell == index)
        first, last = max(first, 0), min(last, size - 1)
        if size == 0 or first > last:
            return None
        return start - 1 + first, start - 1 + last

    def code_cells(self) -> list[str]:
        return [cell.uri for cell in self.cells if cell.kind == "code"]


def _key(uri: str) -> str:
    return unquote(uri)


def read(server: "NetVizServer", notebook: types.NotebookDocument) -> NotebookView:
    """The notebook as pygls' workspace holds it now (pygls applies the notebook changes)."""
    cells = []
    held = server.workspace.text_documents
    for cell in notebook.cells:
        document = held.get(_key(cell.document))
        text = document.source if document is not None else ""
        language = getattr(document, "language_id", None) or "python"
        if cell.kind == types.NotebookCellKind.Code:
            kind = "code" if language == "python" else "raw"
        else:
            kind = "markdown"
        cells.append(CellText(cell.document, kind, text))
    return NotebookView(notebook.uri, cells)


def locate(server: "NetVizServer", uri: str) -> tuple[Optional["Document"], Optional[str]]:
    """The NetViz document a request's URI belongs to, and the cell URI when it is a notebook cell."""
    document = server.documents.get(uri)
    if document is not None:
        return document, None
    for document in server.documents:
        if document.notebook is not None and document.notebook.index_of(uri) is not None:
            return document, uri
    return None, None


def with_cell_errors(result: FileResult, joined: nb.Notebook) -> FileResult:
    """``result`` plus the syntax errors of the cells that do not parse, at their joined lines."""
    if not joined.errors:
        return result
    extra = []
    for error in joined.errors:
        line = joined.line_of(error.cell, error.line or 1) if error.cell is not None else None
        extra.append(dataclasses.replace(error, line=line, cell=None))
    return dataclasses.replace(result, errors=[*result.errors, *extra])


def map_error(error: BuildError, joined: nb.Notebook) -> BuildError:
    """An error at a joined line -> at its cell and cell-local line (its call chain and partial
    graph's layers too, as ``notebook.map_result`` maps them)."""
    if error.graph is not None or error.call_lines:
        without_errors = dataclasses.replace(joined, errors=[])
        inner = nb.map_result(FileResult(file="", errors=[dataclasses.replace(error, cell=None)]), without_errors).errors[0]
        error = dataclasses.replace(error, graph=inner.graph, call_lines=inner.call_lines, call_cells=inner.call_cells)
    cell, line = joined.where(error.line)
    if cell is None:
        return dataclasses.replace(error, line=None) if error.line is not None else error
    return dataclasses.replace(error, cell=cell, line=line)


def map_models(models: Iterable[ModelGraph], joined: nb.Notebook) -> list[ModelGraph]:
    """Graphs built from the joined text, with cells and cell-local lines."""
    without_errors = dataclasses.replace(joined, errors=[])
    return nb.map_result(FileResult(file="", models=list(models)), without_errors).models


def for_contract(models: Iterable[ModelGraph], errors: Iterable[BuildError],
                 joined: nb.Notebook) -> tuple[list[ModelGraph], list[BuildError]]:
    """A build's graphs and errors (joined lines, cell errors included) in the contract's notebook form."""
    mapped = [map_error(error, joined) for error in errors]
    mapped.sort(key=lambda e: (e.cell if e.cell is not None else -1, e.line or 0, e.factory or ""))
    return map_models(models, joined), mapped


def where_text(line: Optional[int], joined: Optional[nb.Notebook]) -> str:
    """``line 12``, or ``cell 6, line 3`` in a notebook, cells counted from 1 as editors show them
    ('' when there is no line)."""
    if not line:
        return ""
    if joined is None:
        return f"line {line}"
    cell, local = joined.where(line)
    return f"cell {cell + 1}, line {local}" if cell is not None else ""
