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

An error raised inside a helper (``residual(x, filters)``) carries the chain of lines that
led to it (``BuildError.call_lines``, innermost first): each outer line becomes a
``relatedInformation`` entry ("`residual()` called here, in `build_model()`"), so the
editor links the failure to the line in the model's own code that called the helper. The
warnings Keras and TensorFlow raised during the build (``FileResult.warnings``) become
Warning diagnostics at their lines, with Keras' text, deduplicated; one without a line goes
where an error without one would (its factory's ``def``).
"""

from __future__ import annotations

import ast
import functools
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Optional, Sequence, Union
from urllib.parse import unquote

from lsprotocol import types

from netviz_lsp.discovery.parse import parse_module
from netviz_lsp.graph import BuildError, BuildWarning
from netviz_lsp.server.positions import LineMap, utf16_width

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer
    from netviz_lsp.server.documents import Document
    from netviz_lsp.server.notebooks import NotebookView

SOURCE = "netviz"


def error_line(error: Union[BuildError, BuildWarning], factory_lines: Mapping[str, int]) -> int:
    """The 1-based line an error belongs to: its own, else its factory's ``def``, else the first."""
    if error.line:
        return error.line
    if error.factory and error.factory in factory_lines:
        return factory_lines[error.factory]
    return 1


def to_diagnostic(error: BuildError, line: int, text: str,
                  width: Callable[[str], int] = utf16_width,
                  related: Optional[list[types.DiagnosticRelatedInformation]] = None) -> types.Diagnostic:
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
        related_information=related or None,
    )


def _line_range(line: int, text: str, width: Callable[[str], int]) -> types.Range:
    """From the first non-blank character of ``line`` to its end."""
    start = width(text[:len(text) - len(text.lstrip())])
    return types.Range(start=types.Position(line, start), end=types.Position(line, max(width(text), start)))


def warning_diagnostics(warnings: Iterable[BuildWarning], factory_lines: Mapping[str, int], line_map: LineMap,
                        lines: Sequence[str], width: Callable[[str], int] = utf16_width) -> list[types.Diagnostic]:
    """Keras' and TensorFlow's warnings as Warning diagnostics at their (current) lines, one per
    line and text; those whose line changed since the build are dropped, as errors are."""
    found: list[types.Diagnostic] = []
    seen: set[tuple[int, str]] = set()
    for warning in warnings:
        line = line_map.to_new(error_line(warning, factory_lines) - 1)
        if line is None or line >= len(lines) or (line, warning.message) in seen:
            continue
        seen.add((line, warning.message))
        found.append(types.Diagnostic(
            range=_line_range(line, lines[line], width), message=warning.message,
            severity=types.DiagnosticSeverity.Warning, source=SOURCE, code=warning.category))
    return found


@functools.lru_cache(maxsize=8)
def enclosing_functions(text: str) -> Callable[[int], Optional[str]]:
    """1-based line of ``text`` -> the name of the innermost function whose body holds it (kept for
    the last few built texts: diagnostics are published again after every edit)."""
    try:
        tree = parse_module(text, "<file>")  # as discovery reads it
    except (SyntaxError, ValueError):
        return lambda line: None
    spans = sorted(((node.lineno, node.end_lineno or node.lineno, node.name) for node in ast.walk(tree)
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))), reverse=True)

    def name(line: int) -> Optional[str]:
        # the latest-starting def that holds the line is the innermost one
        return next((found for first, last, found in spans if first <= line <= last), None)
    return name


def call_chain(error: BuildError, uri: str, line_map: LineMap, lines: Sequence[str],
               function_at: Callable[[int], Optional[str]],
               width: Callable[[str], int] = utf16_width) -> list[types.DiagnosticRelatedInformation]:
    """The outer lines of the error's call chain (``call_lines[1:]``, innermost first), each with
    which function was called there and from where; lines changed since the build are left out."""
    chain = [line for line in error.call_lines if line]
    if error.line and (not chain or chain[0] != error.line):
        chain.insert(0, error.line)
    related = []
    for inner, outer in zip(chain, chain[1:]):
        line = line_map.to_new(outer - 1)
        if line is None or line >= len(lines):
            continue
        called, caller = function_at(inner), function_at(outer)
        message = f"`{called}()` called here" if called else "called from here"
        if caller:
            message += f", in `{caller}()`"
        related.append(types.DiagnosticRelatedInformation(
            location=types.Location(uri=uri, range=_line_range(line, lines[line], width)), message=message))
    return related


def diagnostics_for(errors: Iterable[BuildError], factory_lines: Mapping[str, int], line_map: LineMap,
                    lines: Sequence[str], width: Callable[[str], int] = utf16_width, uri: str = "",
                    built_text: Optional[str] = None) -> list[types.Diagnostic]:
    """Diagnostics for the current text; errors whose line changed since the build are dropped.
    With ``uri`` and the ``built_text``, an error's call chain becomes its related information."""
    found: list[types.Diagnostic] = []
    seen: set[tuple[int, str, str]] = set()
    function_at: Optional[Callable[[int], Optional[str]]] = None
    for error in errors:
        line = line_map.to_new(error_line(error, factory_lines) - 1)
        if line is None or line >= len(lines):
            continue
        key = (line, error.kind, error.message)
        if key in seen:
            continue
        seen.add(key)
        related = None
        if uri and built_text is not None and len(error.call_lines) > 1:
            function_at = function_at or enclosing_functions(built_text)
            related = call_chain(error, uri, line_map, lines, function_at, width)
        found.append(to_diagnostic(error, line, lines[line], width, related))
    return found


def publish(server: "NetVizServer", document: "Document") -> None:
    """Publish the last build's errors for the document's current version (an empty list clears)."""
    built = document.last
    items: list[types.Diagnostic] = []
    if built is not None:
        factory_lines = {f.name: f.line for f in built.discovery.factories}
        width = lambda text: server.width(document.uri, text)  # noqa: E731
        line_map, lines = document.line_map(built.snapshot), document.display_lines
        items = diagnostics_for(built.errors, factory_lines, line_map, lines, width, document.uri, built.snapshot.text)
        items += warning_diagnostics(built.result.warnings, factory_lines, line_map, lines, width)
    if document.notebook is not None:
        _publish_cells(server, document, items)
        return
    key = tuple(_key(d) for d in items)
    if key == document.published_diagnostics:
        return  # what the editor shows is still right for this version
    document.published_diagnostics = key
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=document.uri, diagnostics=items, version=document.version))


def _key(d: types.Diagnostic) -> tuple:
    """What makes a published diagnostic differ for the editor."""
    related = tuple((r.location.uri, r.location.range.start.line, r.message) for r in d.related_information or ())
    return d.range.start.line, d.range.start.character, d.range.end.character, d.message, d.severity, related


def _in_cell(span: types.Range, view: "NotebookView") -> Optional[tuple[str, types.Range]]:
    where = view.to_cell(span.start.line)
    if where is None:
        return None
    uri, line = where
    return uri, types.Range(start=types.Position(line, span.start.character),
                            end=types.Position(line, span.end.character))


def by_cell(items: Iterable[types.Diagnostic], view: "NotebookView") -> dict[str, list[types.Diagnostic]]:
    """Diagnostics at lines of a notebook's joined text -> per cell URI, at cell-local lines (their
    related information too: a helper's caller may be in another cell)."""
    cells: dict[str, list[types.Diagnostic]] = {uri: [] for uri in view.code_cells()}
    for item in items:
        here = _in_cell(item.range, view)
        if here is None:
            continue
        related = []
        for info in item.related_information or ():
            there = _in_cell(info.location.range, view)
            if there is not None:
                related.append(types.DiagnosticRelatedInformation(
                    location=types.Location(uri=there[0], range=there[1]), message=info.message))
        cells.setdefault(here[0], []).append(types.Diagnostic(
            range=here[1], message=item.message, severity=item.severity,
            source=item.source, code=item.code, related_information=related or None))
    return cells


def _publish_cells(server: "NetVizServer", document: "Document", items: list[types.Diagnostic]) -> None:
    assert document.notebook is not None
    cells = by_cell(items, document.notebook)
    for uri in document.published_cells:  # cells gone since: clear what they showed
        cells.setdefault(uri, [])
    held = server.workspace.text_documents
    for uri, found in cells.items():
        key = tuple(_key(d) for d in found)
        if key == document.published_cells.get(uri, ()):
            continue
        document.published_cells[uri] = key
        cell = held.get(unquote(uri))
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=found, version=cell.version if cell is not None else None))
    document.published_diagnostics = tuple(k for k in document.published_cells.values() if k)


def clear(server: "NetVizServer", uri: str) -> None:
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
