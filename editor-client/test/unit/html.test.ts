import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { makeNonce, previewHtml } from "../../src/preview/html";

test("the page's CSP allows only nonce'd scripts and the extension's own files", () => {
  const nonce = makeNonce((n) => randomBytes(n));
  assert.match(nonce, /^[A-Za-z0-9]{32}$/);
  const html = previewHtml({ cspSource: "https://ext.vscode-cdn.net", nonce, scriptUri: "https://ext/p.js", styleUri: "https://ext/p.css" });
  const csp = /content="([^"]+)"/.exec(html)?.[1] ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'`));
  assert.match(csp, /style-src https:\/\/ext\.vscode-cdn\.net/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.doesNotMatch(html, /\son[a-z]+=/i, "no inline event handlers");
  assert.equal(html.match(/<script/g)?.length, 1);
  assert.match(html, new RegExp(`<script nonce="${nonce}" src="https://ext/p.js">`));
});
