/**
 * The Python extension's (ms-python.python) active interpreter, when it is installed.
 * Only the small part of its API NetViz uses is typed here, so it needs no npm package;
 * every call is guarded, as the API differs between versions.
 */

import * as vscode from "vscode";

interface EnvironmentPath {
  id: string;
  path: string;
}

interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
    resolveEnvironment(env: EnvironmentPath | string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
  settings?: {
    getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined };
    onDidChangeExecutionDetails: vscode.Event<vscode.Uri | undefined>;
  };
}

const PYTHON_EXTENSION = "ms-python.python";

async function api(): Promise<PythonApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION);
  if (!extension) return undefined;
  return extension.isActive ? extension.exports : await extension.activate();
}

/** The active interpreter as an exec command (`["/x/.venv/bin/python"]`), or `undefined`. */
export async function activeInterpreter(resource: vscode.Uri | undefined, log: (line: string) => void): Promise<string[] | undefined> {
  try {
    const python = await api();
    const environments = python?.environments;
    if (environments) {
      const active = environments.getActiveEnvironmentPath(resource);
      const resolved = await environments.resolveEnvironment(active);
      const executable = resolved?.executable.uri?.fsPath;
      if (executable) return [executable];
    }
    const command = python?.settings?.getExecutionDetails(resource).execCommand;
    return command && command.length > 0 ? command : undefined;
  } catch (error) {
    log(`The Python extension did not give an interpreter: ${String(error)}`);
    return undefined;
  }
}

/** Calls `listener` when the user picks another interpreter in the Python extension. */
export async function onInterpreterChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  try {
    const python = await api();
    if (python?.environments) return python.environments.onDidChangeActiveEnvironmentPath(() => listener());
    if (python?.settings) return python.settings.onDidChangeExecutionDetails(() => listener());
  } catch {
    // No Python extension, or one without these events: nothing to follow.
  }
  return undefined;
}
