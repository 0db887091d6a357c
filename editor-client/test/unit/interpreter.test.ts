import assert from "node:assert/strict";
import { test } from "node:test";
import { choosePython, expandPath, parseImportStrategy, serverLaunch } from "../../src/core/interpreter";

test("netviz.python wins, then the Python extension's interpreter, then python3", () => {
  const ext = ["/envs/tf/bin/python"];
  assert.deepEqual(choosePython({ setting: "/opt/py/bin/python", pythonExtension: ext }), {
    command: "/opt/py/bin/python", args: [], source: "setting",
  });
  assert.deepEqual(choosePython({ setting: "  ", pythonExtension: ext }), { command: ext[0], args: [], source: "pythonExtension" });
  assert.deepEqual(choosePython({ setting: null, pythonExtension: ["conda", "run", "-n", "tf", "python"] }), {
    command: "conda", args: ["run", "-n", "tf", "python"], source: "pythonExtension",
  });
  assert.deepEqual(choosePython({}), { command: "python3", args: [], source: "default" });
  assert.deepEqual(choosePython({ pythonExtension: [] }), { command: "python3", args: [], source: "default" });
});

test("the setting may use ${workspaceFolder}, ~ and workspace-relative paths", () => {
  assert.equal(expandPath("${workspaceFolder}/.venv/bin/python", "/w", "/home/u"), "/w/.venv/bin/python");
  assert.equal(expandPath("~/venv/bin/python", "/w", "/home/u"), "/home/u/venv/bin/python");
  assert.equal(expandPath(".venv/bin/python", "/w", "/home/u"), "/w/.venv/bin/python");
  assert.equal(expandPath("python3.11", "/w", "/home/u"), "python3.11", "a bare name is looked up on PATH");
});

test("useBundled puts the bundle first on PYTHONPATH and runs from it", () => {
  const python = choosePython({ setting: "/x/python" });
  const launch = serverLaunch(python, "useBundled", "/ext/bundled/libs", { PYTHONPATH: "/user/lib", HOME: "/h" }, "/w");
  assert.equal(launch.command, "/x/python");
  assert.deepEqual(launch.args, ["-m", "netviz_lsp"]);
  assert.equal(launch.env.PYTHONPATH, "/ext/bundled/libs:/user/lib");
  assert.equal(launch.env.HOME, "/h");
  assert.equal(launch.cwd, "/ext/bundled/libs");
  assert.equal(launch.strategy, "useBundled");
});

test("fromEnvironment, or a build without a bundle, leaves PYTHONPATH alone", () => {
  const python = choosePython({ pythonExtension: ["conda", "run", "-n", "tf", "python"] });
  const env = { PATH: "/bin" };
  const a = serverLaunch(python, "fromEnvironment", "/ext/bundled/libs", env, "/w");
  assert.deepEqual(a.args, ["run", "-n", "tf", "python", "-m", "netviz_lsp"]);
  assert.equal(a.env.PYTHONPATH, undefined);
  assert.equal(a.cwd, "/w");
  const b = serverLaunch(python, "useBundled", undefined, env, "/w");
  assert.equal(b.strategy, "fromEnvironment");
  assert.equal(parseImportStrategy("nonsense"), "useBundled");
  assert.equal(parseImportStrategy("fromEnvironment"), "fromEnvironment");
});

test("the server and its build workers start with TensorFlow's start-up notices off, unless the user set them", () => {
  const python = choosePython({ setting: "/x/python" });
  const quiet = serverLaunch(python, "useBundled", "/ext/bundled/libs", { PATH: "/bin" }, "/w");
  assert.equal(quiet.env.TF_CPP_MIN_LOG_LEVEL, "3");
  assert.equal(quiet.env.TF_ENABLE_ONEDNN_OPTS, "0");
  const chosen = serverLaunch(python, "fromEnvironment", undefined, { TF_CPP_MIN_LOG_LEVEL: "0", TF_ENABLE_ONEDNN_OPTS: "1" }, "/w");
  assert.equal(chosen.env.TF_CPP_MIN_LOG_LEVEL, "0");
  assert.equal(chosen.env.TF_ENABLE_ONEDNN_OPTS, "1");
});
