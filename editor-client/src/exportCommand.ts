/**
 * "NetViz: Export Diagram…": pick a factory, then a format (of the diagram, or of another
 * view: layered, neuron, plot_model, summary), then a file; the server writes it
 * (`netviz.export`). The save dialog has already asked about replacing an
 * existing file, so `overwrite` is true exactly when the chosen file exists.
 */

import * as fs from "node:fs";
import * as vscode from "vscode";
import { defaultExportPath, EXPORT_CHOICES, type ExportChoice } from "./core/export";
import { formatCount } from "./core/format";
import { type FactoryInfo, ServerCommand } from "./core/protocol";
import type { ServerController } from "./server/controller";

export async function exportDiagram(server: ServerController, document: vscode.Uri): Promise<void> {
  const factories = await server.execute<FactoryInfo[]>(ServerCommand.listFactories, { uri: document.toString() });
  const built = factories.filter((f) => f.built);
  const notebook = vscode.workspace.notebookDocuments.some((n) => n.uri.toString() === document.toString());
  if (built.length === 0) {
    const why = factories.length === 0 ? "has no model factories yet (save it to build)" : "has no factory that built";
    void vscode.window.showWarningMessage(`NetViz: ${vscode.workspace.asRelativePath(document)} ${why}.`);
    return;
  }
  const factory = built.length === 1 ? built[0] : (await vscode.window.showQuickPick(
    built.map((f) => ({
      label: f.name,
      description: f.totalParams === null ? "" : `${formatCount(f.totalParams)} params`,
      // A notebook's factory lines count its joined cells: no line a user could find.
      detail: [notebook ? "" : `line ${f.line}`, f.args ? `called with ${f.args}` : ""].filter(Boolean).join(" · "),
      info: f,
    })),
    { title: "Export Diagram: factory", placeHolder: "Which model?" },
  ))?.info;
  if (!factory) return;
  const diagramFormats = EXPORT_CHOICES.filter((c) => c.view === "graph");
  const otherViews = EXPORT_CHOICES.filter((c) => c.view !== "graph");
  const choice = (await vscode.window.showQuickPick<vscode.QuickPickItem & { choice?: ExportChoice }>([
    ...diagramFormats.map((c) => ({ label: c.label, detail: c.detail, choice: c })),
    { label: "Other views", kind: vscode.QuickPickItemKind.Separator },
    ...otherViews.map((c) => ({ label: c.label, detail: c.detail, choice: c })),
  ], { title: `Export ${factory.name}: format`, placeHolder: "Which format?" }))?.choice;
  if (!choice) return;
  const target = await vscode.window.showSaveDialog({
    title: `Export ${factory.name} as ${choice.label}`,
    defaultUri: vscode.Uri.file(defaultExportPath(document.fsPath, factory.name, choice)),
    filters: choice.filter,
    saveLabel: "Export",
  });
  if (!target) return;
  const written = await server.execute<string>(ServerCommand.export, {
    uri: document.toString(),
    factory: factory.name,
    format: choice.format,
    ...(choice.view === "graph" ? {} : { view: choice.view }),
    path: target.fsPath,
    overwrite: fs.existsSync(target.fsPath),
  });
  void vscode.window.showInformationMessage(`NetViz exported ${factory.name} to ${written}`, "Open").then((choice) => {
    if (choice === "Open") void vscode.commands.executeCommand("vscode.open", vscode.Uri.file(written));
  });
}
