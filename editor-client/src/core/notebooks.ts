/**
 * Notebooks in VS Code, without the `vscode` module: which documents NetViz reads, which
 * document the preview follows, and how a cell's text document maps to its notebook and
 * the cell index the contract uses (markdown cells counted, as `NotebookDocument.cellAt`).
 */

export const NOTEBOOK_TYPE = "jupyter-notebook";
/** The scheme of a notebook cell's text document. */
export const CELL_SCHEME = "vscode-notebook-cell";

/**
 * The language client's document selector (LSP filters): Python files on disk, and the
 * Python cells of Jupyter notebooks. The server declares `notebookDocumentSync`, so the
 * client sends the cells as `notebookDocument/*` and asks hovers and hints of each cell.
 * (A `scheme` on the cell filter would be matched against the cell's own scheme, so none.)
 */
export const DOCUMENT_SELECTOR = [
  { scheme: "file", language: "python" },
  { notebook: NOTEBOOK_TYPE, language: "python" },
];

/** An open notebook as the extension sees it: its uri, type, and its cells' document uris in order. */
export interface NotebookCells {
  uri: string;
  notebookType: string;
  cells: readonly string[];
}

/** A text document as the extension sees it. */
export interface TextDocumentInfo {
  uri: string;
  scheme: string;
  languageId: string;
}

/** Whether NetViz previews this notebook: a Jupyter notebook on disk. */
export function isPreviewedNotebook(notebook: Pick<NotebookCells, "uri" | "notebookType">): boolean {
  return notebook.notebookType === NOTEBOOK_TYPE && notebook.uri.startsWith("file:");
}

/** The previewed notebook `documentUri` is a cell of, and the cell's index; `null` for any other document. */
export function locateCell(notebooks: readonly NotebookCells[], documentUri: string): { notebook: string; cell: number } | null {
  for (const notebook of notebooks) {
    if (!isPreviewedNotebook(notebook)) continue;
    const cell = notebook.cells.indexOf(documentUri);
    if (cell >= 0) return { notebook: notebook.uri, cell };
  }
  return null;
}

/** The text document of cell `index` (a contract `cell`); `null` when the notebook has no such cell. */
export function cellDocument(notebook: NotebookCells, index: number): string | null {
  return Number.isInteger(index) && index >= 0 && index < notebook.cells.length ? notebook.cells[index] : null;
}

/**
 * The document the preview shows for what is active: the active notebook when it is a
 * previewed one (whether a cell's editor or the notebook itself has focus), else the
 * active text editor's Python file on disk; `null` when neither (other editors leave the
 * panel alone).
 */
export function previewedDocument(text: TextDocumentInfo | undefined, notebook: NotebookCells | undefined): string | null {
  if (notebook && isPreviewedNotebook(notebook) && (!text || text.scheme === CELL_SCHEME)) return notebook.uri;
  if (text && text.scheme === "file" && text.languageId === "python") return text.uri;
  return null;
}
