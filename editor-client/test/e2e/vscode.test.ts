/**
 * End to end in real VS Code (code-server 4.139.1 = VS Code 1.139.1) driven by Chromium.
 * One code-server for the whole file (`before`): the packaged .vsix installed, a copy of
 * examples/seed_cnns.py and multi_io.py open, the preview beside them; a copy of
 * tests/fixtures/notebooks/fashion_classifier.ipynb waits in the workspace for the
 * notebook test, which opens it in VS Code's own notebook editor (no kernel), and copies of
 * examples/train_script.py (typed in without saving) and of the article's Keras 2 code
 * (tests/fixtures/server/article_original.py, its input_shape= warnings) wait for theirs. Each test then
 * checks one behaviour, so a failure names it. The language server is the real one, run
 * from the .vsix's bundled/libs with the repo's .venv Python (which has TensorFlow).
 *
 * What the tests believe is durable state, never lines scraped from a virtualised editor:
 * the NetViz log file VS Code writes (test/support/netvizLog.ts), files on disk, the
 * preview page's DOM (the whole SVG is in it), the status bar. They wait on that state
 * changing, never for a fixed time. A test that fails leaves e2e-failure-<test>.png and
 * prints the panel's state and the end of the NetViz log.
 *
 * The first run installs code-server into ~/.cache/netviz-e2e (about 2-4 minutes);
 * later runs reuse it. Screenshots go to test-artifacts/e2e-*.png.
 * NETVIZ_E2E_LOG=trace (or debug) runs VS Code at that log level, so the log file also
 * holds the server's stderr and the extension's bookkeeping; NETVIZ_E2E_KEEP=1 keeps
 * the run's folder (workspace, logs).
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Frame, Page } from "playwright-core";
import { CodeServer, installCodeServer } from "../support/codeServer";
import { CLIENT_ROOT, REPO_ROOT } from "../support/fixtures";
import { type LogEntry, shownAt, TOOLKIT_NOISE } from "../support/netvizLog";
import { launchChromium } from "../support/previewPage";
import {
  cursorLine, type EditorScope, findFrame, openFromExplorer, quickPickRow, runCommand, tokenPosition, waitForWorkbench,
} from "../support/workbench";

const ARTIFACTS = join(CLIENT_ROOT, "test-artifacts");
const VERSION = (JSON.parse(readFileSync(join(CLIENT_ROOT, "package.json"), "utf8")) as { version: string }).version;
const VSIX = join(CLIENT_ROOT, `netviz-${VERSION}.vsix`);
const PYTHON = process.env.NETVIZ_E2E_PYTHON ?? join(REPO_ROOT, ".venv", "bin", "python");
/** The first build waits for TensorFlow to import in the worker: slow on a busy 2-core machine. */
const FIRST_BUILD_MS = Number(process.env.NETVIZ_E2E_FIRST_BUILD_MS ?? 240_000);
/** A rebuild after a save, or a server restart's first build, on a busy machine. */
const BUILD_MS = 120_000;
const LOG_LEVEL = process.env.NETVIZ_E2E_LOG;
const NOTEBOOK = "fashion_classifier.ipynb";
/** A copy of examples/train_script.py, for the test that types without saving. */
const TYPED = "train_script.py";
/** The article's code as the article writes it (Keras 2: `input_shape=`, `Adam(lr=...)`). */
const KERAS2 = "plant_seedlings.py";
const SETTINGS = {
  // VS Code in a browser saves after a second by default (desktop VS Code does not): the typing test needs unsaved text.
  "files.autoSave": "off",
  "editor.minimap.enabled": false,
  "editor.hover.delay": 200,
  "workbench.colorTheme": "Default Dark Modern",
};

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

/** One code-server, one browser page, the preview beside seed_cnns.py: shared by every test below. */
class Session {
  readonly root = mkdtempSync(join(tmpdir(), "netviz-e2e-"));
  readonly workspace = join(this.root, "workspace");
  readonly file = join(this.workspace, "seed_cnns.py");
  server!: CodeServer;
  browser: Browser | undefined;
  page!: Page;
  /** The preview's page (two iframes deep in the workbench). */
  preview: Frame | undefined;

  async start(): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    await timed("package the .vsix", async () => ensureVsix());
    const app = await timed("install code-server (cached after the first run)", async () => installCodeServer());
    mkdirSync(this.workspace);
    copyFileSync(join(REPO_ROOT, "examples", "seed_cnns.py"), this.file);
    copyFileSync(join(REPO_ROOT, "examples", "multi_io.py"), join(this.workspace, "multi_io.py"));
    copyFileSync(join(REPO_ROOT, "tests", "fixtures", "notebooks", "fashion_classifier.ipynb"), join(this.workspace, NOTEBOOK));
    copyFileSync(join(REPO_ROOT, "examples", "train_script.py"), join(this.workspace, TYPED));
    copyFileSync(join(REPO_ROOT, "tests", "fixtures", "server", "article_original.py"), join(this.workspace, KERAS2));
    this.server = await CodeServer.create(app, this.root, { ...SETTINGS, "netviz.python": PYTHON }, LOG_LEVEL);
    await timed("install the .vsix", async () => this.server.installExtension(VSIX));
    await timed("start code-server", () => this.server.start(this.workspace));
    this.browser = await launchChromium();
    this.page = await this.browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await timed("load the workbench", async () => {
      await this.page.goto(`${this.server.url}/?folder=${encodeURIComponent(this.workspace)}`);
      await waitForWorkbench(this.page);
    });
    await timed("open multi_io.py and seed_cnns.py", async () => {
      await openFromExplorer(this.page, "multi_io.py");
      await openFromExplorer(this.page, "seed_cnns.py");
      // More room for code and diagram side by side (and for the README's picture).
      await runCommand(this.page, "View: Close Primary Side Bar");
    });
    await timed("NetViz: Open Preview to the Side", async () => {
      await runCommand(this.page, "NetViz: Open Preview to the Side");
      this.preview = await findFrame(this.page, ".nv-toolbar");
    });
  }

  /** The preview's frame; fails the test when `before` could not open it. */
  get panel(): Frame {
    assert.ok(this.preview, "the preview never opened");
    return this.preview;
  }

  log(): LogEntry[] {
    return this.server.netvizLog();
  }

  /** Wait until the NetViz log has an entry after the first `from` that matches `pattern`; returns it. */
  async logEntry(pattern: RegExp, from: number, timeoutMs: number): Promise<LogEntry> {
    let found: LogEntry | undefined;
    await waitFor(async () => {
      found = this.log().slice(from).find((e) => pattern.test(e.text));
      return found !== undefined;
    }, timeoutMs, `a NetViz log entry matching ${pattern}`, () => this.logTail());
    return found!;
  }

  logTail(lines = 40): string {
    return this.log().slice(-lines).map((e) => `[${e.level}] ${e.text}`).join("\n");
  }

  /** The seed_cnns.py editor in front, focused, with no hover or widget over it. */
  async focusEditor(): Promise<void> {
    await this.page.locator(".tabs-container .tab", { hasText: "seed_cnns.py" }).first().click();
    await this.page.waitForSelector(".editor-instance .monaco-editor.focused", { timeout: 15_000 });
    await this.page.keyboard.press("Escape");
  }

  /** Open a workspace file from the Explorer and put its editor in front, focused, the side bar closed again. */
  async openFile(name: string): Promise<void> {
    await runCommand(this.page, "View: Show Explorer");
    await openFromExplorer(this.page, name);
    await runCommand(this.page, "View: Close Primary Side Bar");
    await this.page.locator(`.tabs-container .tab[aria-label^="${name}"]`).first().click();
    await this.page.waitForSelector(".editor-instance .monaco-editor.focused", { timeout: 15_000 });
    await this.page.keyboard.press("Escape");
  }

  /** Whether the editor tab of `name` is marked dirty (unsaved changes). */
  async dirty(name: string): Promise<boolean> {
    const classes = await this.page.locator(`.tabs-container .tab[aria-label^="${name}"]`).first().getAttribute("class");
    return (classes ?? "").split(/\s+/).includes("dirty");
  }

  async pickFactory(factory: string): Promise<void> {
    await this.panel.selectOption(".nv-factory", factory);
  }

  /** Run `body`; when it throws, keep a screenshot and print what the panel and the log said. */
  async check(name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      const slug = name.replace(/[^a-z0-9]+/gi, "-").toLowerCase().slice(0, 60);
      await this.page?.screenshot({ path: join(ARTIFACTS, `e2e-failure-${slug}.png`) }).catch(() => undefined);
      const panel = await this.preview?.evaluate(() => ["nv-factory", "nv-build", "nv-empty", "nv-banner"]
        .map((c) => `${c}: ${(document.querySelector(`.${c}`) as HTMLElement | null)?.innerText?.trim() ?? "(none)"}`)
        .join("\n")).catch(() => "(unreadable)");
      console.log(`# e2e: "${name}" failed. The panel said:\n${panel ?? "(no panel)"}\n# The NetViz log ended with:\n${this.logTail()}`);
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    if (this.server) {
      const { stragglers } = await this.server.stop();
      console.log(`# e2e: stopped code-server's process group; ${stragglers} straggler(s) killed`);
    }
    if (!process.env.NETVIZ_E2E_KEEP) rmSync(this.root, { recursive: true, force: true });
    else console.log(`# e2e: kept ${this.root}`);
  }
}

describe("NetViz in real VS Code", { skip: !existsSync(PYTHON) && `no Python at ${PYTHON}` }, () => {
  const s = new Session();

  before(() => s.start(), { timeout: 20 * 60_000 });
  after(() => s.stop(), { timeout: 60_000 });

  test("the preview shows each factory's diagram", { timeout: FIRST_BUILD_MS + 60_000 }, () => s.check("preview", async () => {
    const frame = s.panel;
    await frame.waitForSelector('.nv-canvas g.layer[id="conv2d"]', { timeout: FIRST_BUILD_MS });
    const factories = await frame.$$eval(".nv-factory option", (els) => els.map((e) => (e as HTMLOptionElement).value));
    assert.deepEqual(factories, ["construct_model", "sconstruct_model", "cconstruct_model"]);
    for (const [factory, layers] of [["sconstruct_model", 15], ["cconstruct_model", 11], ["construct_model", 8]] as const) {
      await s.pickFactory(factory);
      assert.equal(await frame.$$eval(".nv-canvas g.layer", (els) => els.length), layers, factory);
    }
    assert.match(await frame.textContent(".nv-summary") ?? "", /63\.0M params/);
    await frame.waitForSelector('.nv-build[data-state="done"]');
    await s.page.screenshot({ path: join(ARTIFACTS, "e2e-preview-beside-code.png") });
  }));

  test("the NetViz log says what NetViz did and why, with no TensorFlow start-up noise", { timeout: FIRST_BUILD_MS + 30_000 }, () => s.check("log", async () => {
    await s.logEntry(/^Built seed_cnns\.py \(opened, version \d+\) in [\d,]+ ms: 3 models \(construct_model, sconstruct_model, cconstruct_model\)/, 0, FIRST_BUILD_MS);
    const entries = s.log();
    const user = shownAt("info", entries); // what the log shows at its default level
    const said = user.map((e) => e.text);
    assert.ok(said.some((t) => t === "Starting the NetViz server: the extension was activated."), "why the server started");
    assert.ok(said.some((t) => /^NetViz server running: netviz-lsp \S+, Python 3\.\d+\.\d+ \(.+, from the "netviz\.python" setting\), the server code bundled with the extension\.$/.test(t)),
      "which server and interpreter run");
    const noise = entries.filter((e) => TOOLKIT_NOISE.some((p) => p.test(e.text)));
    assert.deepEqual(noise.map((e) => `[${e.level}] ${e.text}`), [], "TensorFlow's start-up lines are never produced");
    if (!LOG_LEVEL) {
      assert.deepEqual(entries.filter((e) => e.level === "trace" || e.level === "debug").map((e) => e.text), [],
        "at the default level the log holds info and above only");
    }
  }));

  test("a hover on a Conv2D line shows its output shape", { timeout: 90_000 }, () => s.check("hover", async () => {
    await s.focusEditor();
    await hoverUntil(s.page, 'model.add(layers.Conv2D(64, (3, 3), activation="relu"))', "Conv2D", /\(None, 126, 126, 64\)/);
    await s.page.screenshot({ path: join(ARTIFACTS, "e2e-hover-conv2d.png") });
    await s.page.keyboard.press("Escape");
  }));

  test("widen a Dense layer and save: the log, the diagram and the hover change", { timeout: BUILD_MS + 90_000 }, () => s.check("edit", async () => {
    const { page, panel } = { page: s.page, panel: s.panel };
    await s.pickFactory("construct_model");
    const before = await panel.$eval(".nv-canvas", (el) => (el as HTMLElement).style.transform);
    await s.focusEditor();
    const at = await tokenPosition(page, 'model.add(layers.Dense(256, activation="relu"))', "256");
    await page.mouse.dblclick(at.x, at.y);
    await waitFor(async () => /Ln 25, Col \d+ \(3 selected\)/.test(await selection(page)), 10_000,
      'the double click to select "256" on line 25', async () => `the status bar says ${await selection(page)}`);
    const logged = s.log().length;
    await page.keyboard.type("512");
    await page.keyboard.press("Control+S");
    await waitFor(async () => readFileSync(s.file, "utf8").includes('model.add(layers.Dense(512, activation="relu"))'), 15_000,
      "the save to write Dense(512) to disk");
    // The server's account of the build of what was saved: shown, not held back.
    const built = await s.logEntry(/^Built seed_cnns\.py \(saved, version \d+\)/, logged, BUILD_MS);
    assert.doesNotMatch(built.text, /held back/, "the saved text's diagram is shown");
    await waitForText(panel, '.nv-canvas g.layer[id="dense"]', /\(None, 512\)/, 30_000);
    assert.match(await panel.textContent(".nv-summary") ?? "", /126\.0M params/, "63,021,004 + 246,016 x 256 more");
    assert.equal(await panel.$eval(".nv-canvas", (el) => (el as HTMLElement).style.transform), before, "zoom and pan survive the update");
    await hoverUntil(page, 'model.add(layers.Dense(512, activation="relu"))', "Dense", /\(None, 512\)/);
    await page.keyboard.press("Escape");
    await page.screenshot({ path: join(ARTIFACTS, "e2e-after-edit.png") });
  }));

  test("click a node: the cursor lands on the layer's line", { timeout: 60_000 }, () => s.check("click", async () => {
    await s.pickFactory("construct_model");
    await s.panel.waitForSelector('.nv-build[data-state="done"]', { timeout: BUILD_MS });
    await s.panel.click('.nv-canvas g.layer[id="max_pooling2d"]');
    await waitFor(async () => (await cursorLine(s.page)) === 22, 15_000, "cursor on line 22", async () => `the status bar says ${await selection(s.page)}`);
    await s.page.screenshot({ path: join(ARTIFACTS, "e2e-click-reveals-line.png") });
  }));

  test("the Layered view is drawn by the server, and its layers reveal their lines too", { timeout: 90_000 }, () => s.check("layered", async () => {
    const panel = s.panel;
    await s.pickFactory("construct_model");
    await panel.selectOption(".nv-view", "layered");
    try {
      await panel.waitForSelector('.nv-canvas svg.nv-view-svg g.layer[id="conv2d"]', { timeout: 30_000 });
      await s.page.screenshot({ path: join(ARTIFACTS, "e2e-layered-view.png") });
      await panel.click('.nv-canvas g.layer[id="conv2d"]');
      await waitFor(async () => (await cursorLine(s.page)) === 20, 15_000, "cursor on line 20",
        async () => `the status bar says ${await selection(s.page)}; the active tab is ${await s.page.locator(".tabs-container .tab.active.active-group, .tab.active").first().getAttribute("aria-label")}`);
    } finally {
      await panel.selectOption(".nv-view", "graph");
    }
    await panel.waitForSelector('.nv-canvas svg.nv-svg g.layer[id="conv2d"]');
  }));

  test("the code lens above a factory opens its diagram", { timeout: 60_000 }, () => s.check("lens", async () => {
    await s.pickFactory("construct_model");
    await s.focusEditor();
    const lens = s.page.locator(".codelens-decoration a", { hasText: /^NetViz: preview · 5\.3M params/ }).first();
    await lens.click({ timeout: 30_000 });
    await waitFor(async () => (await s.panel.$eval(".nv-factory", (el) => (el as HTMLSelectElement).value)) === "sconstruct_model",
      15_000, "the lens to open sconstruct_model's diagram");
    assert.equal(await s.panel.$$eval(".nv-canvas g.layer", (els) => els.length), 15);
  }));

  test("NetViz: Restart Server restarts it, says why in the log, and hovers answer again", { timeout: BUILD_MS + 90_000 }, () => s.check("restart", async () => {
    const logged = s.log().length;
    await runCommand(s.page, "NetViz: Restart Server");
    await s.logEntry(/^Restarting the NetViz server: NetViz: Restart Server was run\.$/, logged, 30_000);
    await s.logEntry(/^NetViz server running: netviz-lsp /, logged, BUILD_MS);
    await s.logEntry(/^Built seed_cnns\.py \(opened, version \d+\)/, logged, BUILD_MS);
    await s.focusEditor();
    await hoverUntil(s.page, "model.add(layers.MaxPooling2D(pool_size=(2, 2)))", "MaxPooling2D", /\(None, 62, 62, 64\)/);
    await s.page.keyboard.press("Escape");
  }));

  test("NetViz: Export Diagram… writes the SVG the panel shows, and another view", { timeout: 120_000 }, () => s.check("export", async () => {
    const { page, panel, workspace } = { page: s.page, panel: s.panel, workspace: s.workspace };
    await s.pickFactory("construct_model");
    const shown = (await panel.textContent('.nv-canvas g.layer[id="dense"]')) ?? "";
    const target = join(workspace, "seed_cnns.construct_model.svg");
    await s.focusEditor();
    await runCommand(page, "NetViz: Export Diagram…");
    await quickPickRow(page, "construct_model").first().click();
    await quickPickRow(page, "SVG").first().click();
    // The save dialog (VS Code's own, in a browser) is prefilled with the suggested path.
    const input = page.locator(".quick-input-widget .quick-input-box input");
    await waitFor(async () => (await input.inputValue()).endsWith("seed_cnns.construct_model.svg"), 15_000, "save dialog with the suggested name");
    await page.keyboard.press("Enter");
    await waitFor(async () => existsSync(target) && readFileSync(target, "utf8").trimEnd().endsWith("</svg>"), 30_000, `${target} written`);
    const svg = readFileSync(target, "utf8");
    // Plain `ok` checks: a failing `match` would print the whole file.
    assert.ok(svg.startsWith("<svg") || svg.startsWith("<?xml"), "an SVG document");
    const dense = /<g id="dense" class="node layer layer(?:-|&#45;)dense">([\s\S]*?)<\/g>/.exec(svg);
    assert.ok(dense, "with the dense layer's node");
    const shape = /\(None, (\d+)\)/.exec(shown)?.[1];
    assert.ok(shape && dense[1].includes(`(None, ${shape})`), `the export's dense layer is the panel's (None, ${shape})`);
    await page.screenshot({ path: join(ARTIFACTS, "e2e-export.png") });

    // Another view, through the same dialog: the server draws it (netviz.export's `view`).
    const layered = join(workspace, "seed_cnns.construct_model.layered.svg");
    await runCommand(page, "NetViz: Export Diagram…");
    await quickPickRow(page, "construct_model").first().click();
    await quickPickRow(page, "Layered view (SVG)").first().click();
    await waitFor(async () => (await input.inputValue()).endsWith("seed_cnns.construct_model.layered.svg"), 15_000, "save dialog for the layered view");
    await page.keyboard.press("Enter");
    await waitFor(async () => existsSync(layered) && /<\/svg>\s*$/.test(readFileSync(layered, "utf8")), 30_000, `${layered} written`);
    assert.ok(/<svg[\s>]/.test(readFileSync(layered, "utf8")), "the layered view is an SVG");
  }));

  test("the preview follows the active editor, and keeps each file's view", { timeout: BUILD_MS + 60_000 }, () => s.check("follow", async () => {
    const { page, panel } = { page: s.page, panel: s.panel };
    await s.focusEditor();
    await panel.waitForSelector('.nv-canvas g.layer[id="conv2d"]');
    const seedView = await panel.$eval(".nv-canvas", (el) => (el as HTMLElement).style.transform);
    await page.locator(".tabs-container .tab", { hasText: "multi_io.py" }).first().click();
    await panel.waitForSelector('.nv-canvas g.layer[id="department"]', { timeout: BUILD_MS });
    assert.equal(await panel.$$eval(".nv-canvas g.layer", (els) => els.length), 10);
    await page.locator(".tab-label", { hasText: "NetViz: multi_io.py" }).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(ARTIFACTS, "e2e-follows-editor.png") });
    await page.locator(".tabs-container .tab", { hasText: "seed_cnns.py" }).first().click();
    await panel.waitForSelector('.nv-canvas g.layer[id="conv2d"]');
    assert.equal(await panel.$eval(".nv-canvas", (el) => (el as HTMLElement).style.transform), seedView);
  }));

  test("typing without saving redraws the panel, and an undo draws the saved text again", { timeout: FIRST_BUILD_MS + 2 * BUILD_MS + 60_000 }, () => s.check("typing", async () => {
    const { page, panel } = { page: s.page, panel: s.panel };
    const path = join(s.workspace, TYPED);
    await s.openFile(TYPED);
    await page.locator(".tab-label", { hasText: `NetViz: ${TYPED}` }).first().waitFor({ timeout: 15_000 });
    // One model, mnist_mlp (no picker): HIDDEN = 256 feeds its first Dense, 784 x 256 + 256 = 200,960 params, 203,530 in all.
    await waitForText(panel, '.nv-canvas g.layer[id="dense"]', /\(None, 256\)[\s\S]*200,960 params/, FIRST_BUILD_MS);
    assert.match(await panel.textContent(".nv-summary") ?? "", /203\.5K params/);
    const at = await tokenPosition(page, "HIDDEN = 256", "256");
    await page.mouse.dblclick(at.x, at.y);
    await waitFor(async () => /Ln 11, Col \d+ \(3 selected\)/.test(await selection(page)), 10_000,
      'the double click to select "256" on line 11', async () => `the status bar says ${await selection(page)}`);
    const logged = s.log().length;
    await page.keyboard.type("128");
    // No save: the server builds the text as typed once the editor is idle (build.onType).
    await waitForText(panel, '.nv-canvas g.layer[id="dense"]', /\(None, 128\)[\s\S]*100,480 params/, BUILD_MS);
    const built = await s.logEntry(/^Built train_script\.py \(typed, unsaved, version \d+\)/, logged, 15_000);
    assert.doesNotMatch(built.text, /held back/, "the typed text's diagram is shown");
    assert.match(await panel.textContent(".nv-summary") ?? "", /101\.8K params/, "784 x 128 + 128 + 128 x 10 + 10");
    assert.match(await panel.textContent(".nv-details") ?? "", /Params\s*101,770 \(101\.8K\)/);
    // The inlay hint at the end of the Dense line follows the typed build too (the server asks VS Code to refresh).
    await waitForLine(page, 'layers.Dense(hidden, activation="relu"),', /\(None, 128\) · 100,480 params/);
    assert.equal(await s.dirty(TYPED), true, "the editor still holds unsaved changes");
    assert.ok(readFileSync(path, "utf8").includes("HIDDEN = 256\n"), "nothing was saved to disk");
    await page.screenshot({ path: join(ARTIFACTS, "e2e-typed-unsaved.png") });

    // Undo: the editor is back at the saved text (clean), and the panel draws it again.
    const undone = s.log().length;
    await page.keyboard.press("Control+Z");
    await waitFor(async () => !(await s.dirty(TYPED)), 15_000, "the undo to bring back the saved text (the tab clean)");
    await waitForText(panel, '.nv-canvas g.layer[id="dense"]', /\(None, 256\)[\s\S]*200,960 params/, BUILD_MS);
    assert.match(await panel.textContent(".nv-summary") ?? "", /203\.5K params/);
    await waitForLine(page, 'layers.Dense(hidden, activation="relu"),', /\(None, 256\) · 200,960 params/);
    assert.ok(s.log().slice(undone).every((e) => !/^Built train_script\.py \(saved/.test(e.text)), "the undo saved nothing");
    await s.focusEditor();  // seed_cnns.py in front again, as the other tests expect
    await panel.waitForSelector('.nv-canvas g.layer[id="conv2d"]', { timeout: 15_000 });
  }));

  test("Keras 2's input_shape= is a Warning squiggle with Keras' text, and Ctrl+. offers the quick fix", { timeout: BUILD_MS + 90_000 }, () => s.check("input_shape warning", async () => {
    const page = s.page;
    const line = 'model.add(Conv2D(64, (3, 3), activation="relu", input_shape=(128, 128, 1)))';
    const logged = s.log().length;
    await s.openFile(KERAS2);
    await s.logEntry(/^Built plant_seedlings\.py \(opened, version \d+\)/, logged, BUILD_MS);
    await page.locator(".editor-instance .squiggly-warning").first().waitFor({ timeout: 30_000 });
    await hoverUntil(page, line, "input_shape", /Do not pass an .input_shape.\/.input_dim. argument to a layer/);
    await page.keyboard.press("Escape");
    const at = await tokenPosition(page, line, "input_shape");
    await page.mouse.click(at.x, at.y);
    await waitFor(async () => (await cursorLine(page)) === 22, 10_000, "the cursor on line 22", async () => `the status bar says ${await selection(page)}`);
    await page.keyboard.press("Control+Period");
    // actions.py's title for a first model.add(...): the Input in the file's own alias (`import keras`).
    const fix = page.locator(".action-widget .monaco-list-row",
      { hasText: /^Add .model\.add\(keras\.Input\(shape=\(128, 128, 1\)\)\). before this layer, without .input_shape=. \(Keras 3\)$/ });
    await fix.first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(ARTIFACTS, "e2e-input-shape-quick-fix.png") });
    await page.keyboard.press("Escape");
    await s.focusEditor();
  }));

  test("a notebook in the notebook editor: its diagram, a hover in a cell, and a click and an error reveal lines in their cells",
    { timeout: BUILD_MS + 180_000 }, () => s.check("notebook", async () => {
      const { page, panel } = { page: s.page, panel: s.panel };
      await runCommand(page, "View: Show Explorer");
      await page.locator(".explorer-folders-view .monaco-list-row", { hasText: NOTEBOOK }).first().dblclick();
      await page.waitForSelector(`.tabs-container .tab[aria-label^="${NOTEBOOK}"]`, { timeout: 30_000 });
      await runCommand(page, "View: Close Primary Side Bar");
      // The panel follows the notebook (keyed by its uri): its module-level model, then its factory, then
      // bad_head, which never built: it is listed for its partial graph (drawn up to the failing layer).
      await page.locator(".tab-label", { hasText: `NetViz: ${NOTEBOOK}` }).first().waitFor({ timeout: 30_000 });
      await waitFor(async () => (await panel.$$eval(".nv-factory option", (els) => els.map((e) => (e as HTMLOptionElement).value))).join() === "model,residual_mlp,bad_head",
        BUILD_MS, "the notebook's models in the panel", async () => `the panel says ${await panel.textContent(".nv-toolbar")}`);
      await s.pickFactory("model");
      await waitForText(panel, '.nv-canvas g.layer[id="conv2d"]', /\(None, 26, 26, 32\)/, 15_000);
      assert.deepEqual(await panel.$$eval(".nv-canvas g.layer", (els) => els.map((e) => e.id)), ["conv2d", "max_pooling2d", "flatten", "dense"]);
      assert.match(await panel.textContent(".nv-summary") ?? "", /Sequential · 54\.4K params/);
      // The build's errors, each in its own cell: the broken cell 8 and bad_head's cell 9.
      const where = await panel.$$eval(".nv-banner .nv-error-line", (els) => els.map((e) => e.textContent));
      assert.deepEqual(where, ["cell 9, line 1", "cell 10, line 2"]);  // numbered from 1, as VS Code counts cells

      // A click on a node reveals its line in its cell (the model cell scrolled into view); the cursor there marks the node.
      const marked = () => panel.$$eval(".nv-canvas g.nv-cursor", (els) => els.map((e) => e.id).join());
      await panel.click('.nv-canvas g.layer[id="conv2d"]');
      await waitFor(async () => /layers\.Conv2D\(32, 3, activation="relu"\)/.test(await selectedLine(page)), 15_000,
        "the cursor on the Conv2D line of the model cell", async () => `the focused editor's selected line is ${JSON.stringify(await selectedLine(page))}`);
      await waitFor(async () => (await marked()) === "conv2d", 15_000, "the panel to mark conv2d", async () => `it marks ${await marked()}`);
      // A hover there answers from the notebook's build.
      await hoverUntil(page, 'layers.Conv2D(32, 3, activation="relu")', "Conv2D", /\(None, 26, 26, 32\)/, "notebook");
      await page.keyboard.press("Escape");
      await page.screenshot({ path: join(ARTIFACTS, "e2e-notebook-beside-preview.png") });
      // The user's own cursor in the cell: a click on the MaxPooling2D line marks that node.
      const pool = await tokenPosition(page, "layers.MaxPooling2D()", "MaxPooling2D", 15_000, "notebook");
      await page.mouse.click(pool.x, pool.y);
      await waitFor(async () => (await marked()) === "max_pooling2d", 15_000, "the panel to mark max_pooling2d", async () => `it marks ${await marked()}`);

      // The status bar speaks for the notebook; Export Diagram… names its file after the notebook and the model.
      await page.locator(".statusbar-item", { hasText: /NetViz: [\d,.]+ m?s/ }).first().waitFor({ timeout: 15_000 });
      const exported = join(s.workspace, "fashion_classifier.model.svg");
      await runCommand(page, "NetViz: Export Diagram…");
      await quickPickRow(page, "model").first().click();
      await quickPickRow(page, "SVG").first().click();
      const input = page.locator(".quick-input-widget .quick-input-box input");
      await waitFor(async () => (await input.inputValue()).endsWith("/fashion_classifier.model.svg"), 15_000, "the save dialog with <notebook>.<target>.svg",
        async () => `it says ${await input.inputValue()}`);
      await page.keyboard.press("Enter");
      await waitFor(async () => existsSync(exported) && /<\/svg>\s*$/.test(readFileSync(exported, "utf8")), 30_000, `${exported} written`);
      assert.ok(readFileSync(exported, "utf8").includes('<g id="max_pooling2d" class="node layer'), "the notebook's model, drawn");

      // The build error's button reveals bad_head's cell, where the diagnostic is drawn.
      await panel.click(".nv-banner .nv-error-line >> nth=1");
      await waitFor(async () => /return keras\.Sequential\(\[keras\.Input\(\(8,\)\)/.test(await selectedLine(page)), 15_000,
        "the cursor on line 2 of bad_head's cell", async () => `the focused editor's selected line is ${JSON.stringify(await selectedLine(page))}`);
      const cell = page.locator(".monaco-editor.focused");
      // (Monaco writes spaces as U+00A0, which \s matches.)
      assert.match(await cell.locator(".view-lines").innerText(), /^def\sbad_head\(\):/, "the focused cell is bad_head's");
      await cell.locator(".squiggly-error").first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(ARTIFACTS, "e2e-notebook-error-in-cell.png") });
    }));

  // Last: it leaves the server stopped.
  test("a broken netviz.python restarts the server and says why, in one notification and in the log", { timeout: 90_000 }, () => s.check("broken python", async () => {
    const page = s.page;
    await runCommand(page, "Notifications: Clear All Notifications");
    const logged = s.log().length;
    s.server.writeMachineSettings({ ...SETTINGS, "netviz.python": "/nonexistent/bin/python3" });
    await s.logEntry(/^Restarting the NetViz server: netviz\.python changed\.$/, logged, 30_000);
    const failure = await s.logEntry(/^NetViz can't start: the Python interpreter "\/nonexistent\/bin\/python3"/, logged, 30_000);
    assert.equal(failure.level, "error");
    await waitForText(s.panel, ".nv-empty", /The NetViz server is not running\. NetViz can't start/, 15_000);
    const toasts = page.locator(".notification-toast", { hasText: "NetViz" });
    await toasts.first().waitFor({ timeout: 15_000 });
    // The one start attempt has ended (logged above); one incident, one notification.
    assert.equal(s.log().slice(logged).filter((e) => /^(Starting|Restarting) the NetViz server/.test(e.text)).length, 1);
    assert.equal(await toasts.count(), 1);
    assert.match(await toasts.first().innerText(), /NetViz can't start: the Python interpreter "\/nonexistent\/bin\/python3" \(from the "netviz\.python" setting\) was not found/);
    assert.equal(await toasts.first().locator(".monaco-button", { hasText: "Show logs" }).count(), 1);
    await page.screenshot({ path: join(ARTIFACTS, "e2e-interpreter-not-found.png") });
  }));
});

async function timed<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await run();
  } finally {
    console.log(`# e2e: ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

/** Poll `check` (a read of state) until it holds; the error says what was awaited and, when given, what was seen. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string, seen?: () => Promise<string> | string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const detail = seen ? await Promise.resolve(seen()).catch((e: unknown) => `(could not tell: ${String(e)})`) : "";
  throw new Error(`timed out waiting for ${what}${detail ? `; ${detail}` : ""}`);
}

async function waitForText(frame: Frame, selector: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  await waitFor(async () => pattern.test((await frame.textContent(selector)) ?? ""), timeoutMs, `${selector} to match ${pattern}`,
    async () => `it says ${JSON.stringify((await frame.textContent(selector).catch(() => null)) ?? null)}`);
}

/** Wait until the text editor's line containing `lineText`, as drawn (inlay hints included), matches `pattern`. */
async function waitForLine(page: Page, lineText: string, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  const drawn = async () => ((await page.locator(".editor-instance .view-lines .view-line", { hasText: lineText }).first()
    .textContent({ timeout: 1000 })) ?? "").replace(/\u00a0/g, " ");
  await waitFor(async () => pattern.test(await drawn()), timeoutMs, `the line "${lineText}" to show ${pattern}`,
    async () => `it shows ${JSON.stringify(await drawn())}`);
}

/** The text of the line the focused editor's selection is on (its selection's, else its current line's highlight). */
async function selectedLine(page: Page): Promise<string> {
  return page.evaluate(() => {
    const editor = document.querySelector(".monaco-editor.focused");
    const marker = editor?.querySelector(".view-overlays .selected-text") ?? editor?.querySelector(".view-overlays .current-line");
    const lines = editor?.querySelectorAll(".view-lines .view-line");
    if (!editor || !marker || !lines) return "";
    const top = (marker.parentElement as HTMLElement).style.top;
    const line = [...lines].find((l) => (l as HTMLElement).style.top === top);
    return (line?.textContent ?? "").replace(/\u00a0/g, " ");
  });
}

/** The status bar's cursor item: "Ln 25, Col 31 (3 selected)". */
async function selection(page: Page): Promise<string> {
  return page.locator("#status\\.editor\\.selection").innerText();
}

/**
 * Hover `token` on the line containing `lineText` until the hover widget matches. The
 * widget can open before the server's answer is in, or on a neighbouring token, so the
 * pointer comes back to the token until the widget says what is expected.
 */
async function hoverUntil(page: Page, lineText: string, token: string, pattern: RegExp, scope: EditorScope = "text"): Promise<void> {
  const hover = page.locator(".monaco-hover:not(.hidden)");
  let last = "";
  await waitFor(async () => {
    const at = await tokenPosition(page, lineText, token, 15_000, scope);
    await page.mouse.move(at.x - 40, at.y - 40);
    await page.mouse.move(at.x, at.y, { steps: 3 });
    await hover.first().waitFor({ state: "visible", timeout: 3000 });
    last = await hover.first().innerText();
    return pattern.test(last);
  }, 60_000, `a hover matching ${pattern}`, () => `the last hover said ${JSON.stringify(last)}`);
}
