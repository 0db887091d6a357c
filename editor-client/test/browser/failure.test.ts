/**
 * A failed build in the preview page, in real headless Chromium, fed what the real server
 * sent for test/fixtures/mismatched_add.py (test/record-payloads.py `failure`): first a good
 * build (SKIP_UNITS = 8), then the saved edit whose `Add` receives (None, 8) and (None, 9).
 * The page draws the partial graph (the failing `merge` in the editor's error colour, the
 * message beside it), keeps the last good diagram one click away, and reveals lines on click.
 * Screenshots go to test-artifacts/ (both themes); the light partial graph is the README's
 * docs/images/partial-graph.png, copied from there by hand.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, test } from "node:test";
import type { Page } from "playwright-core";
import { DiagramStore } from "../../src/core/diagramStore";
import type { DiagramParams, FromPreview, ToPreview } from "../../src/core/protocol";
import { CLIENT_ROOT, REPO_ROOT } from "../support/fixtures";
import { chromiumSession, PreviewPage } from "../support/previewPage";
import { THEMES, type ThemeName } from "../support/themes";

const ARTIFACTS = join(CLIENT_ROOT, "test-artifacts");

function load(name: string): DiagramParams {
  return JSON.parse(readFileSync(join(CLIENT_ROOT, "test", "fixtures", `${name}.diagram.json`), "utf8")) as DiagramParams;
}

const good = load("failure.before");
const failed = load("failure");
const error = failed.errors[0];
const MESSAGE = "Inputs have incompatible shapes. Received shapes (8,) and (9,)";

/** The `document` message the extension sends after its store took in `payloads` in order. */
function documentMessage(...payloads: DiagramParams[]): ToPreview {
  const store = new DiagramStore();
  let diagram = null;
  for (const payload of payloads) diagram = store.applyDiagram(payload) ?? diagram;
  return {
    type: "document", uri: failed.uri, fileName: "mismatched_add.py", diagram,
    status: { state: "failed", message: `0 models built; 1 error: build (line 21): ValueError: ${MESSAGE}` },
    notice: null, factory: null, cursorLine: null,
  };
}

const session = chromiumSession(ARTIFACTS);

async function openWith(theme: ThemeName, message: ToPreview): Promise<PreviewPage> {
  const page = await PreviewPage.open(session.browser, session.server, theme, { width: 1360, height: 500 });
  await page.send(message);
  return page;
}

const layerIds = (page: Page) => page.$$eval(".nv-canvas g.layer", (els) => els.map((e) => e.id));
const lastPosted = async (preview: PreviewPage): Promise<FromPreview | undefined> => (await preview.recorded()).posted.at(-1);

/** The drawn border colour of a node (the shape Graphviz drew without fill), as the page computes it. */
function borderColour(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (g) => getComputedStyle(g.querySelector('path[fill="none"], polygon[fill="none"]')!).stroke);
}

/** `#f85149` -> `rgb(248, 81, 73)`, as getComputedStyle writes colours. */
function rgb(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

describe("a failed build", () => {
  test("the recorded payloads are a good build, then a failed one with its partial graph drawn", () => {
    assert.deepEqual(good.models.map((m) => m.factory), ["build_classifier"]);
    assert.deepEqual(failed.models, []);
    assert.equal(error.factory, "build_classifier");
    assert.equal(error.line, 21);
    assert.deepEqual(error.graph?.layers.map((l) => [l.id, !!l.failed]),
      [["features", false], ["hidden", false], ["skip", false], ["merge", true]]);
    assert.deepEqual(failed.partials?.map((p) => p.factory), ["build_classifier"]);
  });

  for (const theme of ["dark", "light"] as const) {
    test(`draws the partial graph: the failing layer in the error colour, the message beside it (${theme})`, async () => {
      const preview = await openWith(theme, documentMessage(good, failed));
      const { page } = preview;
      try {
        assert.deepEqual(await layerIds(page), ["features", "hidden", "skip", "merge"], "the partial graph, not the last good one");
        assert.match(await page.getAttribute('.nv-canvas g.layer[id="merge"]', "class") ?? "", /\blayer-failed\b/);
        const errorColour = rgb(THEMES[theme].vars["--vscode-errorForeground"]);
        assert.equal(await borderColour(page, '.nv-canvas g.layer[id="merge"]'), errorColour);
        assert.notEqual(await borderColour(page, '.nv-canvas g.layer[id="skip"]'), errorColour);

        const note = (await page.textContent(".nv-canvas g.failure-note")) ?? "";
        assert.match(note.replace(/\s+/g, " "), /merge failed/);
        assert.match(note.replace(/\s+/g, " "), /Inputs have incompatible shapes\. Received shapes \(8,\) and \(9,\)/);
        const [noteBox, mergeBox] = [await page.$(".nv-canvas g.failure-note"), await page.$('.nv-canvas g.layer[id="merge"]')];
        const [n, m] = [(await noteBox!.boundingBox())!, (await mergeBox!.boundingBox())!];
        assert.ok(n.x > m.x + m.width, "the message is to the right of the failing layer");
        assert.ok(Math.abs(n.y + n.height / 2 - (m.y + m.height / 2)) < 12, "level with it");
        assert.ok(await page.isVisible(".nv-canvas g.failure-note"));

        assert.equal(await page.isVisible(".nv-failure"), true);
        assert.equal(await page.textContent(".nv-failure-text"),
          "The last build of build_classifier() failed at merge (line 21): drawn up to the error.");
        assert.equal(await page.textContent(".nv-failure-toggle"), "Show last good diagram");
        assert.equal(await page.textContent(".nv-build"), "Build failed");
        assert.equal(await page.$eval("body", (b) => b.classList.contains("nv-stale")), false, "the partial graph is not greyed");
        assert.match(await page.textContent(".nv-errors") ?? "", /Received shapes \(8,\) and \(9,\)/);
        assert.equal(await page.$eval(".nv-factory", (s) => (s as HTMLSelectElement).selectedOptions[0].textContent), "build_classifier() · failed");
        // The light one is the README's docs/images/partial-graph.png, copied by hand when the panel
        // changes (a test run never writes into the repository).
        await page.screenshot({ path: join(ARTIFACTS, `failure-partial-${theme}.png`) });
        const recorded = await preview.recorded();
        assert.deepEqual([recorded.errors, recorded.violations, recorded.alerts], [[], [], []]);
      } finally {
        await preview.close();
      }
    });
  }

  test("the last good diagram is one click away, and back", async () => {
    const preview = await openWith("dark", documentMessage(good, failed));
    const { page } = preview;
    try {
      await page.click(".nv-failure-toggle");
      assert.deepEqual(await layerIds(page), good.models[0].graph.layers.map((l) => l.id));
      assert.equal(await page.$$eval(".nv-canvas .layer-failed, .nv-canvas .failure-note", (els) => els.length), 0);
      assert.equal(await page.$eval("body", (b) => b.classList.contains("nv-stale")), true, "the last good diagram is greyed");
      assert.equal(await page.textContent(".nv-banner-title"), "The last build failed; the diagram below is from the last good build.");
      assert.match(await page.textContent(".nv-failure-text") ?? "", /^Showing the last good diagram of build_classifier\(\)\./);
      assert.equal(await page.textContent(".nv-failure-toggle"), "Show the failure");
      await page.screenshot({ path: join(ARTIFACTS, "failure-last-good-dark.png") });

      await page.click(".nv-failure-toggle");
      assert.deepEqual(await layerIds(page), ["features", "hidden", "skip", "merge"]);
      assert.equal(await page.$eval("body", (b) => b.classList.contains("nv-stale")), false);
      assert.equal(await page.textContent(".nv-failure-toggle"), "Show last good diagram");
    } finally {
      await preview.close();
    }
  });

  test("a click on a layer of the partial graph, or on the message, reveals its line", async () => {
    const preview = await openWith("dark", documentMessage(good, failed));
    const { page } = preview;
    try {
      await page.click('.nv-canvas g.layer[id="skip"]');
      assert.deepEqual(await lastPosted(preview), { type: "reveal", uri: failed.uri, line: 20, cell: null });
      assert.match(await page.textContent(".nv-details") ?? "", /\(None, 9\)/, "the details pane describes the partial graph's layer");
      await page.click('.nv-canvas g.layer[id="merge"]');
      assert.deepEqual(await lastPosted(preview), { type: "reveal", uri: failed.uri, line: 21, cell: null });
      await page.click(".nv-canvas g.failure-note");
      assert.deepEqual(await lastPosted(preview), { type: "reveal", uri: failed.uri, line: 21, cell: null });
    } finally {
      await preview.close();
    }
  });

  test("the details pane says where the build failed and why, not a build time; the last good diagram's says its build", async () => {
    const preview = await openWith("dark", documentMessage(good, failed));
    const { page } = preview;
    const facts = () => page.$$eval(".nv-details dl.nv-facts dt", (dts) =>
      Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent ?? ""])));
    try {
      const partial = await facts();
      assert.equal(partial["Build"], "failed at line 21");
      assert.equal(partial["Error"], `ValueError: ${MESSAGE}`);
      assert.equal(partial["Built"], undefined, "a build that raised shows no build time");
      assert.equal(partial["Layers"], "4", "the facts are the partial graph's");
      assert.equal(await page.textContent(".nv-details-kicker"), "Model · drawn up to the error");

      await page.click(".nv-failure-toggle");
      const last = await facts();
      assert.match(last["Built"] ?? "", /^\d+ ms, shape-only$/, "the last good diagram's own build");
      assert.equal(last["Build"], undefined);
      assert.equal(await page.textContent(".nv-details-kicker"), "Model · out of date");
    } finally {
      await preview.close();
    }
  });

  test("a model that never built shows its partial graph alone, with nothing to toggle to", async () => {
    const preview = await openWith("light", documentMessage(failed));
    const { page } = preview;
    try {
      assert.deepEqual(await layerIds(page), ["features", "hidden", "skip", "merge"]);
      assert.equal(await page.isVisible(".nv-failure-toggle"), false);
      assert.equal(await page.textContent(".nv-build"), "Build failed");
      assert.equal(await page.isVisible(".nv-empty"), false);
    } finally {
      await preview.close();
    }
  });

  test("another view draws the last good build and says so; 'Show the failure' returns to the graph", async () => {
    const preview = await openWith("dark", documentMessage(good, failed));
    const { page } = preview;
    try {
      await page.selectOption(".nv-view", "layered");
      const asked = await lastPosted(preview);
      assert.equal(asked?.type, "renderView", "the layered view of the last good build is asked of the server");
      assert.match(await page.textContent(".nv-failure-text") ?? "", /this view draws its last good build\.$/);
      await page.click(".nv-failure-toggle");
      assert.equal(await page.$eval(".nv-view", (s) => (s as HTMLSelectElement).value), "graph");
      assert.deepEqual(await layerIds(page), ["features", "hidden", "skip", "merge"]);
    } finally {
      await preview.close();
    }
  });

  test("in a narrow panel, and in high contrast, the bar wraps and its button stays in view", async () => {
    for (const theme of ["dark", "high-contrast"] as const) {
      const page0 = await PreviewPage.open(session.browser, session.server, theme, { width: 420, height: 640 });
      try {
        await page0.send(documentMessage(good, failed));
        const { page } = page0;
        const button = (await (await page.$(".nv-failure-toggle"))!.boundingBox())!;
        assert.ok(button.x >= 0 && button.x + button.width <= 420, `the toggle is inside the panel (${theme})`);
        const text = (await (await page.$(".nv-failure-text"))!.boundingBox())!;
        assert.ok(text.width > 150, "the text keeps a readable width");
        assert.equal(await borderColour(page, '.nv-canvas g.layer[id="merge"]'), rgb(THEMES[theme].vars["--vscode-errorForeground"]));
        await page.screenshot({ path: join(ARTIFACTS, `failure-narrow-${theme}.png`) });
      } finally {
        await page0.close();
      }
    }
  });

  test("the next good build draws the full diagram again", async () => {
    const store = new DiagramStore();
    const preview = await openWith("dark", documentMessage(good, failed));
    const { page } = preview;
    try {
      store.applyDiagram(failed);
      const fixed = store.applyDiagram({ ...good, version: 3 })!;
      await preview.send({ type: "diagram", uri: failed.uri, diagram: fixed });
      assert.deepEqual(await layerIds(page), good.models[0].graph.layers.map((l) => l.id));
      assert.equal(await page.isVisible(".nv-failure"), false);
      assert.equal(await page.$$eval(".nv-canvas .failure-note", (els) => els.length), 0);
    } finally {
      await preview.close();
    }
  });
});

describe("netviz render --format html of a failed build", () => {
  test("opens from disk drawn up to the error, with the failure bar and details, and no network request", async () => {
    const dir = mkdtempSync(join(tmpdir(), "netviz-partial-html-"));
    try {
      const fixture = join(REPO_ROOT, "tests", "fixtures", "failures", "tabular_two_towers.py");
      let status = 0;
      try {
        execFileSync(join(REPO_ROOT, ".venv", "bin", "netviz"), ["render", fixture, "--format", "html", "--output", dir],
          { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" }, stdio: "pipe" });
      } catch (failure) {
        status = (failure as { status: number }).status;
      }
      assert.equal(status, 1, "the build failed, so the command does, page or not");
      const offline = await session.browser.newContext({ viewport: { width: 1200, height: 560 }, offline: true });
      const page = await offline.newPage();
      const requested: string[] = [];
      const problems: string[] = [];
      page.on("request", (r) => requested.push(r.url()));
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
      const url = pathToFileURL(join(dir, "tabular_two_towers.two_towers.html")).href;
      await page.goto(url);
      await page.waitForSelector(".nv-canvas g.failure-note");
      assert.deepEqual(await layerIds(page), ["features", "wide", "deep", "merge"]);
      assert.match(await page.getAttribute('.nv-canvas g.layer[id="merge"]', "class") ?? "", /\blayer-failed\b/);
      assert.match((await page.textContent(".nv-canvas g.failure-note") ?? "").replace(/\s+/g, " "), /merge failed.*\(8,\) and \(9,\)/);
      assert.equal(await page.textContent(".nv-failure-text"),
        "The last build of two_towers() failed at merge (line 18): drawn up to the error.");
      assert.equal(await page.isVisible(".nv-failure-toggle"), false, "no last good diagram to switch to");
      const details = (await page.textContent(".nv-details")) ?? "";
      assert.match(details, /Buildfailed at line 18/);
      assert.match(details, /ErrorValueError: Inputs have incompatible shapes\. Received shapes \(8,\) and \(9,\)/);
      assert.doesNotMatch(details, /Built/);
      await page.screenshot({ path: join(ARTIFACTS, "failure-html-export.png") });
      assert.deepEqual(requested, [url], "the page fetched nothing but itself");
      assert.deepEqual(problems, []);
      await offline.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
