/**
 * The "NetViz" output channel, which also remembers the last lines the server wrote to
 * stderr, so that when it dies the one notification can say why (a Python traceback
 * ends with the reason). vscode-languageclient copies the server's stderr with
 * `append` and writes its own messages with `appendLine`; only the former is kept.
 */

import * as vscode from "vscode";

const TAIL_LINES = 30;

export class Logs implements vscode.OutputChannel {
  private readonly channel: vscode.OutputChannel;
  private tailLines: string[] = [];
  private partial = "";

  constructor(readonly name: string) {
    this.channel = vscode.window.createOutputChannel(name);
  }

  /** The server's last stderr lines, oldest first. */
  serverTail(): string {
    return [...this.tailLines, this.partial].filter(Boolean).join("\n");
  }

  /** Forget earlier servers' output: a new start's failure is described by its own. */
  clearServerTail(): void {
    this.tailLines = [];
    this.partial = "";
  }

  /** A line of the extension's own, with a timestamp. */
  log(line: string): void {
    this.appendLine(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
  }

  append(value: string): void {
    this.channel.append(value);
    this.remember(value);
  }

  appendLine(value: string): void {
    this.channel.appendLine(value);
  }

  replace(value: string): void {
    this.channel.replace(value);
    this.tailLines = [];
    this.partial = "";
  }

  clear(): void {
    this.channel.clear();
    this.tailLines = [];
    this.partial = "";
  }

  show(columnOrPreserve?: vscode.ViewColumn | boolean, preserveFocus?: boolean): void {
    if (typeof columnOrPreserve === "boolean" || columnOrPreserve === undefined) this.channel.show(columnOrPreserve);
    else this.channel.show(columnOrPreserve, preserveFocus);
  }

  hide(): void {
    this.channel.hide();
  }

  dispose(): void {
    this.channel.dispose();
  }

  private remember(text: string): void {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    this.tailLines.push(...parts);
    if (this.tailLines.length > TAIL_LINES) this.tailLines.splice(0, this.tailLines.length - TAIL_LINES);
  }
}
