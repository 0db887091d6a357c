/**
 * Which Python runs the server, and with what environment. Pure: the VS Code side
 * gathers the inputs (settings, the Python extension's interpreter) and passes them in.
 */

import * as path from "node:path";

export type PythonSource = "setting" | "pythonExtension" | "default";

export interface PythonChoice {
  /** The executable (or launcher, such as `conda`). */
  command: string;
  /** Arguments that come before ours (`conda run -n env python` has several). */
  args: string[];
  source: PythonSource;
}

export interface PythonInputs {
  /** `netviz.python`, as the user typed it. */
  setting?: string | null;
  /** The Python extension's interpreter as an exec command, when it is installed and has one. */
  pythonExtension?: string[] | null;
  workspaceFolder?: string;
  home?: string;
}

export const DEFAULT_PYTHON = "python3";

/** `netviz.python`, else the Python extension's interpreter, else `python3`. */
export function choosePython(inputs: PythonInputs): PythonChoice {
  const setting = inputs.setting?.trim();
  if (setting) {
    return { command: expandPath(setting, inputs.workspaceFolder, inputs.home), args: [], source: "setting" };
  }
  const fromExtension = inputs.pythonExtension?.filter((part) => part.length > 0);
  if (fromExtension && fromExtension.length > 0) {
    return { command: fromExtension[0], args: fromExtension.slice(1), source: "pythonExtension" };
  }
  return { command: DEFAULT_PYTHON, args: [], source: "default" };
}

/** `${workspaceFolder}`, `${userHome}` and a leading `~` expanded; a relative path with a slash taken from the workspace. */
export function expandPath(value: string, workspaceFolder?: string, home?: string): string {
  let out = value;
  if (workspaceFolder) out = out.split("${workspaceFolder}").join(workspaceFolder);
  if (home) {
    out = out.split("${userHome}").join(home);
    if (out === "~" || out.startsWith("~/")) out = home + out.slice(1);
  }
  // A bare name such as `python3.11` is looked up on PATH; `.venv/bin/python` is a path.
  if (workspaceFolder && out.includes("/") && !path.isAbsolute(out)) out = path.join(workspaceFolder, out);
  return out;
}

export type ImportStrategy = "useBundled" | "fromEnvironment";

export interface ServerLaunch {
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
  /** The server's working folder; `python -m` puts it first on `sys.path`. */
  cwd: string | undefined;
  /** The strategy in effect: `useBundled` falls back when the extension has no bundle (a dev checkout). */
  strategy: ImportStrategy;
}

/**
 * TensorFlow's start-up notices, which every build worker would otherwise print: its C++
 * INFO lines (`TF_CPP_MIN_LOG_LEVEL`), and the oneDNN notice with absl's "All log
 * messages before absl::InitializeLog()" warning, which ignore that variable and are
 * only gone with oneDNN's custom operations off. NetViz builds models but never trains
 * or runs them, which is where those operations matter. A value the user set wins.
 */
export const QUIET_TENSORFLOW: Readonly<Record<string, string>> = {
  TF_CPP_MIN_LOG_LEVEL: "3",
  TF_ENABLE_ONEDNN_OPTS: "0",
};

/**
 * How to start `python -m netviz_lsp`.
 *
 * With `useBundled` the extension's `bundled/libs` (netviz_lsp and its pure-Python
 * dependencies) goes first on PYTHONPATH, so the user's interpreter needs only Keras;
 * the worker the server spawns inherits it. The working folder is that same folder, so
 * a `netviz_lsp` folder in the user's workspace cannot shadow the bundled one.
 */
export function serverLaunch(
  python: PythonChoice,
  strategy: ImportStrategy,
  bundledLibs: string | undefined,
  baseEnv: Record<string, string | undefined>,
  workspaceFolder: string | undefined,
): ServerLaunch {
  const args = [...python.args, "-m", "netviz_lsp"];
  const env: Record<string, string | undefined> = { ...QUIET_TENSORFLOW, ...baseEnv, PYTHONUNBUFFERED: "1" };
  if (strategy === "useBundled" && bundledLibs) {
    env.PYTHONPATH = [bundledLibs, baseEnv.PYTHONPATH].filter(Boolean).join(path.delimiter);
    return { command: python.command, args, env, cwd: bundledLibs, strategy };
  }
  return { command: python.command, args, env, cwd: workspaceFolder, strategy: "fromEnvironment" };
}

export function parseImportStrategy(value: unknown): ImportStrategy {
  return value === "fromEnvironment" ? "fromEnvironment" : "useBundled";
}
