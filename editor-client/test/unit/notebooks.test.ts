import assert from "node:assert/strict";
import { test } from "node:test";
import { cellDocument, DOCUMENT_SELECTOR, locateCell, type NotebookCells, previewedDocument } from "../../src/core/notebooks";

const NB = "file:///w/fashion.ipynb";
const cell = (i: number, nb = NB) => `vscode-notebook-cell:${nb.slice("file:".length)}#W${i}sZmlsZQ%3D%3D`;
/** fashion_classifier.ipynb's shape: markdown cells 0 and 4 are cells too, so indices count them. */
const fashion: NotebookCells = { uri: NB, notebookType: "jupyter-notebook", cells: Array.from({ length: 11 }, (_, i) => cell(i)) };
const other: NotebookCells = { uri: "file:///w/other.ipynb", notebookType: "jupyter-notebook", cells: [cell(0, "file:///w/other.ipynb")] };

test("a cell's document maps to its notebook and its index among all cells, markdown counted", () => {
  assert.deepEqual(locateCell([other, fashion], cell(5)), { notebook: NB, cell: 5 });
  assert.deepEqual(locateCell([other, fashion], cell(0, "file:///w/other.ipynb")), { notebook: "file:///w/other.ipynb", cell: 0 });
  assert.equal(locateCell([other, fashion], "file:///w/seed_cnns.py"), null, "a file is no cell");
  assert.equal(locateCell([other], cell(5)), null, "a cell of a notebook not open");
});

test("only Jupyter notebooks on disk are previewed", () => {
  const interactive = { ...fashion, notebookType: "interactive" };
  const untitled = { ...fashion, uri: "untitled:Untitled-1.ipynb" };
  assert.equal(locateCell([interactive], cell(5)), null);
  assert.equal(locateCell([untitled], cell(5)), null);
  assert.equal(previewedDocument(undefined, interactive), null);
  assert.equal(previewedDocument(undefined, untitled), null);
});

test("a contract cell maps back to that cell's document; an index the notebook lacks maps to nothing", () => {
  assert.equal(cellDocument(fashion, 9), cell(9));
  assert.equal(cellDocument(fashion, 0), cell(0));
  assert.equal(cellDocument(fashion, 11), null);
  assert.equal(cellDocument(fashion, -1), null);
  assert.equal(cellDocument(fashion, 1.5), null);
});

test("the preview follows the active notebook, from its cells or its toolbar, and Python files as before", () => {
  const inCell = { uri: cell(5), scheme: "vscode-notebook-cell", languageId: "python" };
  const script = { uri: "file:///w/seed_cnns.py", scheme: "file", languageId: "python" };
  assert.equal(previewedDocument(inCell, fashion), NB, "the cursor in a cell");
  assert.equal(previewedDocument(undefined, fashion), NB, "the notebook focused, no cell editor");
  assert.equal(previewedDocument(script, undefined), script.uri);
  assert.equal(previewedDocument({ ...script, languageId: "markdown", uri: "file:///w/README.md" }, undefined), null);
  assert.equal(previewedDocument({ ...script, scheme: "untitled", uri: "untitled:Untitled-1" }, undefined), null);
  assert.equal(previewedDocument(undefined, undefined), null);
});

test("the client selects Python files on disk and the Python cells of Jupyter notebooks", () => {
  assert.deepEqual(DOCUMENT_SELECTOR, [
    { scheme: "file", language: "python" },
    { notebook: "jupyter-notebook", language: "python" },
  ]);
});
