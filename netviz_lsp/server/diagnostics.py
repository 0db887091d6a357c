"""``textDocument/publishDiagnostics``: build errors as diagnostics at their lines.

Every ``BuildError`` kind (syntax, arguments, build, timeout, crash, memory, render)
becomes an Error from source ``netviz`` with the kind as its code. Errors carry 1-based
lines of the text they were built from; this module maps them through the edits made
since (``positions.LineMap``) and converts them to 0-based LSP ranges, so a
diagnostic moves with its line and is dropped when its line changed: it never lingers
on a line number that now holds other code. Diagnostics are published per document
version: ``publish`` is called after each build and after each ``didChange``. A
notebook's diagnostics go to its cell documents, at cell-local lines; a cell whose
problems are gone gets an empty list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence
from urllib.parse import unquote

from lsprotocol import types

from netviz_lsp.graph import BuildError
from netviz_lsp.server.positions import LineMap, utf16_width

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer
    from netviz_lsp.server.documents import Document
    from netviz_lsp.server.notebooks import NotebookView

SOURCE = "netviz"


def error_line(error: BuildError, factory_lines: Mapping[str, int]) -> int:
    """The 1-based line an error belongs to: its own, else its factory's ``def``, else the first."""
    if error.line:
        return error.line
    if error.factory and error.factory in factory_lines:
        return factory_lines[error.factory]
    return 1


def to_diagnostic(error: BuildError, line: int, text: str,
                  width: Callable[[str], int] = utf16_width) -> types.Diagnostic:
    """``error`` on 0-based ``line`` whose current text is ``text``: from its column (or the
    first non-blank character) to the end of the line."""
    indent = len(text) - len(text.lstrip())
    column = error.column if error.column is not None and 0 <= error.column <= len(text) else indent
    start = width(text[:column])
    end = max(width(text), start)
    if error.column is not None and start == end:  # an error at the end of a line: show one cell
        end = start + 1
    message = error.message if not error.factory or error.factory in error.message else \
        f"{error.factory}(): {error.message}"
    return types.Diagnostic(
        range=types.Range(start=types.Position(line, start), end=types.Position(line, end)),
        message=message,
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
        code=error.kind,
    )


def diagnostics_for(errors: Iterable[BuildError], factory_lines: Mapping[str, int], line_map: LineMap,
                    lines: Sequence[str], width: Callable[[str], int] = utf16_width) -> list[types.Diagnostic]:
    """Diagnostics for the current text; errors whose line changed since the build are dropped."""
    found: list[types.Diagnostic] = []
    seen: set[tuple[int, str, str]] = set()
    for error in errors:
        line = line_map.to_new(error_line(error, factory_lines) - 1)
        if line is None or line >= len(lines):
            continue
        key = (line, error.kind, error.message)
        if key not in seen:
            seen.add(key)
            found.append(to_diagnostic(error, line, lines[line], width))
    return found


def publish(server: "NetVizServer", document: "Document") -> None:
    """Publish the last build's errors for the document's current version (an empty list clears)."""
    built = document.last
    items: list[types.Diagnostic] = []
    if built is not None:
        factory_lines = {f.name: f.line for f in built.discovery.factories}
        width = lambda text: server.width(document.uri, text)  # noqa: E731
        items = diagnostics_for(built.errors, factory_lines, document.line_map(built.snapshot),
                                document.display_lines, width)
    if document.notebook is not None:
        _publish_cells(server, document, items)
        return
    key = tuple((d.range.start.line, d.range.start.character, d.range.end.character, d.message) for d in items)
    if key == document.published_diagnostics:
        return  # what the editor shows is still right for this version
    document.published_diagnostics = key
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=document.uri, diagnostics=items, version=document.version))


def by_cell(items: Iterable[types.Diagnostic], view: "NotebookView") -> dict[str, list[types.Diagnostic]]:
    """Diagnostics at lines of a notebook's joined text -> per cell URI, at cell-local lines."""
    cells: dict[str, list[types.Diagnostic]] = {uri: [] for uri in view.code_cells()}
    for item in items:
        where = view.to_cell(item.range.start.line)
        if where is None:
            continue
        uri, line = where
        start = types.Position(line, item.range.start.character)
        end = types.Position(line, item.range.end.character)
        cells.setdefault(uri, []).append(types.Diagnostic(
            range=types.Range(start=start, end=end), message=item.message, severity=item.severity,
            source=item.source, code=item.code))
    return cells


def _publish_cells(server: "NetVizServer", document: "Document", items: list[types.Diagnostic]) -> None:
    assert document.notebook is not None
    cells = by_cell(items, document.notebook)
    for uri in document.published_cells:  # cells gone since: clear what they showed
        cells.setdefault(uri, [])
    held = server.workspace.text_documents
    for uri, found in cells.items():
        key = tuple((d.range.start.line, d.range.start.character, d.range.end.character, d.message) for d in found)
        if key == document.published_cells.get(uri, ()):
            continue
        document.published_cells[uri] = key
        cell = held.get(unquote(uri))
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=found, version=cell.version if cell is not None else None))
    document.published_diagnostics = tuple(k for k in document.published_cells.values() if k)


def clear(server: "NetVizServer", uri: str) -> None:
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
