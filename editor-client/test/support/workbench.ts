/**
 * Driving the VS Code workbench in a browser the way a user does: the Explorer, the
 * command palette (F1), the editor, quick picks, and the webview's nested iframes.
 */

import type { Frame, Locator, Page } from "playwright-core";

export async function waitForWorkbench(page: Page): Promise<void> {
  await page.waitForSelector(".monaco-workbench", { timeout: 60_000 });
  await page.waitForSelector(".explorer-folders-view .monaco-list-row", { timeout: 60_000 });
}

/**
 * Open a file from its row in the Explorer (Ctrl+P does not open files headless).
 * A double click keeps its tab; a single click's preview tab is replaced by the next file.
 */
export async function openFromExplorer(page: Page, name: string): Promise<void> {
  await page.locator(".explorer-folders-view .monaco-list-row", { hasText: name }).first().dblclick();
  await page.waitForSelector(`.tabs-container .tab[aria-label^="${name}"]`, { timeout: 30_000 });
  await page.waitForSelector(".editor-instance .monaco-editor .view-lines", { timeout: 30_000 });
}

/** F1, type the command's title, Enter. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ state: "visible" });
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press("Enter");
}

/** The quick pick's row whose label is exactly `label`. */
export function quickPickRow(page: Page, label: string): Locator {
  return page.locator(".quick-input-list .monaco-list-row").filter({
    has: page.locator(".label-name", { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) }),
  });
}

/** The frame whose document matches `selector`: webview content sits two iframes deep. */
export async function findFrame(page: Page, selector: string, timeoutMs = 60_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      try {
        if (await frame.$(selector)) return frame;
      } catch {
        // detached while we looked
      }
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no frame with ${selector} within ${timeoutMs} ms`);
}

/**
 * Where editors are: text editors inside their editor pane; a notebook's cell editors in the
 * notebook widget, which VS Code lays over the editor pane rather than inside it.
 */
export const EDITOR_SCOPES = { text: ".editor-instance", notebook: ".notebookOverlay" } as const;
export type EditorScope = keyof typeof EDITOR_SCOPES;

/**
 * The on-screen centre of the first occurrence of `token` in the editor line containing
 * `lineText`, at a point where a click lands on that token.
 *
 * The line is found and measured in one step in the page, and the measure is only taken
 * when it is a real place on screen: Monaco replaces a line's element when it re-renders
 * it (an edit, an undo, new decorations), and a range in a replaced element measures as
 * an empty rectangle at (0, 0). Clicking there hits the title bar, so an edit meant for
 * the line goes nowhere (the cause of the e2e's old "stale diagram after the edit").
 * Until the token is laid out and nothing (a hover, a widget) covers it, this waits.
 */
export async function tokenPosition(page: Page, lineText: string, token: string, timeoutMs = 15_000,
  scope: EditorScope = "text"): Promise<{ x: number; y: number }> {
  const lines = page.locator(`${EDITOR_SCOPES[scope]} .view-lines .view-line`, { hasText: lineText });
  const deadline = Date.now() + timeoutMs;
  let seen = "no line contains it";
  for (;;) {
    const found = await lines.evaluateAll(measureToken, token).catch((e: unknown) => String(e));
    if (typeof found === "object" && found !== null && "x" in found) return found;
    seen = typeof found === "string" ? found : seen;
    if (Date.now() > deadline) throw new Error(`"${token}" on the line "${lineText}" is not on screen to click: ${seen}`);
    await page.waitForTimeout(100);
  }
}

/**
 * In the page: the centre of `token` in the first of `lines` where it is laid out inside
 * its editor and is what a click at that point would hit; else a string saying why not.
 * (Runs in the browser, so it is self-contained.)
 */
function measureToken(lines: Element[], token: string): { x: number; y: number } | string {
  let why = "no line contains it";
  for (const line of lines) {
    const editor = line.closest(".monaco-editor")?.getBoundingClientRect();
    // Monaco writes spaces as U+00A0; search the rendered text, then measure that range.
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = (node.textContent ?? "").replace(/\u00a0/g, " ").indexOf(token);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + token.length);
      const r = range.getBoundingClientRect();
      const x = r.left + r.width / 2;
      const y = r.top + r.height / 2;
      if (r.width === 0 || r.height === 0 || !editor) {
        why = `it measures ${r.width}x${r.height} at (${r.left}, ${r.top}): the line is being re-rendered`;
      } else if (x < editor.left || x > editor.right || y < editor.top || y > editor.bottom) {
        why = `it is at (${x}, ${y}), outside its editor`;
      } else if (!node.parentElement || !node.parentElement.contains(document.elementFromPoint(x, y))) {
        why = `something else is at (${x}, ${y}): ${document.elementFromPoint(x, y)?.className ?? "nothing"}`;
      } else {
        return { x, y };
      }
      break;
    }
  }
  return why;
}

/** The cursor's line, from the status bar's "Ln 22, Col 5". */
export async function cursorLine(page: Page): Promise<number> {
  const text = await page.locator("#status\\.editor\\.selection").innerText();
  const match = /Ln (\d+)/.exec(text);
  if (!match) throw new Error(`no cursor position in the status bar: ${text}`);
  return Number(match[1]);
}
