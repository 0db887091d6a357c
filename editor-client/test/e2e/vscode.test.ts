/**
 * End to end in real VS Code (code-server 4.139.1 = VS Code 1.139.1) driven by Chromium:
 * install the packaged .vsix, open a copy of examples/seed_cnns.py, open the preview
 * beside it, hover a Conv2D line, widen a Dense layer and save, click a node, export an
 * SVG from the palette. The language server is the real one, run from the .vsix's
 * bundled/libs with the repo's .venv Python (which has TensorFlow).
 *
 * The first run installs code-server into ~/.cache/netviz-e2e (about 2-4 minutes);
 * later runs reuse it. Screenshots go to test-artifacts/e2e-*.png.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Browser, Frame, Page } from "playwright-core";
import { CodeServer, installCodeServer } from "../support/codeServer";
import { CLIENT_ROOT, REPO_ROOT } from "../support/fixtures";
import { launchChromium } from "../support/previewPage";
import { cursorLine, findFrame, openFromExplorer, quickPickRow, runCommand, tokenPosition, waitForWorkbench } from "../support/workbench";

const ARTIFACTS = join(CLIENT_ROOT, "test-artifacts");
const VERSION = (JSON.parse(readFileSync(join(CLIENT_ROOT, "package.json"), "utf8")) as { version: string }).version;
const VSIX = join(CLIENT_ROOT, `netviz-${VERSION}.vsix`);
const PYTHON = process.env.NETVIZ_E2E_PYTHON ?? join(REPO_ROOT, ".venv", "bin", "python");
/** The first build waits for TensorFlow to import in the worker: slow on a busy 2-core machine. */
const FIRST_BUILD_MS = Number(process.env.NETVIZ_E2E_FIRST_BUILD_MS ?? 240_000);

/** Newest modification time under `path` (files only). */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).filter((n) => n !== "__pycache__").map((n) => newest(join(path, n))));
}

/** Package the .vsix unless one newer than every source it is made from exists. */
function ensureVsix(): void {
  const sources = [join(CLIENT_ROOT, "src"), join(CLIENT_ROOT, "media"), join(CLIENT_ROOT, "package.json"), join(CLIENT_ROOT, "README.md"),
    join(CLIENT_ROOT, "bundled", "requirements.txt"), join(REPO_ROOT, "netviz_lsp")];
  if (existsSync(VSIX) && statSync(VSIX).mtimeMs > Math.max(...sources.map(newest))) return;
  const result = spawnSync("npm", ["run", "package"], { cwd: CLIENT_ROOT, stdio: ["ignore", "ignore", "inherit"] });
  assert.equal(result.status, 0, "npm run package failed");
}

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await run();
  } finally {
    console.log(`# e2e: ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

test("the whole loop in real VS Code", { timeout: 20 * 60_000, skip: !existsSync(PYTHON) && `no Python at ${PYTHON}` }, async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await step("package the .vsix", async () => ensureVsix());
  const app = await step("install code-server (cached after the first run)", async () => installCodeServer());

  const root = mkdtempSync(join(tmpdir(), "netviz-e2e-"));
  const workspace = join(root, "workspace");
  mkdirSync(workspace);
  copyFileSync(join(REPO_ROOT, "examples", "seed_cnns.py"), join(workspace, "seed_cnns.py"));
  copyFileSync(join(REPO_ROOT, "examples", "multi_io.py"), join(workspace, "multi_io.py"));
  const file = join(workspace, "seed_cnns.py");

  const settings = {
    "netviz.python": PYTHON,
    "editor.minimap.enabled": false,
    "editor.hover.delay": 200,
    "workbench.colorTheme": "Default Dark Modern",
  };
  const server = await CodeServer.create(app, root, settings);
  let browser: Browser | undefined;
  let failurePage: Page | undefined;
  let failureFrame: Frame | undefined;
  try {
    await step("install the .vsix", async () => server.installExtension(VSIX));
    await step("start code-server", () => server.start(workspace));
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    failurePage = page;
    await step("load the workbench", async () => {
      await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
      await waitForWorkbench(page);
    });
    await step("open seed_cnns.py", async () => {
      await openFromExplorer(page, "multi_io.py");
      await openFromExplorer(page, "seed_cnns.py");
      // More room for code and diagram side by side (and for the README's picture).
      await runCommand(page, "View: Close Primary Side Bar");
    });

    const preview = await step("NetViz: Open Preview to the Side shows each factory's diagram", async () => {
      await runCommand(page, "NetViz: Open Preview to the Side");
      const frame = await findFrame(page, ".nv-toolbar");
      failureFrame = frame;
      await frame.waitForSelector('.nv-canvas g.layer[id="conv2d"]', { timeout: FIRST_BUILD_MS });
      const factories = await frame.$$eval(".nv-factory option", (els) => els.map((e) => (e as HTMLOptionElement).value));
      assert.deepEqual(factories, ["construct_model", "sconstruct_model", "cconstruct_model"]);
      for (const [factory, layers] of [["sconstruct_model", 15], ["cconstruct_model", 11], ["construct_model", 8]] as const) {
        await frame.selectOption(".nv-factory", factory);
        assert.equal(await frame.$$eval(".nv-canvas g.layer", (els) => els.length), layers, factory);
      }
      assert.match(await frame.textContent(".nv-summary") ?? "", /63\.0M params/);
      await frame.waitForSelector('.nv-build[data-state="done"]');
      await page.screenshot({ path: join(ARTIFACTS, "e2e-preview-beside-code.png") });
      return frame;
    });

    await step("hover a Conv2D line shows its output shape", async () => {
      await hoverUntil(page, 'model.add(layers.Conv2D(64, (3, 3), activation="relu"))', "Conv2D", /\(None, 126, 126, 64\)/);
      await page.screenshot({ path: join(ARTIFACTS, "e2e-hover-conv2d.png") });
      await page.keyboard.press("Escape");
    });

    await step("widen a Dense layer and save: the diagram and the hover change", async () => {
      const before = await preview.$eval(".nv-canvas", (el) => (el as HTMLElement).style.transform);
      const at = await tokenPosition(page, 'model.add(layers.Dense(256, activation="relu"))', "256");
      await page.mouse.dblclick(at.x, at.y);
      await page.keyboard.type("512");
      await page.keyboard.press("Control+S");
      await waitForText(preview, '.nv-canvas g.layer[id="dense"]', /\(None, 512\)/, 120_000);
      assert.match(await preview.textContent(".nv-summary") ?? "", /126\.0M params/, "63,021,004 + 246,016 x 256 more");
      assert.equal(await preview.$eval(".nv-canvas", (el) => (el as HTMLElement).style.transform), before, "zoom and pan survive the update");
      assert.match(readFileSync(file, "utf8"), /layers\.Dense\(512, activation="relu"\)/);
      await hoverUntil(page, 'model.add(layers.Dense(512, activation="relu"))', "Dense", /\(None, 512\)/);
      await page.keyboard.press("Escape");
      await page.screenshot({ path: join(ARTIFACTS, "e2e-after-edit.png") });
    });

    await step("click a node: the cursor lands on the layer's line", async () => {
      await preview.click('.nv-canvas g.layer[id="max_pooling2d"]');
      await waitFor(async () => (await cursorLine(page)) === 22, 15_000, "cursor on line 22");
      const selection = await page.locator("#status\\.editor\\.selection").innerText();
      assert.match(selection, /Ln 22/);
      await page.screenshot({ path: join(ARTIFACTS, "e2e-click-reveals-line.png") });
    });

    await step("the Layered view is drawn by the server, and its layers reveal their lines too", async () => {
      await preview.selectOption(".nv-view", "layered");
      await preview.waitForSelector('.nv-canvas svg.nv-view-svg g.layer[id="conv2d"]', { timeout: 30_000 });
      await page.screenshot({ path: join(ARTIFACTS, "e2e-layered-view.png") });
      await preview.click('.nv-canvas g.layer[id="conv2d"]');
      await waitFor(async () => (await cursorLine(page)) === 20, 15_000, "cursor on line 20");
      await preview.selectOption(".nv-view", "graph");
      await preview.waitForSelector('.nv-canvas svg.nv-svg g.layer[id="conv2d"]');
    });

    await step("the code lens above a factory opens its diagram", async () => {
      // Lenses are re-rendered whenever the server asks for a refresh (after each build): retry the click.
      const lens = page.locator(".codelens-decoration a", { hasText: "NetViz: preview · 5.3M params" }).first();
      await waitFor(async () => {
        await lens.click({ timeout: 2000 });
        return (await preview.$eval(".nv-factory", (el) => (el as HTMLSelectElement).value)) === "sconstruct_model";
      }, 20_000, "the lens to open sconstruct_model's diagram");
      assert.equal(await preview.$$eval(".nv-canvas g.layer", (els) => els.length), 15);
    });

    await step("NetViz: Restart Server, then hovers answer again; NetViz: Show Logs shows why things happened", async () => {
      await runCommand(page, "NetViz: Restart Server");
      await hoverUntil(page, 'model.add(layers.MaxPooling2D(pool_size=(2, 2)))', "MaxPooling2D", /\(None, 62, 62, 64\)/);
      await page.keyboard.press("Escape");
      await runCommand(page, "NetViz: Show Logs");
      await page.locator(".part.panel .view-lines", { hasText: "Starting the server: NetViz: Restart Server" }).first().waitFor({ timeout: 15_000 });
    });

    await step("NetViz: Export Diagram… writes an SVG", async () => {
      const target = join(workspace, "seed_cnns.construct_model.svg");
      await page.locator(".tabs-container .tab", { hasText: "seed_cnns.py" }).first().click();
      await runCommand(page, "NetViz: Export Diagram…");
      await quickPickRow(page, "construct_model").first().click();
      await quickPickRow(page, "SVG").first().click();
      // The save dialog (VS Code's own, in a browser) is prefilled with the suggested path.
      const input = page.locator(".quick-input-widget .quick-input-box input");
      await waitFor(async () => (await input.inputValue()).endsWith("seed_cnns.construct_model.svg"), 15_000, "save dialog with the suggested name");
      await page.keyboard.press("Enter");
      await waitFor(async () => existsSync(target), 30_000, `${target} written`);
      const svg = readFileSync(target, "utf8");
      // Plain `ok` checks: a failing `match` would print the whole file.
      assert.ok(svg.startsWith("<svg") || svg.startsWith("<?xml"), "an SVG document");
      assert.ok(/<g id="dense" class="node layer layer(-|&#45;)dense">/.test(svg), "with the dense layer's node");
      assert.ok(svg.includes("125,960,704 params"), "the export is the diagram after the edit");
      await page.screenshot({ path: join(ARTIFACTS, "e2e-export.png") });

      // Another view, through the same dialog: the server draws it (netviz.export's `view`).
      const layered = join(workspace, "seed_cnns.construct_model.layered.svg");
      await runCommand(page, "NetViz: Export Diagram…");
      await quickPickRow(page, "construct_model").first().click();
      await quickPickRow(page, "Layered view (SVG)").first().click();
      await waitFor(async () => (await input.inputValue()).endsWith("seed_cnns.construct_model.layered.svg"), 15_000, "save dialog for the layered view");
      await page.keyboard.press("Enter");
      await waitFor(async () => existsSync(layered), 30_000, `${layered} written`);
      assert.ok(/<svg[\s>]/.test(readFileSync(layered, "utf8")), "the layered view is an SVG");
    });

    await step("the preview follows the active editor, and keeps each file's view", async () => {
      const seedView = await preview.$eval(".nv-canvas", (el) => (el as HTMLElement).style.transform);
      await page.locator(".tabs-container .tab", { hasText: "multi_io.py" }).first().click();
      await preview.waitForSelector('.nv-canvas g.layer[id="department"]', { timeout: 60_000 });
      assert.equal(await preview.$$eval(".nv-canvas g.layer", (els) => els.length), 10);
      await page.locator(".tab-label", { hasText: "NetViz: multi_io.py" }).first().waitFor({ timeout: 5000 });
      await page.screenshot({ path: join(ARTIFACTS, "e2e-follows-editor.png") });
      await page.locator(".tabs-container .tab", { hasText: "seed_cnns.py" }).first().click();
      await preview.waitForSelector('.nv-canvas g.layer[id="conv2d"]');
      assert.equal(await preview.$eval(".nv-canvas", (el) => (el as HTMLElement).style.transform), seedView);
    });

    await step("a broken netviz.python restarts the server and says why in one notification", async () => {
      await runCommand(page, "Notifications: Clear All Notifications");
      server.writeMachineSettings({ ...settings, "netviz.python": "/nonexistent/bin/python3" });
      const toasts = page.locator(".notification-toast", { hasText: "NetViz" });
      await toasts.first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(2000); // would a second one come?
      assert.equal(await toasts.count(), 1);
      assert.match(await toasts.first().innerText(), /NetViz can't start: the Python interpreter "\/nonexistent\/bin\/python3" \(from the "netviz\.python" setting\) was not found/);
      assert.equal(await toasts.first().locator(".monaco-button", { hasText: "Show logs" }).count(), 1);
      await waitForText(preview, ".nv-empty", /The NetViz server is not running\. NetViz can't start/, 10_000);
      await page.screenshot({ path: join(ARTIFACTS, "e2e-interpreter-not-found.png") });
    });
  } catch (error) {
    await failurePage?.screenshot({ path: join(ARTIFACTS, "e2e-failure.png") }).catch(() => undefined);
    const panel = await failureFrame?.evaluate(() => ["nv-build", "nv-empty", "nv-banner"].map((c) => `${c}: ${document.querySelector(`.${c}`)?.textContent?.trim()}`).join("\n")).catch(() => "");
    console.log(`# e2e: the panel said:\n${panel ?? "(no panel)"}`);
    console.log(`# e2e: failed; NetViz's log:\n${server.netvizLog().split("\n").slice(-60).join("\n")}`);
    throw error;
  } finally {
    await browser?.close();
    const { stragglers } = await server.stop();
    console.log(`# e2e: stopped code-server's process group; ${stragglers} straggler(s) killed`);
    if (!process.env.NETVIZ_E2E_KEEP) rmSync(root, { recursive: true, force: true });
    else console.log(`# e2e: kept ${root}`);
  }
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function waitForText(frame: Frame, selector: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  await waitFor(async () => pattern.test((await frame.textContent(selector)) ?? ""), timeoutMs, `${selector} to match ${pattern}`);
}

/** Hover `token` on the line containing `lineText` until the hover widget matches (hovers need the last build). */
async function hoverUntil(page: Page, lineText: string, token: string, pattern: RegExp): Promise<void> {
  const hover = page.locator(".monaco-hover:not(.hidden)");
  await waitFor(async () => {
    const at = await tokenPosition(page, lineText, token);
    await page.mouse.move(at.x - 40, at.y - 40);
    await page.mouse.move(at.x, at.y, { steps: 3 });
    await hover.first().waitFor({ state: "visible", timeout: 3000 });
    return pattern.test(await hover.first().innerText());
  }, 60_000, `a hover matching ${pattern}`);
}
