/** The status-bar item: the build state of the active Python file or notebook (building, built in N ms, failed). */

import * as vscode from "vscode";
import type { DiagramStore } from "./core/diagramStore";
import { summarizeBuild } from "./core/buildSummary";
import { formatDelta, formatMs, paramsDelta } from "./core/format";
import { activeTarget } from "./preview/active";
import type { ServerState } from "./server/controller";

export class BuildStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("netviz.buildStatus", vscode.StatusBarAlignment.Right, 100);

  constructor(private readonly store: DiagramStore, private readonly serverState: () => ServerState) {
    this.item.name = "NetViz build";
  }

  /** Redraw for the active editor; hidden when it is neither a Python file nor a Jupyter notebook. */
  update(): void {
    const active = activeTarget();
    if (!active) {
      this.item.hide();
      return;
    }
    const server = this.serverState();
    const uri = active.toString();
    const status = this.store.status(uri);
    const diagram = this.store.diagram(uri);
    let text: string;
    let tooltip: string;
    let command = "netviz.openPreviewToSide";
    if (server.kind === "untrusted") {
      [text, tooltip] = ["$(shield) NetViz", "NetViz is off in Restricted Mode: trust the workspace to build diagrams."];
    } else if (server.kind === "failed") {
      [text, tooltip, command] = ["$(error) NetViz", server.message, "netviz.showLogs"];
    } else if (server.kind === "starting") {
      [text, tooltip] = ["$(loading~spin) NetViz", "Starting the NetViz server…"];
    } else {
      const summary = summarizeBuild(status, diagram);
      const [icon, label] = {
        none: ["$(type-hierarchy)", ""],
        building: ["$(loading~spin)", ": building"],
        done: ["$(check)", `: ${formatMs(diagram?.elapsedMs ?? 0)}`],
        problems: ["$(warning)", `: ${formatMs(diagram?.elapsedMs ?? 0)}`],
        failed: ["$(error)", ": failed"],
      }[summary.kind];
      const delta = summary.kind === "building" ? null : paramsDelta(diagram);
      text = `${icon} NetViz${label}${delta === null ? "" : ` · ${formatDelta(delta)}`}`;
      tooltip = [summary.text, delta === null ? null : `${formatDelta(delta)} since the previous build`, status?.message]
        .filter(Boolean).join(" — ") || "Open the NetViz preview";
    }
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.command = command;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}

