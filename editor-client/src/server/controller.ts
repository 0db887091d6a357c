/**
 * The language client's lifecycle: which Python runs `python -m netviz_lsp`, starting
 * it only in trusted workspaces, restarting it when the interpreter or import strategy
 * changes, and saying in one notification why it could not start.
 *
 * States: untrusted (never started: the server runs user code) -> starting -> running;
 * starting -> failed (the probe or the client said why); running -> failed (crashed
 * twice in a short time). `restart` goes back to starting from any of them.
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  State,
} from "vscode-languageclient/node";
import { describeCrash, diagnose, type ProbeFacts } from "../core/diagnosis";
import { withData } from "../core/logLines";
import { choosePython, parseImportStrategy, serverLaunch, type ServerLaunch } from "../core/interpreter";
import { DOCUMENT_SELECTOR } from "../core/notebooks";
import {
  BUILD_STATUS_NOTIFICATION,
  type BuildStatusParams,
  DIAGRAM_NOTIFICATION,
  type DiagramParams,
} from "../core/protocol";
import type { Logs } from "./logs";
import { probe } from "./probe";
import { activeInterpreter, onInterpreterChange } from "./pythonExtension";

export type ServerState =
  | { kind: "untrusted" }
  | { kind: "starting" }
  | { kind: "running" }
  | { kind: "failed"; message: string }
  | { kind: "stopped" };

/** Settings whose change means another process, not just new settings for the same one. */
const RESTART_SETTINGS = ["netviz.python", "netviz.importStrategy"];
/** Crashes within this window beyond the first stop the automatic restarts. */
const CRASH_WINDOW_MS = 3 * 60_000;

export class ServerController implements vscode.Disposable {
  private client: NetVizClient | undefined;
  private current: ServerState = { kind: "stopped" };
  private crashes: number[] = [];
  private pending: Promise<void> = Promise.resolve();
  /** True from a restart's request until the new client runs: the old one must not be sent settings. */
  private replacing = false;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  private readonly diagramEmitter = new vscode.EventEmitter<DiagramParams>();
  private readonly statusEmitter = new vscode.EventEmitter<BuildStatusParams>();
  /** Whether this start attempt has notified the user: one incident, one notification. */
  private notified = false;

  readonly onDidChangeState = this.stateEmitter.event;
  readonly onDiagram = this.diagramEmitter.event;
  readonly onBuildStatus = this.statusEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly logs: Logs,
  ) {
    this.disposables.push(
      this.stateEmitter,
      this.diagramEmitter,
      this.statusEmitter,
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.restart("the workspace is now trusted")),
      vscode.workspace.onDidChangeConfiguration((e) => {
        const setting = RESTART_SETTINGS.find((s) => e.affectsConfiguration(s));
        if (setting) void this.restart(`${setting} changed`);
      }),
    );
    void onInterpreterChange(() => {
      if (!this.configuredPython()) void this.restart("the Python extension's interpreter changed");
    }).then((d) => d && this.disposables.push(d));
  }

  get state(): ServerState {
    return this.current;
  }

  /** Start (or restart) the server, saying why; calls are queued so two restarts never overlap. */
  restart(reason: string): Promise<void> {
    this.replacing = true;
    this.pending = this.pending.then(async () => {
      const running = this.client !== undefined;
      this.logs.info(running ? `Restarting the NetViz server: ${reason}.` : `Starting the NetViz server: ${reason}.`);
      await this.stopClient();
      this.replacing = false;
      await this.startClient();
    });
    return this.pending;
  }

  /** Run a server command (workspace/executeCommand) with one object argument. */
  async execute<T>(command: string, argument: object): Promise<T> {
    const client = this.client;
    if (!client || this.current.kind !== "running") {
      throw new Error(this.current.kind === "untrusted"
        ? "NetViz is off in Restricted Mode: trust this workspace first."
        : "The NetViz server is not running. See NetViz: Show Logs.");
    }
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] })) as T;
  }

  async dispose(): Promise<void> {
    await this.pending.catch(() => undefined);
    await this.stopClient();
    for (const d of this.disposables) d.dispose();
  }

  private setState(state: ServerState): void {
    this.current = state;
    this.stateEmitter.fire(state);
  }

  private configuredPython(): string | undefined {
    return vscode.workspace.getConfiguration("netviz").get<string | null>("python")?.trim() || undefined;
  }

  private async launch(): Promise<{ launch: ServerLaunch; python: ReturnType<typeof choosePython>; bundled: boolean }> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const config = vscode.workspace.getConfiguration("netviz");
    const setting = this.configuredPython();
    const fromExtension = setting ? undefined : await activeInterpreter(folder, (l) => this.logs.warn(l));
    const python = choosePython({ setting, pythonExtension: fromExtension, workspaceFolder: folder?.fsPath, home: os.homedir() });
    const libs = this.context.asAbsolutePath("bundled/libs");
    const bundled = fs.existsSync(`${libs}/netviz_lsp/__main__.py`);
    const strategy = parseImportStrategy(config.get("importStrategy"));
    if (strategy === "useBundled" && !bundled) {
      this.logs.warn("This build of the extension has no bundled server (bundled/libs); using the interpreter's netviz_lsp.");
    }
    const launch = serverLaunch(python, strategy, bundled ? libs : undefined, process.env, folder?.fsPath);
    return { launch, python, bundled: launch.strategy === "useBundled" };
  }

  private async startClient(): Promise<void> {
    this.notified = false;
    if (!vscode.workspace.isTrusted) {
      this.logs.info("Restricted Mode: the server is not started, because it runs the workspace's model code.");
      this.setState({ kind: "untrusted" });
      return;
    }
    this.setState({ kind: "starting" });
    const { launch, python, bundled } = await this.launch();
    this.logs.debug(`Launch: ${[launch.command, ...launch.args].join(" ")} in ${launch.cwd ?? "(the extension host's folder)"}` +
      ` (interpreter: ${python.source}; server code: ${launch.strategy})` + (launch.env.PYTHONPATH ? `; PYTHONPATH=${launch.env.PYTHONPATH}` : ""));
    const probed = await probe(launch);
    const problem = diagnose(probed, python, bundled);
    if (problem) {
      if (problem.severity === "fatal") this.logs.error(problem.message);
      else this.logs.warn(problem.message);
      this.notify(problem.severity === "fatal" ? "error" : "warning", problem.message);
      if (problem.severity === "fatal") {
        this.setState({ kind: "failed", message: problem.message });
        return;
      }
    }
    this.logs.clearServerTail();
    const client = new NetVizClient(launch, this.clientOptions(), this.logs);
    client.onNotification(DIAGRAM_NOTIFICATION, (p: DiagramParams) => this.diagramEmitter.fire(p));
    client.onNotification(BUILD_STATUS_NOTIFICATION, (p: BuildStatusParams) => this.statusEmitter.fire(p));
    this.client = client;
    try {
      await client.start();
      this.logs.info(runningLine(client, python, probed.kind === "ok" ? probed.facts : undefined, launch.strategy));
      this.setState({ kind: "running" });
    } catch (error) {
      this.logs.debug(`The language client did not start: ${error instanceof Error ? error.message : String(error)}`);
      const message = describeCrash(this.logs.serverTail(), true);
      this.logs.error(message);
      this.notify("error", message);
      this.setState({ kind: "failed", message });
    }
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      if (client.isRunning()) await client.stop(3000);
      await client.dispose(3000);
    } catch (error) {
      this.logs.warn(`The server did not stop cleanly: ${String(error)}`);
    }
    this.setState({ kind: "stopped" });
  }

  private clientOptions(): LanguageClientOptions {
    return {
      // Python files, and the Python cells of Jupyter notebooks (sent as notebookDocument/*).
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.logs,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // The `netviz` section goes as initializationOptions and again on every change.
      initializationOptions: plainSettings(),
      synchronize: { configurationSection: "netviz" },
      middleware: {
        workspace: {
          // A change of netviz.python replaces the server; telling the old one is pointless (and fails while it stops).
          didChangeConfiguration: (sections, next) => (this.replacing ? Promise.resolve() : next(sections)),
        },
      },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => this.onClosed(),
      },
    };
  }

  /**
   * The server process ended. While starting, `startClient` reports it; once running,
   * it is restarted once, and a second crash within minutes is reported and stays down.
   */
  private onClosed(): { action: CloseAction; handled: boolean } {
    if (this.current.kind !== "running") return { action: CloseAction.DoNotRestart, handled: true };
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    if (this.crashes.length <= 1) {
      this.logs.warn("The NetViz server stopped unexpectedly; restarting it (a second stop within 3 minutes leaves it stopped).");
      return { action: CloseAction.Restart, handled: true };
    }
    const message = describeCrash(this.logs.serverTail(), false);
    this.logs.error(message);
    this.notify("error", message);
    this.setState({ kind: "failed", message });
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  /** One notification per incident, always with a way to the logs. */
  private notify(severity: "error" | "warning", message: string): void {
    if (this.notified) return;
    this.notified = true;
    const show = severity === "error" ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void show(message, "Show logs").then((choice) => {
      if (choice) this.logs.show(true);
    });
  }
}

/** The `netviz` settings as plain JSON (the configuration object is a proxy). */
function plainSettings(): unknown {
  return JSON.parse(JSON.stringify(vscode.workspace.getConfiguration("netviz")));
}

/** "NetViz server running: netviz-lsp 0.1.0, Python 3.11.2 (/usr/bin/python3, from …), bundled server code." */
function runningLine(client: LanguageClient, python: ReturnType<typeof choosePython>, facts: ProbeFacts | undefined,
  strategy: ServerLaunch["strategy"]): string {
  const info = client.initializeResult?.serverInfo;
  const server = info ? `${info.name}${info.version ? ` ${info.version}` : ""}` : "netviz-lsp";
  const where = facts ? `Python ${facts.version.join(".")} (${facts.executable}` : `Python (${[python.command, ...python.args].join(" ")}`;
  const source = { setting: 'from the "netviz.python" setting', pythonExtension: "the Python extension's interpreter", default: "the default python3" }[python.source];
  const code = strategy === "useBundled" ? "the server code bundled with the extension" : "the netviz_lsp installed in that environment";
  return `NetViz server running: ${server}, ${where}, ${source}), ${code}.`;
}

/**
 * A LanguageClient whose messages go to the NetViz log at their own level, and never as
 * notifications: the controller says what went wrong in its one notification, from the
 * server's own stderr, which is more useful than the client's "couldn't create
 * connection to server". The server's `window/logMessage` lines come through here too.
 */
class NetVizClient extends LanguageClient {
  constructor(launch: ServerLaunch, options: LanguageClientOptions, private readonly logs: Logs) {
    // No `transport`: stdio is the default, and TransportKind.stdio would add `--stdio`.
    const server: ServerOptions = { command: launch.command, args: launch.args, options: { env: launch.env, cwd: launch.cwd } };
    super("netviz", "NetViz", server, options);
  }

  override error(message: string, data?: unknown, _showNotification: boolean | "force" = true): void {
    // The process ending after the client was told to stop (a restart) is what was asked for.
    if (this.state === State.Stopped && /^Server process exited with /.test(message)) {
      this.logs.debug(`The previous server process ended: ${message}`);
      return;
    }
    this.logs.error(withData(message, data));
  }

  override warn(message: string, data?: unknown, _showNotification = true): void {
    this.logs.warn(withData(message, data));
  }

  override info(message: string, data?: unknown, _showNotification = true): void {
    this.logs.info(withData(message, data));
  }

  override debug(message: string, data?: unknown, _showNotification = true): void {
    this.logs.debug(withData(message, data));
  }
}
