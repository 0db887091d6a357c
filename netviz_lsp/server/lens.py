"""``textDocument/codeLens``: a lens above each factory that opens its preview.

``NetViz: preview · 63.0M params`` once it built, ``NetViz: needs arguments`` when
discovery could not find what to call it with, ``NetViz: needs a stand-in value`` when it
needs data the slice never runs, ``NetViz: build failed`` when its last
build did. Every lens runs ``netviz.openPreview`` with ``[uri, factory]``; the editor
client implements that command. Factories come from the last build's discovery (the
last one that parsed, so lenses stay through a syntax error), mapped through unsaved
edits: no parsing at request time. In a notebook cell: the lenses of the factories whose
``def`` (or assignment) is in that cell; the command's ``uri`` is the notebook's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping, Optional

from lsprotocol import types

from netviz_lsp.discovery import Factory
from netviz_lsp.graph import ModelGraph, format_count
from netviz_lsp.server import notebooks
from netviz_lsp.server.positions import LineMap, map_line_1based

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer

OPEN_PREVIEW = "netviz.openPreview"


@dataclass
class Lens:
    """One factory's lens, before it becomes an LSP ``CodeLens``."""

    line: int
    """0-based line of the factory's ``def`` in the current text."""
    title: str
    """What the editor shows above the ``def``."""
    factory: str
    """The factory the lens previews."""


def lens_title(factory: Factory, graph: Optional[ModelGraph], failed: bool) -> str:
    """The lens text for one factory."""
    if factory.args is None:
        return "NetViz: needs arguments"
    if factory.blocked is not None:
        return "NetViz: needs a stand-in value"
    if failed:
        return "NetViz: build failed"
    if graph is not None:
        return f"NetViz: preview · {format_count(graph.total_params)} params"
    return "NetViz: preview"


def factory_lenses(factories: Iterable[Factory], line_map: LineMap, graphs: Mapping[str, ModelGraph],
                   failed: set[str]) -> list[Lens]:
    """Lenses for the factories whose ``def`` line is unchanged since they were discovered."""
    lenses = []
    for factory in factories:
        line = map_line_1based(line_map, factory.line)
        if line is not None:
            title = lens_title(factory, graphs.get(factory.name), factory.name in failed)
            lenses.append(Lens(line, title, factory.name))
    return lenses


def notebook_lenses(lenses: Iterable[Lens], view: "notebooks.NotebookView", cell: str) -> list[Lens]:
    """The lenses (at lines of the joined text) that lie in ``cell``, at its own lines."""
    found = []
    index = view.index_of(cell)
    for lens in lenses:
        where = view.to_cell(lens.line)
        if where is not None and view.index_of(where[0]) == index:
            found.append(Lens(where[1], lens.title, lens.factory))
    return found


def register(server: "NetVizServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    @server.guarded
    def code_lens(ls: "NetVizServer", params: types.CodeLensParams) -> Optional[list[types.CodeLens]]:
        """One lens per factory of the last build, at its current ``def`` line."""
        document, cell = notebooks.locate(ls, params.text_document.uri)
        if document is None or document.discovered is None:
            return None
        discovery, snapshot = document.discovered
        graphs = {name: good.graph for name, good in document.good.items()}
        lenses = factory_lenses(discovery.factories, document.line_map(snapshot), graphs,
                                document.failed_factories())
        if cell is not None and document.notebook is not None:
            lenses = notebook_lenses(lenses, document.notebook, cell)
        return [
            types.CodeLens(
                range=types.Range(start=types.Position(lens.line, 0), end=types.Position(lens.line, 0)),
                command=types.Command(title=lens.title, command=OPEN_PREVIEW,
                                      arguments=[document.uri, lens.factory]),
            )
            for lens in lenses
        ]
