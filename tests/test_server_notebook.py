"""Notebooks in the language server, over LSP notebook document sync, driven by pytest-lsp.

The real server and a real TensorFlow worker. The test client opens a copy of
``tests/fixtures/notebooks/fashion_classifier.ipynb`` as an editor's notebook: a
``notebookDocument/didOpen`` with every cell (markdown too) as a cell text document, then
edits cells with ``notebookDocument/didChange`` and saves with ``didSave``. It asserts
the diagram keyed by the notebook's URI with cells and cell-local lines, hovers, inlay
hints and code lenses asked on a cell document, diagnostics published to the right cell,
what a cell edit rebuilds and what it leaves cached, and an export's default name.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_server_lsp import SERVER, eventually, start_session

from netviz_lsp.graph import BuildError, BuildInfo, FileResult, Layer, ModelGraph
from netviz_lsp.server.diagnostics import by_cell
from netviz_lsp.server.notebooks import CellText, NotebookView, for_contract, with_cell_errors

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "notebooks" / "fashion_classifier.ipynb"
MODEL_PARAMS = 320 + 13 * 13 * 32 * 10 + 10  # Conv2D(32, 3) on 28x28x1, pooled to 13x13, Dense(10)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("notebooks")


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient, folder: Path):
    lsp_client.initialized_with = await start_session(lsp_client, folder, name="notebooks", capabilities=types.ClientCapabilities(notebook_document=types.NotebookDocumentClientCapabilities(
            synchronization=types.NotebookDocumentSyncClientCapabilities())), options={"build": {"timeoutSeconds": 5}})
    yield
    await lsp_client.shutdown_session()


class OpenNotebook:
    """A copy of the fixture notebook the test client has open, cell by cell."""

    def __init__(self, client: LanguageClient, folder: Path, source: Path = FIXTURE):
        folder.mkdir()
        self.path = folder / source.name
        shutil.copy(source, self.path)
        self.client, self.uri, self.version = client, self.path.as_uri(), 1
        cells = json.loads(self.path.read_text())["cells"]
        self.kinds = [c["cell_type"] for c in cells]
        self.texts = ["".join(c["source"]) for c in cells]
        self.cell_versions = [1] * len(cells)
        self.cell_uris = [f"vscode-notebook-cell:{self.path}#W{i}sZmlsZQ%3D%3D" for i in range(len(cells))]
        client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=self.uri, notebook_type="jupyter-notebook", version=1,
                cells=[types.NotebookCell(kind=types.NotebookCellKind.Code if kind == "code"
                                          else types.NotebookCellKind.Markup, document=uri)
                       for kind, uri in zip(self.kinds, self.cell_uris)]),
            cell_text_documents=[
                types.TextDocumentItem(uri=uri, language_id="python" if kind == "code" else "markdown",
                                       version=1, text=text)
                for kind, uri, text in zip(self.kinds, self.cell_uris, self.texts)]))

    def line_in(self, cell: int, needle: str) -> int:
        """0-based line of ``needle`` in the cell."""
        return next(i for i, text in enumerate(self.texts[cell].split("\n")) if needle in text)

    def edit(self, cell: int, text: str) -> None:
        """Replace one cell's whole text (notebookDocument/didChange), no save."""
        self.texts[cell], self.version = text, self.version + 1
        self.cell_versions[cell] += 1
        self.client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(version=self.version, uri=self.uri),
            change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
                types.NotebookDocumentCellContentChanges(
                    document=types.VersionedTextDocumentIdentifier(uri=self.cell_uris[cell],
                                                                   version=self.cell_versions[cell]),
                    changes=[types.TextDocumentContentChangeWholeDocument(text=text)])]))))

    def insert_markdown(self, at: int, text: str) -> None:
        """A new markdown cell at index ``at`` (a structure change): every later cell's index moves."""
        uri = f"vscode-notebook-cell:{self.path}#new{at}"
        self.kinds.insert(at, "markdown")
        self.texts.insert(at, text)
        self.cell_versions.insert(at, 1)
        self.cell_uris.insert(at, uri)
        self.version += 1
        self.client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(version=self.version, uri=self.uri),
            change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
                structure=types.NotebookDocumentCellChangeStructure(
                    array=types.NotebookCellArrayChange(start=at, delete_count=0, cells=[
                        types.NotebookCell(kind=types.NotebookCellKind.Markup, document=uri)]),
                    did_open=[types.TextDocumentItem(uri=uri, language_id="markdown", version=1, text=text)])))))

    def save(self) -> None:
        data = json.loads(self.path.read_text())
        data["cells"] = [{"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True),
                          **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                         for kind, text in zip(self.kinds, self.texts)]
        self.path.write_text(json.dumps(data, indent=1))
        self.client.notebook_document_did_save(types.DidSaveNotebookDocumentParams(
            notebook_document=types.NotebookDocumentIdentifier(uri=self.uri)))

    def close(self) -> None:
        self.client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
            notebook_document=types.NotebookDocumentIdentifier(uri=self.uri),
            cell_text_documents=[types.TextDocumentIdentifier(uri=uri) for uri in self.cell_uris]))

    async def diagram(self, since: int = 0, check=lambda d: True) -> dict:
        def found():
            return next((d for d in self.client.netviz_diagrams[since:] if d["uri"] == self.uri and check(d)), None)
        return await eventually(found, f"a diagram of {self.path}")

    def diagnostics(self, cell: int) -> list[types.Diagnostic]:
        return list(self.client.diagnostics.get(self.cell_uris[cell], []))

    async def hover(self, cell: int, line: int) -> str | None:
        answer = await self.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=self.cell_uris[cell]),
            position=types.Position(line=line, character=4)))
        return answer.contents.value if answer else None

    async def inlay_hints(self, cell: int) -> list[types.InlayHint]:
        end = types.Position(line=len(self.texts[cell].split("\n")), character=0)
        hints = await self.client.text_document_inlay_hint_async(types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=self.cell_uris[cell]),
            range=types.Range(start=types.Position(line=0, character=0), end=end)))
        return hints or []

    async def code_lenses(self, cell: int) -> list[types.CodeLens]:
        return await self.client.text_document_code_lens_async(types.CodeLensParams(
            text_document=types.TextDocumentIdentifier(uri=self.cell_uris[cell]))) or []


# -- the mapping, without a server --------------------------------------------------------------

def view(*texts: str) -> NotebookView:
    """Code cells ``c0``, ``c1``…, markdown for texts starting with ``#md``."""
    return NotebookView("file:///nb.ipynb", [CellText(f"cell:c{i}", "markdown" if t.startswith("#md") else "code", t)
                                             for i, t in enumerate(texts)])


async def test_cell_lines_map_to_the_joined_text_and_back_through_markdown_magics_and_broken_cells():
    nb = view("#md title", "%matplotlib inline\nimport keras", "#md", "x = (\n", "model = f()\nmodel.fit()")
    assert nb.joined.source == "\nimport keras\n\nmodel = f()\nmodel.fit()\n"
    assert nb.display == ["%matplotlib inline", "import keras", "x = (", "model = f()", "model.fit()", ""]
    assert [nb.to_joined("cell:c4", n) for n in (0, 1, 2)] == [3, 4, None]
    assert nb.to_joined("cell:c0", 0) is None and nb.to_joined("cell:other", 0) is None
    assert [nb.to_cell(n) for n in (0, 2, 4, 5)] == [("cell:c1", 0), ("cell:c3", 0), ("cell:c4", 1), None]
    assert nb.span("cell:c4", 0, 99) == (3, 4) and nb.span("cell:c0", 0, 9) is None
    assert nb.code_cells() == ["cell:c1", "cell:c3", "cell:c4"]

    # The broken cell's syntax error counts at its joined line, and goes back to its cell.
    result = with_cell_errors(FileResult("nb.ipynb"), nb.joined)
    assert [(e.kind, e.cell, e.line) for e in result.errors] == [("syntax", None, 3)]
    layer = Layer("d", "d", "Dense", 4, [4], [None, 2], 6, True)
    graph = ModelGraph("model", 4, "Functional", 6, 6, 0, [], [], BuildInfo(1.0, True), [layer])
    models, errors = for_contract([graph], [BuildError("build", "boom", 5, "model"), *result.errors], nb.joined)
    assert (models[0].cell, models[0].line, models[0].layers[0].cell, models[0].layers[0].line) == (4, 1, 4, 1)
    assert [(e.kind, e.cell, e.line) for e in errors] == [("syntax", 3, 1), ("build", 4, 2)]
    assert graph.line == 4 and layer.cell is None  # the server's own graphs keep joined lines

    # Diagnostics at joined lines go to their cells; every code cell gets a list.
    at = lambda line: types.Diagnostic(range=types.Range(types.Position(line, 2), types.Position(line, 5)),  # noqa: E731
                                       message=f"at {line}")
    cells = by_cell([at(2), at(4)], nb)
    assert {uri: [(d.range.start.line, d.range.start.character, d.message) for d in found]
            for uri, found in cells.items()} == {"cell:c1": [], "cell:c3": [(0, 2, "at 2")], "cell:c4": [(1, 2, "at 4")]}


# -- over LSP ------------------------------------------------------------------------------------

def model(diagram: dict, name: str) -> dict:
    return next(m for m in diagram["models"] if m["factory"] == name)


def cached(diagram: dict) -> dict[str, bool]:
    return {m["factory"]: m["graph"]["build"]["cached"] for m in diagram["models"]}


async def test_a_notebook_is_one_diagram_with_cells_and_its_cells_get_hovers_hints_lenses_and_diagnostics(
        client: LanguageClient, folder: Path):
    sync = client.initialized_with.capabilities.notebook_document_sync
    assert (sync.notebook_selector[0].notebook, sync.notebook_selector[0].cells[0].language, sync.save) == (
        "jupyter-notebook", "python", True)
    nb = OpenNotebook(client, folder / "first")
    diagram = await nb.diagram()

    assert diagram["uri"] == nb.uri and [m["factory"] for m in diagram["models"]] == ["model", "residual_mlp"]
    graph = model(diagram, "model")["graph"]
    assert (graph["kind"], graph["cell"], graph["line"], graph["total_params"]) == ("variable", 5, 3, MODEL_PARAMS)
    conv = graph["layers"][0]
    assert (conv["class_name"], conv["cell"], conv["line"]) == ("Conv2D", 5, nb.line_in(5, "layers.Conv2D(32") + 1)
    mlp = model(diagram, "residual_mlp")["graph"]
    assert (mlp["cell"], mlp["line"], mlp["total_params"]) == (6, 1, 59_210)
    assert {layer["cell"] for layer in mlp["layers"] if layer["line"] is not None} == {6}
    assert [(e["kind"], e["cell"], e["line"], e["factory"]) for e in diagram["errors"]] == [
        ("syntax", 8, 1, None), ("build", 9, 2, "bad_head")]

    # Diagnostics go to the cells: the syntax error in cell 8, bad_head's build error in cell 9.
    await eventually(lambda: nb.diagnostics(8) and nb.diagnostics(9), "diagnostics in cells 8 and 9")
    (syntax,) = nb.diagnostics(8)
    (build,) = nb.diagnostics(9)
    assert (syntax.code, syntax.range.start.line) == ("syntax", 0)
    assert (build.code, build.range.start.line) == ("build", nb.line_in(9, "layers.Add()"))
    assert "merge layer should be called on a list" in build.message
    assert not any(nb.diagnostics(cell) for cell in (1, 2, 3, 5, 6, 7, 10))

    # Hover and inlay hints asked on the model's cell answer at its own lines.
    conv_line = nb.line_in(5, "layers.Conv2D(32")
    text = await nb.hover(5, conv_line)
    assert text is not None and "(None, 26, 26, 32)" in text and "Conv2D" in text
    assert "54,410" in (await nb.hover(5, nb.line_in(5, "model = keras.Sequential")) or "")
    assert await nb.hover(3, nb.line_in(3, "load_data")) is None
    hints = {h.position.line: h.label for h in await nb.inlay_hints(5)}
    assert hints[conv_line] == "→ (None, 26, 26, 32) · 320 params"
    assert hints[nb.line_in(5, "layers.Dense(num_classes")] == "→ (None, 10) · 54,090 params"
    assert set(hints) <= set(range(len(nb.texts[5].split("\n"))))
    assert await nb.inlay_hints(3) == []

    # Lenses: each target's in its own cell, previewing it under the notebook's URI.
    (lens,) = await nb.code_lenses(5)
    assert (lens.range.start.line, lens.command.title) == (2, "NetViz: preview · 54.4K params")
    assert list(lens.command.arguments) == [nb.uri, "model"]
    assert [(l.range.start.line, l.command.arguments[1]) for l in await nb.code_lenses(6)] == [(0, "residual_mlp")]

    # Export names the file after the notebook; its JSON speaks in cells.
    written = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="netviz.export", arguments=[{"uri": nb.uri, "factory": "model", "format": "json"}]))
    assert written == str(nb.path.parent / "fashion_classifier.model.json")
    exported = json.loads(Path(written).read_text())
    assert (exported["cell"], exported["line"], exported["layers"][0]["cell"]) == (5, 3, 5)
    nb.close()


async def test_editing_a_cell_rebuilds_what_needs_it_leaves_the_rest_cached_and_moves_diagnostics(
        client: LanguageClient, folder: Path):
    nb = OpenNotebook(client, folder / "second")
    await nb.diagram()
    await eventually(lambda: nb.diagnostics(9), "bad_head's diagnostic in cell 9")

    # The model's cell: only the model rebuilds; residual_mlp's slice did not change.
    since = len(client.netviz_diagrams)
    nb.edit(5, nb.texts[5].replace("Conv2D(32", "Conv2D(16"))
    nb.save()
    diagram = await nb.diagram(since)
    assert model(diagram, "model")["graph"]["total_params"] == 160 + 13 * 13 * 16 * 10 + 10
    assert cached(diagram) == {"model": False, "residual_mlp": True}
    text = await nb.hover(5, nb.line_in(5, "layers.Conv2D(16"))
    assert text is not None and "(None, 26, 26, 16)" in text

    # A cell no model needs (the data cell, same number of lines): every model comes from the cache.
    since = len(client.netviz_diagrams)
    nb.edit(3, nb.texts[3].replace("print(x_train.shape)", "print(x_train.dtype)"))
    nb.save()
    diagram = await nb.diagram(since)
    assert cached(diagram) == {"model": True, "residual_mlp": True}

    # An unsaved line at the top of the model cell: hovers and hints follow it; cell 9's
    # diagnostic stays at its line although every later line of the joined text moved.
    nb.edit(5, "# the model\n" + nb.texts[5])
    conv_line = nb.line_in(5, "layers.Conv2D(16")
    text = await nb.hover(5, conv_line)
    assert text is not None and "(None, 26, 26, 16)" in text
    assert conv_line in {h.position.line for h in await nb.inlay_hints(5)}
    # (the hover's answer came after whatever the edit re-published: the server answers in order)
    assert [d.range.start.line for d in nb.diagnostics(9)] == [nb.line_in(9, "layers.Add()")]

    # Fixing the broken cell clears its diagnostic and draws the model it defines.
    since = len(client.netviz_diagrams)
    nb.edit(8, nb.texts[8].replace("layers.Dense(3)]", "layers.Dense(3)])"))
    nb.save()
    diagram = await nb.diagram(since)
    assert [m["factory"] for m in diagram["models"]] == ["model", "residual_mlp", "broken"]
    # This save also carries the model cell's new first line: every later cell's joined lines
    # moved, so residual_mlp's slice changed and it rebuilt too (its lines are right again).
    assert cached(diagram) == {"model": False, "residual_mlp": False, "broken": False}
    assert (model(diagram, "broken")["graph"]["cell"], model(diagram, "broken")["graph"]["line"]) == (8, 1)
    assert [(e["kind"], e["cell"]) for e in diagram["errors"]] == [("build", 9)]
    await eventually(lambda: nb.cell_uris[8] in client.diagnostics and not nb.diagnostics(8),
                     "cell 8's diagnostics cleared")
    assert nb.diagnostics(9)

    # A markdown cell inserted at the top: every cell's index moves, its diagnostics stay with its document.
    since = len(client.netviz_diagrams)
    nb.insert_markdown(0, "# Notes")
    nb.save()
    diagram = await nb.diagram(since)
    assert [(m["factory"], m["graph"]["cell"]) for m in diagram["models"]] == [
        ("model", 6), ("residual_mlp", 7), ("broken", 9)]
    assert cached(diagram) == {"model": True, "residual_mlp": True, "broken": True}
    assert [(e["kind"], e["cell"], e["line"]) for e in diagram["errors"]] == [("build", 10, 2)]
    text = await nb.hover(6, nb.line_in(6, "layers.Conv2D(16"))
    assert text is not None and "(None, 26, 26, 16)" in text
    assert [d.range.start.line for d in nb.diagnostics(10)] == [nb.line_in(10, "layers.Add()")]
    assert nb.cell_uris[10] == f"vscode-notebook-cell:{nb.path}#W9sZmlsZQ%3D%3D"

    # Closing the notebook clears its cells' diagnostics.
    nb.close()
    await eventually(lambda: not nb.diagnostics(10), "bad_head's cell's diagnostics cleared on close")


async def test_a_quick_fix_asked_in_the_model_cell_stands_in_for_a_value_in_the_data_cell(
        client: LanguageClient, folder: Path):
    source = folder / "sized.ipynb"
    source.write_text(json.dumps({"cells": [
        {"cell_type": "code", "source": ["import numpy as np\n", "import keras"]},
        {"cell_type": "markdown", "source": ["## Data"]},
        {"cell_type": "code", "source": ["(x, y), _ = keras.datasets.mnist.load_data()\n",
                                         "num_classes = len(np.unique(y))"]},
        {"cell_type": "code", "source": ["model = keras.Sequential([keras.Input((4,)), "
                                         "keras.layers.Dense(num_classes)])"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    nb = OpenNotebook(client, folder / "sized", source)
    diagram = await nb.diagram()
    assert diagram["models"] == [] and [(e["kind"], e["cell"], e["line"]) for e in diagram["errors"]] == [
        ("arguments", 3, 1)]
    await eventually(lambda: nb.diagnostics(3), "the model's diagnostic in its cell")
    (needs,) = nb.diagnostics(3)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=nb.cell_uris[3]),
        range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
        context=types.CodeActionContext(diagnostics=[needs])))
    (fix,) = actions
    assert "`num_classes`" in fix.title and "cell 3, line 2" in fix.title and fix.is_preferred
    ((uri, (edit,)),) = fix.edit.changes.items()
    assert uri == nb.cell_uris[2] and edit.range.start == types.Position(1, len("num_classes = len(np.unique(y))"))

    # Typing the stand-in into the data cell and saving draws the model.
    since = len(client.netviz_diagrams)
    nb.edit(2, nb.texts[2] + edit.new_text + "10")
    nb.save()
    diagram = await nb.diagram(since)
    assert [(m["factory"], m["graph"]["cell"], m["graph"]["total_params"]) for m in diagram["models"]] == [
        ("model", 3, 50)]
    await eventually(lambda: nb.cell_uris[3] in client.diagnostics and not nb.diagnostics(3),
                     "the model cell's diagnostic cleared")
    nb.close()
