/**
 * The e2e's way of pointing at code (test/support/workbench.ts `tokenPosition`), in real
 * headless Chromium, on a page laid out as Monaco lays out an editor's lines.
 *
 * Why it is tested: the real-VS-Code test once saw "Built in 166 ms" and a diagram that
 * still said (None, 256) after widening a Dense layer to 512. The edit had never
 * happened. `tokenPosition` found the line's element and then measured the token in a
 * second step; Monaco had replaced that element in between (it re-renders a line after
 * an edit, an undo or new decorations), and a range in a replaced element measures as
 * an empty rectangle at (0, 0). The double click landed on the title bar, "512" was typed
 * into nothing, Ctrl+S saved the unchanged file, and the server rightly rebuilt it (every
 * factory reused, hence fast, no problems) and showed the unchanged diagram. In a loop of
 * 30 double-click edits in code-server, 7 measured (0, 0) this way (and 6 of 20, 2 of 12 in two more).
 */

import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../support/previewPage";
import { tokenPosition } from "../support/workbench";

const LINE = 'model.add(layers.Dense(256, activation="relu"))';

/** An editor as Monaco's DOM has it: lines are absolutely placed `.view-line` divs of token spans. */
const EDITOR = `<!doctype html><html><body style="margin:0;font:14px monospace">
<div class="title" style="position:absolute;left:0;top:0;width:800px;height:30px;background:#333"></div>
<div class="editor-instance"><div class="monaco-editor" style="position:absolute;left:0;top:30px;width:800px;height:400px;overflow:hidden">
  <div class="view-lines" style="position:relative">
    <div class="view-line" style="position:absolute;top:0;height:19px"><span><span>def construct_model():</span></span></div>
    <div class="view-line" id="dense" style="position:absolute;top:19px;height:19px"><span><span>\u00a0\u00a0\u00a0\u00a0model.add(layers.Dense(</span><span class="num">256</span><span>, activation="relu"))</span></span></div>
  </div>
</div></div></body></html>`;

let browser: Browser;
let page: Page;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

// A fresh page each time: a page's timers outlive setContent.
beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 900, height: 500 } });
});

afterEach(async () => {
  await page?.close();
});

/** Where a click at `at` lands: the class of the element there. */
function hit(at: { x: number; y: number }): Promise<string> {
  return page.evaluate(({ x, y }) => document.elementFromPoint(x, y)?.className ?? "", at);
}

test("the token's centre on screen, where a click selects it", async () => {
  await page.setContent(EDITOR);
  const at = await tokenPosition(page, LINE, "256");
  assert.equal(await hit(at), "num");
  assert.ok(at.y > 30 + 19 && at.y < 30 + 38, `on the Dense line, not the title bar: ${JSON.stringify(at)}`);
});

test("a line element Monaco has put aside (matching, but not laid out) is never measured: it reads as (0, 0), the title bar", async () => {
  await page.setContent(EDITOR);
  // The replaced element of a re-rendered line, still matching, first in document order.
  await page.evaluate(() => {
    const stale = document.getElementById("dense")!.cloneNode(true) as HTMLElement;
    stale.id = "stale";
    stale.style.display = "none";
    document.querySelector(".view-lines")!.prepend(stale);
  });
  const naive = await page.evaluate(() => {
    const range = document.createRange();
    const text = document.querySelector("#stale .num")!.firstChild!;
    range.setStart(text, 0);
    range.setEnd(text, 3);
    const r = range.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  });
  assert.deepEqual(naive, { x: 0, y: 0 }, "what the old measure clicked");
  assert.equal(await hit(naive), "title");
  const at = await tokenPosition(page, LINE, "256");
  assert.equal(await hit(at), "num");
});

test("a line Monaco keeps re-rendering (its element replaced every few ms) is found and measured in one step", async () => {
  await page.setContent(EDITOR);
  await page.evaluate(() => {
    setInterval(() => {
      const line = document.getElementById("dense")!;
      line.replaceWith(line.cloneNode(true));
    }, 0);
  });
  for (let i = 0; i < 20; i++) {
    const at = await tokenPosition(page, LINE, "256");
    assert.ok(at.y > 30 + 19 && at.y < 30 + 38, `measure ${i} is on the Dense line, not the title bar: ${JSON.stringify(at)}`);
  }
});

test("while the line is hidden mid re-render, or a widget covers the token, it waits for the token to be clickable", async () => {
  await page.setContent(EDITOR);
  await page.evaluate(() => {
    const hover = document.createElement("div");
    hover.className = "monaco-hover";
    hover.setAttribute("style", "position:absolute;left:0;top:40px;width:800px;height:60px;background:#555");
    document.body.append(hover); // a hover widget over the line
    setTimeout(() => hover.remove(), 500);
  });
  const covered = await tokenPosition(page, LINE, "256");
  assert.equal(await page.locator(".monaco-hover").count(), 0, "it waited for the hover to go");
  assert.equal(await hit(covered), "num");
  await page.evaluate(() => {
    const line = document.getElementById("dense")!;
    line.style.display = "none";
    setTimeout(() => (line.style.display = ""), 300);
  });
  assert.equal(await hit(await tokenPosition(page, LINE, "256")), "num");
});

test("a token that never becomes clickable is a failure that says why", async () => {
  await page.setContent(EDITOR);
  await page.evaluate(() => (document.getElementById("dense")!.style.display = "none"));
  await assert.rejects(tokenPosition(page, LINE, "256", 500), /"256" on the line .* is not on screen to click: .*re-rendered/);
  await assert.rejects(tokenPosition(page, "no such line", "256", 300), /no line contains it/);
});
