/**
 * The "NetViz" log: a `LogOutputChannel`, so every line has a level and VS Code keeps
 * it in a file under the window's logs folder.
 *
 * What goes where:
 * - info: what NetViz did and why (the server started or restarted, and why; each
 *   build the server reports: file, models, time, and whether its diagram is shown or
 *   held back, and why). The server's own report lines arrive as `window/logMessage`
 *   of type Info.
 * - warn / error: what went wrong, in words a user can act on.
 * - debug: the extension's bookkeeping (launch command, what the preview was sent).
 * - trace: the server's and the build worker's stderr, as it comes (Python logging,
 *   the user's `print()` output, TensorFlow's start-up lines). vscode-languageclient
 *   copies the server's stderr here with `append`, and build output the server sends
 *   as `window/logMessage` of type Log with `appendLine`.
 *
 * It also remembers the last lines of the server's stderr, so that when the server dies
 * the one notification can say why (a Python traceback ends with the reason).
 */

import * as vscode from "vscode";
import { LineBuffer, LineTail } from "../core/logLines";

const TAIL_LINES = 30;

export class Logs implements vscode.OutputChannel {
  private readonly channel: vscode.LogOutputChannel;
  private readonly stderr = new LineBuffer();
  private readonly tail = new LineTail(TAIL_LINES);

  constructor(readonly name: string) {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  error(message: string): void {
    this.channel.error(message);
  }

  debug(message: string): void {
    this.channel.debug(message);
  }

  trace(message: string): void {
    this.channel.trace(message);
  }

  /** The server's last stderr lines, oldest first. */
  serverTail(): string {
    return [...this.tail.all, this.stderr.partial].filter(Boolean).join("\n");
  }

  /** Forget earlier servers' output: a new start's failure is described by its own. */
  clearServerTail(): void {
    this.tail.clear();
    this.stderr.clear();
  }

  // --- vscode.OutputChannel, as vscode-languageclient uses it ---------------------------

  /** The server process's stderr, in chunks: trace, a line at a time. */
  append(value: string): void {
    const lines = this.stderr.push(value);
    for (const line of lines) this.channel.trace(line);
    this.tail.add(lines);
  }

  /** A `window/logMessage` of type Log (build output the server forwards): trace. */
  appendLine(value: string): void {
    this.channel.trace(value);
  }

  replace(value: string): void {
    this.channel.replace(value);
    this.clearServerTail();
  }

  clear(): void {
    this.channel.clear();
    this.clearServerTail();
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
}
