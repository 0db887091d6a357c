/**
 * NetViz for VS Code: entry point and wiring. The parts:
 * - `server/controller.ts` runs `python -m netviz_lsp` through vscode-languageclient;
 * - `core/diagramStore.ts` holds each file's diagrams from `netviz/diagram`;
 * - `preview/panel.ts` shows them beside the editor; `statusBar.ts` shows build state;
 * - the commands below are the palette's way in.
 */

import * as vscode from "vscode";
import { DiagramStore } from "./core/diagramStore";
import { ServerCommand } from "./core/protocol";
import { exportDiagram } from "./exportCommand";
import { activeTarget } from "./preview/active";
import { PreviewPanel } from "./preview/panel";
import { ServerController } from "./server/controller";
import { Logs } from "./server/logs";
import { BuildStatusItem } from "./statusBar";

let server: ServerController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const logs = new Logs("NetViz");
  const store = new DiagramStore();
  server = new ServerController(context, logs);
  const controller = server;
  const preview = new PreviewPanel(context, store, controller, logs);
  const status = new BuildStatusItem(store, () => controller.state);
  context.subscriptions.push(logs, preview, status);

  context.subscriptions.push(
    controller.onDiagram((params) => {
      const held = store.diagram(params.uri);
      if (store.applyDiagram(params)) {
        preview.diagramChanged(params.uri);
      } else {
        logs.debug(`Ignored a diagram of ${params.uri} for version ${params.version}: version ${held?.version} is already shown.`);
      }
      status.update();
    }),
    controller.onBuildStatus((params) => {
      store.applyStatus(params);
      preview.statusChanged(params.uri);
      status.update();
    }),
    controller.onDidChangeState(() => status.update()),
    vscode.window.onDidChangeActiveTextEditor(() => status.update()),
    vscode.window.onDidChangeActiveNotebookEditor(() => status.update()),
  );

  const register = (id: string, run: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await run(...args);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        logs.error(`${id} failed: ${message}`);
        void vscode.window.showErrorMessage(`NetViz: ${message}`);
      }
    }));

  // `netviz.openPreview` is also the code lens's command, with `[uri, factory]`.
  register("netviz.openPreview", (uri?: unknown, factory?: unknown) => {
    const target = targetFile(uri, preview);
    if (target) preview.open(target, { toSide: false, factory: typeof factory === "string" ? factory : undefined });
  });
  register("netviz.openPreviewToSide", (uri?: unknown) => {
    const target = targetFile(uri, preview);
    if (target) preview.open(target, { toSide: true });
  });
  register("netviz.exportDiagram", async (uri?: unknown) => {
    const target = targetFile(uri, preview);
    if (target) await exportDiagram(controller, target);
  });
  register("netviz.rebuildFile", async (uri?: unknown) => {
    const target = targetFile(uri, preview);
    if (target) await controller.execute(ServerCommand.rebuild, { uri: target.toString() });
  });
  register("netviz.restartServer", () => controller.restart("NetViz: Restart Server was run"));
  register("netviz.showLogs", () => logs.show(true));

  status.update();
  await controller.restart("the extension was activated");
}

export async function deactivate(): Promise<void> {
  await server?.dispose();
  server = undefined;
}

/**
 * The file a command is about: its argument (a Uri from a menu, a string from the code
 * lens), else the active Python editor or Jupyter notebook, else the file the preview shows.
 */
function targetFile(arg: unknown, preview: PreviewPanel): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === "string" && arg.length > 0) return vscode.Uri.parse(arg);
  const active = activeTarget();
  if (active) return active;
  if (preview.followed) return preview.followed;
  void vscode.window.showInformationMessage("NetViz: open a Python file or notebook that defines a Keras model first.");
  return undefined;
}
