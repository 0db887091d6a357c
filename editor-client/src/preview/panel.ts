/**
 * The preview panel: one webview beside the editor that follows the active Python
 * file or Jupyter notebook, like VS Code's Markdown preview. Its HTML is set once (`html.ts`); the file's
 * diagrams, build state and the editor's cursor line go to it as messages, and it
 * asks for lines to be revealed and for other views to be drawn (`netviz.renderView`).
 */

import * as crypto from "node:crypto";
import * as path from "node:path";
import * as vscode from "vscode";
import type { DiagramStore } from "../core/diagramStore";
import {
  type FromPreview, type Notice, parseFromPreview, type RenderedView, ServerCommand, type ToPreview,
} from "../core/protocol";
import type { ServerController, ServerState } from "../server/controller";
import type { Logs } from "../server/logs";
import { cellDocument } from "../core/notebooks";
import { activePreviewed, cellOf, notebookCells } from "./active";
import { makeNonce, previewHtml } from "./html";

export const PREVIEW_VIEW_TYPE = "netviz.preview";

export class PreviewPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  /** The document the panel follows. */
  private uri: vscode.Uri | undefined;
  /** The factory picked per file, so switching files and back keeps it. */
  private readonly factories = new Map<string, string>();
  /** The editor column each file was last seen in, where "reveal" shows it again. */
  private readonly columns = new Map<string, vscode.ViewColumn>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly store: DiagramStore,
    private readonly server: ServerController,
    private readonly logs: Logs,
  ) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor) this.remember(editor.document, editor.viewColumn);
        this.follow();
      }),
      vscode.window.onDidChangeActiveNotebookEditor((editor) => {
        if (editor?.viewColumn) this.columns.set(editor.notebook.uri.toString(), editor.viewColumn);
        this.follow();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => this.cursorMoved(e.textEditor)),
      server.onDidChangeState((state) => this.post({ type: "notice", notice: notice(state) })),
      vscode.window.registerWebviewPanelSerializer(PREVIEW_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const uri = typeof (state as { uri?: unknown })?.uri === "string" ? (state as { uri: string }).uri : undefined;
          this.adopt(panel, uri ? vscode.Uri.parse(uri) : activePreviewed());
        },
      }),
    );
  }

  /** Show `uri`'s diagrams (the factory's, when given), opening the panel if needed. */
  open(uri: vscode.Uri, options: { toSide: boolean; factory?: string }): void {
    if (options.factory) this.factories.set(uri.toString(), options.factory);
    const editorColumn = vscode.window.activeTextEditor?.viewColumn ?? vscode.window.activeNotebookEditor?.viewColumn ?? vscode.ViewColumn.One;
    if (this.panel) {
      this.panel.reveal(options.toSide ? undefined : this.panel.viewColumn, true);
    } else {
      const column = options.toSide ? vscode.ViewColumn.Beside : editorColumn;
      // retainContextWhenHidden: a hidden panel keeps its zoom, pan and search instead of reloading.
      const panel = vscode.window.createWebviewPanel(PREVIEW_VIEW_TYPE, "NetViz", { viewColumn: column, preserveFocus: options.toSide },
        { ...this.webviewOptions(), retainContextWhenHidden: true });
      this.adopt(panel, uri);
      return;
    }
    this.switchTo(uri);
    if (options.factory) this.post({ type: "selectFactory", uri: uri.toString(), factory: options.factory });
  }

  /** Push a new diagram of `uri` to the panel when it shows that file. */
  diagramChanged(uri: string): void {
    const diagram = this.store.diagram(uri);
    if (!diagram || !this.panel) return;
    if (uri !== this.uri?.toString()) {
      this.logs.debug(`Preview: kept the diagram of ${uri} (version ${diagram.version}) for later; it shows ${this.uri?.toString()}.`);
      return;
    }
    this.logs.debug(`Preview: sent the diagram of ${uri} (version ${diagram.version}, update ${diagram.sequence}: ` +
      `${diagram.models.map((m) => `${m.factory}${m.stale ? " (stale)" : ""}`).join(", ") || "no models"}).`);
    this.post({ type: "diagram", uri, diagram });
  }

  statusChanged(uri: string): void {
    if (uri === this.uri?.toString()) this.post({ type: "status", uri, status: this.store.status(uri) ?? null });
  }

  /** The file the panel shows, when it is open. */
  get followed(): vscode.Uri | undefined {
    return this.panel ? this.uri : undefined;
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }

  /** Scripts on; files only from the extension's media/ and dist/. */
  private webviewOptions(): vscode.WebviewOptions {
    const root = this.context.extensionUri;
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(root, "media"), vscode.Uri.joinPath(root, "dist")] };
  }

  private adopt(panel: vscode.WebviewPanel, uri: vscode.Uri | undefined): void {
    this.panel = panel;
    this.uri = uri;
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, "media", "preview-icon.svg");
    panel.webview.options = this.webviewOptions(); // a restored panel comes without them
    const webview = panel.webview;
    webview.html = previewHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce((n) => crypto.randomBytes(n)),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, "dist", "preview.js")).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, "media", "preview.css")).toString(),
    });
    this.updateTitle();
    const subscriptions = [
      webview.onDidReceiveMessage((raw: unknown) => void this.received(parseFromPreview(raw))),
      panel.onDidDispose(() => {
        for (const s of subscriptions) s.dispose();
        if (this.panel === panel) this.panel = undefined;
      }),
    ];
  }

  private async received(message: FromPreview | null): Promise<void> {
    if (!message) return;
    switch (message.type) {
      case "ready":
        this.sendDocument();
        break;
      case "reveal":
        if (message.cell === null) await this.reveal(vscode.Uri.parse(message.uri), message.line);
        else await this.revealInCell(vscode.Uri.parse(message.uri), message.cell, message.line);
        break;
      case "factory":
        this.logs.debug(`Preview: ${message.factory} picked for ${message.uri}.`);
        this.factories.set(message.uri, message.factory);
        break;
      case "renderView":
        await this.renderView(message);
        break;
    }
  }

  /** Have the server draw a view for the page; the drawing, or why there is none, goes back under the request's id. */
  private async renderView(request: Extract<FromPreview, { type: "renderView" }>): Promise<void> {
    const { uri, id, factory, view, expandNested, expand, edgeShapes } = request;
    let answer: ToPreview;
    try {
      const result = await this.server.execute<RenderedView>(ServerCommand.renderView,
        { uri, factory, view, expandNested, expand, edgeShapes });
      answer = { type: "view", uri, id, result, error: null };
    } catch (error) {
      answer = { type: "view", uri, id, result: null, error: error instanceof Error ? error.message : String(error) };
    }
    this.post(answer);
  }

  /** Follow the active editor when it shows a Python file or a Jupyter notebook (other editors leave the panel alone). */
  private follow(): void {
    const uri = activePreviewed();
    if (!this.panel || !uri) return;
    if (uri.toString() !== this.uri?.toString()) this.switchTo(uri);
  }

  /** Where a document was last seen: a file under its uri, a notebook cell under its notebook's. */
  private remember(document: vscode.TextDocument, column: vscode.ViewColumn | undefined): void {
    if (!column) return;
    this.columns.set(cellOf(document)?.notebook ?? document.uri.toString(), column);
  }

  private switchTo(uri: vscode.Uri): void {
    const changed = uri.toString() !== this.uri?.toString();
    this.uri = uri;
    this.updateTitle();
    if (changed) this.sendDocument();
  }

  private sendDocument(): void {
    const uri = this.uri;
    if (!uri) {
      this.post({ type: "notice", notice: { kind: "noFile" } });
      return;
    }
    const key = uri.toString();
    const cursor = this.cursorIn(key);
    const diagram = this.store.diagram(key);
    this.logs.debug(`Preview: sent everything about ${key} (diagram version ${diagram?.version ?? "none"}, ` +
      `update ${diagram?.sequence ?? "none"}, factory ${this.factories.get(key) ?? "the first"}).`);
    this.post({
      type: "document",
      uri: key,
      fileName: path.basename(uri.fsPath),
      diagram: this.store.diagram(key) ?? null,
      status: this.store.status(key) ?? null,
      notice: notice(this.server.state),
      factory: this.factories.get(key) ?? null,
      cursorLine: cursor?.line ?? null,
      cursorCell: cursor?.cell ?? null,
    });
  }

  /** The cursor in the document `key`: its file's visible editor, or the active editor of one of its cells. */
  private cursorIn(key: string): { line: number; cell: number | null } | null {
    const file = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === key);
    if (file) return { line: file.selection.active.line + 1, cell: null };
    const active = vscode.window.activeTextEditor;
    const at = active && cellOf(active.document);
    return active && at && at.notebook === key ? { line: active.selection.active.line + 1, cell: at.cell } : null;
  }

  private cursorMoved(editor: vscode.TextEditor): void {
    this.remember(editor.document, editor.viewColumn);
    const at = cellOf(editor.document);
    const uri = at?.notebook ?? editor.document.uri.toString();
    if (uri === this.uri?.toString()) this.post({ type: "cursor", uri, line: editor.selection.active.line + 1, cell: at?.cell ?? null });
  }

  /** Show `line` (1-based) of `uri` in a text editor, select it, and put the cursor at its start. */
  private async reveal(uri: vscode.Uri, line: number): Promise<void> {
    this.logs.debug(`Preview: reveal line ${line} of ${uri.toString()}.`);
    const document = await vscode.workspace.openTextDocument(uri);
    const key = uri.toString();
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === key);
    const column = visible?.viewColumn ?? this.columns.get(key) ?? vscode.ViewColumn.One;
    const editor = await vscode.window.showTextDocument(document, { viewColumn: column, preserveFocus: false });
    select(editor, line);
  }

  /** Show line `line` (1-based) of cell `cell` of the notebook `uri`: the notebook, then that cell's editor, the line selected. */
  private async revealInCell(uri: vscode.Uri, cell: number, line: number): Promise<void> {
    this.logs.debug(`Preview: reveal line ${line} of cell ${cell} of ${uri.toString()}.`);
    const key = uri.toString();
    const notebook = vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === key) ?? await vscode.workspace.openNotebookDocument(uri);
    if (cellDocument(notebookCells(notebook), cell) === null) {
      this.logs.warn(`Preview: ${path.basename(uri.fsPath)} has no cell ${cell} (it has ${notebook.cellCount}); nothing to reveal.`);
      return;
    }
    const visible = vscode.window.visibleNotebookEditors.find((e) => e.notebook.uri.toString() === key);
    const column = visible?.viewColumn ?? this.columns.get(key) ?? vscode.ViewColumn.One;
    const range = new vscode.NotebookRange(cell, cell + 1);
    const notebookEditor = await vscode.window.showNotebookDocument(notebook, { viewColumn: column, preserveFocus: false, selections: [range] });
    notebookEditor.revealRange(range, vscode.NotebookEditorRevealType.InCenterIfOutsideViewport);
    // A cell's document shown as a text document focuses that cell's editor inside the notebook.
    const editor = await vscode.window.showTextDocument(notebook.cellAt(cell).document, { viewColumn: column, preserveFocus: false });
    select(editor, line);
  }

  private updateTitle(): void {
    if (this.panel) this.panel.title = this.uri ? `NetViz: ${path.basename(this.uri.fsPath)}` : "NetViz";
  }

  private post(message: ToPreview): void {
    void this.panel?.webview.postMessage(message);
  }
}

/** Select line `line` (1-based) of the editor's document, cursor at its first non-blank, and scroll it into view. */
function select(editor: vscode.TextEditor, line: number): void {
  const document = editor.document;
  const text = document.lineAt(Math.min(line - 1, document.lineCount - 1));
  const start = new vscode.Position(text.lineNumber, text.firstNonWhitespaceCharacterIndex);
  editor.selection = new vscode.Selection(text.range.end, start);
  editor.revealRange(text.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

function notice(state: ServerState): Notice | null {
  if (state.kind === "untrusted") return { kind: "untrusted" };
  if (state.kind === "failed") return { kind: "server", message: state.message };
  return null;
}
