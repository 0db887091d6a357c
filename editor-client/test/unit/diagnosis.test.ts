import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { describeCrash, diagnose, type ProbeFacts, parseProbe } from "../../src/core/diagnosis";
import { choosePython, serverLaunch } from "../../src/core/interpreter";
import { probe } from "../../src/server/probe";
import { REPO_ROOT } from "../support/fixtures";

const venvPython = join(REPO_ROOT, ".venv", "bin", "python");
const fine: ProbeFacts = { executable: "/x/python", version: [3, 11, 7], netviz_lsp: true, pygls: true, keras: true, backend: true };
const python = choosePython({ setting: "/x/python" });

test("each way an interpreter can fall short gives one message that names the fix", () => {
  assert.equal(diagnose({ kind: "ok", facts: fine }, python, true), null);
  const cases: [Partial<ProbeFacts>, "fatal" | "warning", RegExp][] = [
    [{ version: [3, 8, 10] }, "fatal", /Python 3\.8.*3\.10 or newer/],
    [{ netviz_lsp: false }, "fatal", /netviz_lsp is not installed for \/x\/python\. Run "pip install netviz-lsp"/],
    [{ pygls: false }, "fatal", /pygls is not installed/],
    [{ keras: false, backend: false }, "warning", /Keras is not installed for \/x\/python.*pip install tensorflow/],
    [{ backend: false }, "warning", /no backend/],
  ];
  for (const [change, severity, message] of cases) {
    const d = diagnose({ kind: "ok", facts: { ...fine, ...change } }, python, false);
    assert.equal(d?.severity, severity, JSON.stringify(change));
    assert.match(d!.message, message);
  }
  assert.match(diagnose({ kind: "notFound" }, python, true)!.message, /"\/x\/python" \(from the "netviz\.python" setting\) was not found/);
  assert.match(diagnose({ kind: "failed", exitCode: 1, stderr: "Traceback\nImportError: bad magic" }, python, true)!.message,
    /did not run \(exit 1\): ImportError: bad magic/);
});

test("probe output is parsed from its last line; anything else is not facts", () => {
  assert.deepEqual(parseProbe(`warning: noise\n${JSON.stringify(fine)}\n`), fine);
  assert.equal(parseProbe("not json"), null);
  assert.equal(parseProbe('{"a": 1}'), null);
});

test("the probe finds Keras and the server in the repo's venv", { skip: !existsSync(venvPython) && "no .venv" }, async () => {
  const launch = serverLaunch(choosePython({ setting: venvPython }), "fromEnvironment", undefined, process.env, REPO_ROOT);
  const outcome = await probe(launch);
  assert.equal(outcome.kind, "ok");
  if (outcome.kind !== "ok") return;
  assert.deepEqual([outcome.facts.netviz_lsp, outcome.facts.pygls, outcome.facts.keras, outcome.facts.backend], [true, true, true, true]);
  assert.ok(outcome.facts.version[0] === 3 && outcome.facts.version[1] >= 10);
});

test("the probe reports a missing interpreter, and one without Keras", async () => {
  const missing = serverLaunch(choosePython({ setting: "/nonexistent/python3" }), "fromEnvironment", undefined, process.env, tmpdir());
  assert.deepEqual(await probe(missing), { kind: "notFound" });

  // A stand-in interpreter that hides every package: the real python3 with -S -I.
  const dir = mkdtempSync(join(tmpdir(), "netviz-probe-"));
  const bare = join(dir, "python");
  writeFileSync(bare, '#!/bin/sh\nexec python3 -S -I "$@"\n');
  chmodSync(bare, 0o755);
  const outcome = await probe(serverLaunch(choosePython({ setting: bare }), "fromEnvironment", undefined, process.env, dir));
  assert.equal(outcome.kind, "ok");
  const d = diagnose(outcome, choosePython({ setting: bare }), false);
  assert.equal(d?.severity, "fatal");
  assert.match(d!.message, /netviz_lsp is not installed/);
});

test("a server that dies is described by the last line it wrote to stderr", () => {
  const stderr = "usage: netviz-lsp [-h]\nnetviz-lsp: error: unrecognized arguments: --stdio\n";
  assert.equal(describeCrash(stderr, true), "NetViz can't start its server: netviz-lsp: error: unrecognized arguments: --stdio");
  assert.equal(describeCrash("Traceback (most recent call last):\nMemoryError\n", false), "The NetViz server stopped: MemoryError");
  assert.equal(describeCrash("", false), "The NetViz server stopped. See NetViz: Show Logs.");
});
