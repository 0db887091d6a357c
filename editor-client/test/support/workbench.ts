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

/** The on-screen centre of the first occurrence of `token` in the first editor line containing `lineText`. */
export async function tokenPosition(page: Page, lineText: string, token: string): Promise<{ x: number; y: number }> {
  const line = page.locator(".editor-instance .view-lines .view-line", { hasText: lineText }).first();
  await line.waitFor({ timeout: 15_000 });
  const box = await line.evaluate((el, token) => {
    // Monaco writes spaces as U+00A0; search the rendered text, then measure that range.
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = (node.textContent ?? "").replace(/\u00a0/g, " ");
      const at = text.indexOf(token);
      if (at >= 0) {
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + token.length);
        const r = range.getBoundingClientRect();
        return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
      }
    }
    return null;
  }, token);
  if (!box) throw new Error(`"${token}" is not on the line "${lineText}"`);
  return box;
}

/** The cursor's line, from the status bar's "Ln 22, Col 5". */
export async function cursorLine(page: Page): Promise<number> {
  const text = await page.locator("#status\\.editor\\.selection").innerText();
  const match = /Ln (\d+)/.exec(text);
  if (!match) throw new Error(`no cursor position in the status bar: ${text}`);
  return Number(match[1]);
}
