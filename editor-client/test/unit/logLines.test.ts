import assert from "node:assert/strict";
import { test } from "node:test";
import { describeData, LineBuffer, LineTail, withData } from "../../src/core/logLines";

test("a stream's chunks become whole lines; an unfinished line waits for the rest", () => {
  const buffer = new LineBuffer();
  assert.deepEqual(buffer.push("netviz-lsp INFO started\nTrace"), ["netviz-lsp INFO started"]);
  assert.equal(buffer.partial, "Trace");
  assert.deepEqual(buffer.push("back (most recent call last):\r\n  File \"x\"\n\n"), ["Traceback (most recent call last):", "  File \"x\"", ""]);
  assert.equal(buffer.partial, "");
});

test("the tail keeps the last lines only", () => {
  const tail = new LineTail(2);
  tail.add(["a", "b"]);
  tail.add(["c"]);
  assert.deepEqual(tail.all, ["b", "c"]);
  tail.clear();
  assert.deepEqual(tail.all, []);
});

test("a client message's detail follows it: response errors by message and code, errors by stack", () => {
  assert.equal(withData("Request failed.", undefined), "Request failed.");
  assert.equal(withData("Request failed.", "why"), "Request failed.\nwhy");
  const response = Object.assign(new Error("no such factory"), { code: -32602 });
  assert.equal(describeData(response), "no such factory (code -32602)");
  const error = new Error("boom");
  assert.match(describeData(error), /^Error: boom\n\s+at /);
  assert.equal(describeData({ a: 1 }), '{"a":1}');
});
