/**
 * Why the server cannot start (or cannot build), in words a user can act on.
 *
 * Before starting the client the extension runs `PROBE_SCRIPT` with the same
 * interpreter, environment and working folder as the server. It only looks modules
 * up (`find_spec`), so it takes milliseconds even where importing TensorFlow takes
 * seconds. `diagnose` turns its outcome into at most one message: fatal when the
 * server cannot run at all, a warning when it runs but builds will fail.
 */

import type { PythonChoice } from "./interpreter";

export const PROBE_SCRIPT = [
  "import importlib.util, json, sys",
  "def has(name):",
  "    try:",
  "        return importlib.util.find_spec(name) is not None",
  "    except Exception:",
  "        return False",
  "print(json.dumps({'executable': sys.executable, 'version': list(sys.version_info[:3]),",
  "    'netviz_lsp': has('netviz_lsp'), 'pygls': has('pygls'), 'keras': has('keras'),",
  "    'backend': any(has(b) for b in ('tensorflow', 'jax', 'torch'))}))",
].join("\n");

export interface ProbeFacts {
  executable: string;
  version: number[];
  netviz_lsp: boolean;
  pygls: boolean;
  keras: boolean;
  backend: boolean;
}

/** What running the probe gave: facts, or how it failed. */
export type ProbeOutcome =
  | { kind: "ok"; facts: ProbeFacts }
  | { kind: "notFound" }
  | { kind: "failed"; exitCode: number | null; stderr: string };

export interface Diagnosis {
  severity: "fatal" | "warning";
  message: string;
}

const SOURCES: Record<PythonChoice["source"], string> = {
  setting: 'from the "netviz.python" setting',
  pythonExtension: "the Python extension's interpreter",
  default: "the default; set \"netviz.python\" to choose another",
};

/** The probe's stdout (last JSON line) as facts, or `null` when it is not what the script prints. */
export function parseProbe(stdout: string): ProbeFacts | null {
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    const value = JSON.parse(line) as ProbeFacts;
    return typeof value.executable === "string" && Array.isArray(value.version) ? value : null;
  } catch {
    return null;
  }
}

/** At most one message about an interpreter; `null` when all is well. */
export function diagnose(outcome: ProbeOutcome, python: PythonChoice, bundled: boolean): Diagnosis | null {
  const who = `"${[python.command, ...python.args].join(" ")}" (${SOURCES[python.source]})`;
  if (outcome.kind === "notFound") {
    return { severity: "fatal", message: `NetViz can't start: the Python interpreter ${who} was not found.` };
  }
  if (outcome.kind === "failed") {
    const detail = lastLine(outcome.stderr);
    return {
      severity: "fatal",
      message: `NetViz can't start: ${who} did not run (exit ${outcome.exitCode ?? "signal"})${detail ? `: ${detail}` : "."}`,
    };
  }
  const facts = outcome.facts;
  const exe = facts.executable || python.command;
  const [major = 0, minor = 0] = facts.version;
  if (major < 3 || (major === 3 && minor < 10)) {
    return { severity: "fatal", message: `NetViz can't start: ${exe} is Python ${major}.${minor}; NetViz needs Python 3.10 or newer.` };
  }
  if (!facts.netviz_lsp || !facts.pygls) {
    const missing = !facts.netviz_lsp ? "netviz_lsp" : "pygls";
    const fix = bundled
      ? "This extension's bundled server is missing; reinstall the extension."
      : 'Run "pip install netviz-lsp" with that interpreter, or set "netviz.importStrategy" to "useBundled".';
    return { severity: "fatal", message: `NetViz can't start: ${missing} is not installed for ${exe}. ${fix}` };
  }
  if (!facts.keras) {
    return {
      severity: "warning",
      message: `NetViz can't build models: Keras is not installed for ${exe}. Install it there ("pip install tensorflow") or set "netviz.python" to an interpreter that has it.`,
    };
  }
  if (!facts.backend) {
    return {
      severity: "warning",
      message: `NetViz can't build models: ${exe} has Keras but no backend. Install TensorFlow, JAX or PyTorch there ("pip install tensorflow").`,
    };
  }
  return null;
}

/** Why the server did not start, or stopped, from the last line it wrote to stderr. */
export function describeCrash(stderrTail: string, whileStarting: boolean): string {
  const detail = lastLine(stderrTail);
  const what = whileStarting ? "NetViz can't start its server" : "The NetViz server stopped";
  return `${what}${detail ? `: ${detail}` : ". See NetViz: Show Logs."}`;
}

function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return (lines.pop() ?? "").slice(0, 300);
}
