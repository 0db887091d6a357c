import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFromPreview } from "../../src/core/protocol";

test("well-formed webview messages pass", () => {
  assert.deepEqual(parseFromPreview({ type: "ready" }), { type: "ready" });
  assert.deepEqual(parseFromPreview({ type: "reveal", uri: "file:///a.py", line: 20, extra: 1 }), {
    type: "reveal", uri: "file:///a.py", line: 20, cell: null,
  });
  assert.deepEqual(parseFromPreview({ type: "reveal", uri: "file:///nb.ipynb", line: 6, cell: 5 }), {
    type: "reveal", uri: "file:///nb.ipynb", line: 6, cell: 5,
  });
  assert.deepEqual(parseFromPreview({ type: "reveal", uri: "file:///nb.ipynb", line: 1, cell: 0 }), {
    type: "reveal", uri: "file:///nb.ipynb", line: 1, cell: 0,
  }, "cell 0 is the first cell");
  assert.deepEqual(parseFromPreview({ type: "factory", uri: "file:///a.py", factory: "resnet50" }), {
    type: "factory", uri: "file:///a.py", factory: "resnet50",
  });
  const draw = { type: "renderView", uri: "file:///a.py", id: 3, factory: "unet", view: "layered", expandNested: false };
  assert.deepEqual(parseFromPreview({ ...draw, extra: 1 }), draw);
});

test("malformed webview messages are refused", () => {
  for (const bad of [
    null, undefined, 42, "reveal", {}, { type: "eval", code: "1" },
    { type: "reveal", uri: "file:///a.py", line: 0 },
    { type: "reveal", uri: "file:///a.py", line: 2.5 },
    { type: "reveal", uri: "file:///a.py", line: "3" },
    { type: "reveal", line: 3 },
    { type: "reveal", uri: "file:///nb.ipynb", line: 3, cell: -1 },
    { type: "reveal", uri: "file:///nb.ipynb", line: 3, cell: 1.5 },
    { type: "reveal", uri: "file:///nb.ipynb", line: 3, cell: "5" },
    { type: "factory", uri: "file:///a.py" },
    { type: "renderView", uri: "file:///a.py", id: 1, factory: "unet", view: "3d", expandNested: false },
    { type: "renderView", uri: "file:///a.py", id: "1", factory: "unet", view: "layered", expandNested: false },
    { type: "renderView", uri: "file:///a.py", id: 1, factory: "unet", view: "layered" },
  ]) {
    assert.equal(parseFromPreview(bad), null, JSON.stringify(bad));
  }
});
