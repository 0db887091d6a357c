/** Runs the interpreter probe (`core/diagnosis.ts`) the way the server will be run. */

import { spawn } from "node:child_process";
import { PROBE_SCRIPT, parseProbe, type ProbeOutcome } from "../core/diagnosis";
import type { ServerLaunch } from "../core/interpreter";

const PROBE_TIMEOUT_MS = 20_000;

export function probe(launch: ServerLaunch): Promise<ProbeOutcome> {
  // Same command, leading args, environment and folder as the server; `-c` instead of `-m netviz_lsp`.
  const args = [...launch.args.slice(0, launch.args.indexOf("-m")), "-c", PROBE_SCRIPT];
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let child;
    try {
      child = spawn(launch.command, args, { env: launch.env, cwd: launch.cwd, stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      resolve({ kind: "failed", exitCode: null, stderr: String(error) });
      return;
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), PROBE_TIMEOUT_MS);
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === "ENOENT" || error.code === "EACCES" ? { kind: "notFound" } : { kind: "failed", exitCode: null, stderr: error.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const facts = code === 0 ? parseProbe(stdout) : null;
      resolve(facts ? { kind: "ok", facts } : { kind: "failed", exitCode: code, stderr: stderr || stdout });
    });
  });
}
