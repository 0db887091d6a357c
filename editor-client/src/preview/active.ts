/**
 * The `vscode` side of `core/notebooks.ts`: the open notebooks and the active editors as
 * plain values, and the document NetViz previews for what is active.
 */

import * as vscode from "vscode";
import { CELL_SCHEME, locateCell, type NotebookCells, previewedDocument, type TextDocumentInfo } from "../core/notebooks";

export function notebookCells(notebook: vscode.NotebookDocument): NotebookCells {
  return { uri: notebook.uri.toString(), notebookType: notebook.notebookType, cells: notebook.getCells().map((c) => c.document.uri.toString()) };
}

function textInfo(document: vscode.TextDocument | undefined): TextDocumentInfo | undefined {
  return document && { uri: document.uri.toString(), scheme: document.uri.scheme, languageId: document.languageId };
}

/** The document the preview shows for the active editor: a Python file, or a Jupyter notebook; else undefined. */
export function activePreviewed(): vscode.Uri | undefined {
  const notebook = vscode.window.activeNotebookEditor?.notebook;
  const uri = previewedDocument(textInfo(vscode.window.activeTextEditor?.document), notebook && notebookCells(notebook));
  return uri === null ? undefined : vscode.Uri.parse(uri);
}

/**
 * The document commands and the status bar are about: the active Python editor (whatever
 * its scheme, as before notebooks), else the active Jupyter notebook.
 */
export function activeTarget(): vscode.Uri | undefined {
  const document = vscode.window.activeTextEditor?.document;
  if (document?.languageId === "python" && document.uri.scheme !== CELL_SCHEME) return document.uri;
  return activePreviewed();
}

/** The notebook (its uri) and cell index a text document is a cell of; null for other documents. */
export function cellOf(document: vscode.TextDocument): { notebook: string; cell: number } | null {
  if (document.uri.scheme !== CELL_SCHEME) return null;
  return locateCell(vscode.workspace.notebookDocuments.map(notebookCells), document.uri.toString());
}
