"""Per-file state of the server: the editor's text, and what the last builds made of it.

Everything hover, inlay hints, code lens, diagnostics and the commands answer from lives
here, in memory, on the event loop's thread. A ``Document`` keeps the current text and
version (from ``didOpen``/``didChange``), the last build that was not superseded
(``last``: its text snapshot, discovery, result, SVGs, whether it was shown), and for
each factory the graph of its last good build (``good``), which survives a later build
in which that factory failed. Line maps from a build's text to the current text are
cached per (snapshot, version). A build of unsaved text (preview as you type) is a build
like any other: its snapshot is the editor's text at that version, so it is shown while
the editor still has that text, exactly as a save's build is. A notebook is one ``Document`` too (keyed by the
notebook's URI): its text is its code cells joined, and ``notebook`` maps cells to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Optional

from netviz_lsp.discovery import Discovery, Factory
from netviz_lsp.graph import BuildError, FileResult, ModelGraph
from netviz_lsp.server.changes import PushedGraphs
from netviz_lsp.server.positions import LineMap, split_lines

if TYPE_CHECKING:
    from netviz_lsp.notebook import Notebook
    from netviz_lsp.server.notebooks import NotebookView

#: Kinds after which a factory counts as failed (``arguments`` is "needs arguments" instead).
FAILED_KINDS = frozenset({"syntax", "build", "timeout", "crash", "memory", "render"})


@dataclass(eq=False)
class Snapshot:
    """The exact text a build was made from."""

    version: Optional[int]
    """The document version it was, ``None`` when read from disk."""
    text: str
    """The source the worker ran."""
    notebook: Optional["Notebook"] = None
    """For a notebook: the join ``text`` is, to map its lines back to cells."""
    lines: list[str] = field(init=False, repr=False)
    """``text`` split into lines, as LSP counts them."""

    def __post_init__(self) -> None:
        self.lines = split_lines(self.text)


@dataclass(eq=False)
class Built:
    """One finished build of one document."""

    snapshot: Snapshot
    """The text it built."""
    discovery: Discovery
    """What discovery found in that text (factories, their lines and arguments)."""
    result: FileResult
    """The graphs and errors the worker produced."""
    svgs: dict[str, str] = field(default_factory=dict)
    """Factory -> rendered SVG (absent when rendering failed: see ``render_errors``)."""
    render_errors: list[BuildError] = field(default_factory=list)
    """Graphviz failures, as ``render`` errors of their factories."""
    elapsed_ms: float = 0.0
    """Wall time from the start of the build to its last render."""
    published: bool = False
    """Whether its diagram was sent; it is held back while the editor's text differs."""
    partials: dict[str, Optional[str]] = field(default_factory=dict)
    """Failed factory -> its error's partial graph drawn as SVG (``None`` when Graphviz failed)."""

    @property
    def errors(self) -> list[BuildError]:
        return [*self.result.errors, *self.render_errors]

    def failed_factories(self, factories: Optional[list[Factory]] = None) -> set[str]:
        """Factories this build failed for; a file-wide failure fails all it meant to build
        (``factories``: those to assume when this build's text did not even parse)."""
        names: set[str] = set()
        everyone = self.discovery.factories or factories or []
        for error in self.errors:
            if error.kind not in FAILED_KINDS:
                continue
            if error.factory:
                names.add(error.factory)
            else:
                built = {m.factory for m in self.result.models}
                names.update(f.name for f in everyone if f.args is not None and f.name not in built)
        return names


@dataclass(eq=False)
class GoodGraph:
    """A factory's last successfully built graph, with the text it was built from."""

    graph: ModelGraph
    """The graph as built."""
    snapshot: Snapshot
    """The text it was built from; its lines are the graph's lines."""
    svg: Optional[str] = None
    """Its last rendering, when Graphviz managed."""
    contract: Optional[ModelGraph] = None
    """For a notebook: ``graph`` with cells and cell-local lines (made when first asked for)."""


class Document:
    """An open Python file, or an open notebook (``notebook`` set, ``text`` its code cells joined)."""

    def __init__(self, uri: str, path: Optional[str], text: str, version: Optional[int]):
        self.uri = uri
        self.path = path
        self.text = text
        self.version = version
        self.last: Optional[Built] = None
        self.good: dict[str, GoodGraph] = {}
        self.discovered: Optional[tuple[Discovery, Snapshot]] = None
        """The last discovery of a text that parsed, with that text: lenses outlive a syntax error."""
        self.had_factories = False
        """Whether any build of this file found factories (then it gets status and diagrams)."""
        self.dependencies: frozenset[str] = frozenset()
        """Workspace files its last build imported, directly or not."""
        self.requested_text: Optional[str] = None
        """The text of the newest build request, to tell our own saves from outside edits."""
        self.disk_text: Optional[str] = None
        """The editor's text when it opened or last saved the file: what it says is on disk. A
        disk event showing this text is the editor's own save, even when typing has moved on."""
        self.published_diagnostics: tuple = ()
        self.notebook: Optional["NotebookView"] = None
        """For a notebook: its cells now and their join (``text`` is ``notebook.joined.source``)."""
        self.published_cells: dict[str, tuple] = {}
        """For a notebook: what was last published per cell URI (diagnostics go to cells)."""
        self.typing: Optional[Any] = None
        """The idle timer (an ``asyncio.TimerHandle``) that builds the unsaved text as typed."""
        self.pushed = PushedGraphs()
        """Per target, the baseline its diagrams' ``changes`` compare with, and the changes last sent."""
        self._lines: Optional[list[str]] = None
        self._revision = 0
        self._maps: dict[int, tuple[Snapshot, int, LineMap]] = {}

    def stop_typing(self) -> None:
        """Forget the pending as-you-type build (a save, a close, or a newer edit replaces it)."""
        if self.typing is not None:
            self.typing.cancel()
            self.typing = None

    def update(self, text: str, version: Optional[int]) -> None:
        self.text, self.version, self._lines = text, version, None
        self._revision += 1

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines(self.text)
        return self._lines

    @property
    def display_lines(self) -> list[str]:
        """The current lines as the editor shows them: a notebook's own cell lines, not blanked."""
        return self.notebook.display if self.notebook is not None else self.lines

    @property
    def folder(self) -> Optional[str]:
        return os.path.dirname(self.path) if self.path else None

    def line_map(self, snapshot: Snapshot) -> LineMap:
        """Lines of ``snapshot`` -> lines of the current text (cached until the next change)."""
        cached = self._maps.get(id(snapshot))
        if cached is not None and cached[0] is snapshot and cached[1] == self._revision:
            return cached[2]
        line_map = LineMap(snapshot.lines, self.lines)
        self._maps[id(snapshot)] = (snapshot, self._revision, line_map)
        return line_map

    def record(self, built: Built) -> None:
        """Make ``built`` the last build; its good graphs replace older ones per factory."""
        self.last = built
        self.had_factories = self.had_factories or bool(built.discovery.factories)
        names = {f.name for f in built.discovery.factories}
        if not any(e.kind == "syntax" for e in built.discovery.errors):
            self.discovered = (built.discovery, built.snapshot)
            self.good = {name: good for name, good in self.good.items() if name in names}
        for model in built.result.models:
            self.good[model.factory] = GoodGraph(model, built.snapshot, built.svgs.get(model.factory))
        live = {id(good.snapshot) for good in self.good.values()} | {id(built.snapshot)}
        if self.discovered is not None:
            live.add(id(self.discovered[1]))
        self._maps = {key: value for key, value in self._maps.items() if key in live}

    def graph_sources(self) -> list[tuple[ModelGraph, LineMap]]:
        """Every good graph with the map from its build's lines to the current ones."""
        return [(good.graph, self.line_map(good.snapshot)) for good in self.good.values()]

    def graphs_at(self, line: int) -> Iterator[tuple[list[ModelGraph], int]]:
        """Good graphs grouped by build text, each with the 0-based built line current ``line`` was."""
        groups: dict[int, tuple[Snapshot, list[ModelGraph]]] = {}
        for good in self.good.values():
            groups.setdefault(id(good.snapshot), (good.snapshot, []))[1].append(good.graph)
        for snapshot, graphs in groups.values():
            built_line = self.line_map(snapshot).to_old(line)
            if built_line is not None:
                yield graphs, built_line

    def failed_factories(self) -> set[str]:
        """The factories the last build failed for (all of them after a syntax error)."""
        if self.last is None:
            return set()
        return self.last.failed_factories(self.discovered[0].factories if self.discovered else None)

    def shows_current_text(self) -> bool:
        """Whether the last build was made from exactly the text the editor has now."""
        return self.last is not None and self.last.snapshot.text == self.text


class DocumentStore:
    """The open documents by URI."""

    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}

    def open(self, uri: str, path: Optional[str], text: str, version: Optional[int]) -> Document:
        document = self._documents.get(uri)
        if document is None:
            document = self._documents[uri] = Document(uri, path, text, version)
        else:
            document.update(text, version)
        return document

    def get(self, uri: str) -> Optional[Document]:
        return self._documents.get(uri)

    def close(self, uri: str) -> Optional[Document]:
        return self._documents.pop(uri, None)

    def __iter__(self) -> Iterator[Document]:
        return iter(list(self._documents.values()))

    def by_path(self, path: str) -> Optional[Document]:
        real = os.path.realpath(path)
        return next((d for d in self if d.path and os.path.realpath(d.path) == real), None)
