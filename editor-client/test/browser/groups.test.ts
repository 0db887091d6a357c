/**
 * Groups in the preview page, in real headless Chromium: ResNet50 and NASNetLarge as real
 * builds drew them (test/record-groups.py: the worker's groups, the renderer's drawings of
 * each expansion, as `netviz.renderView` answers them), the overlays, the minimap, the
 * changes of a build, and the HTML export (`netviz render --format html`) opened from disk.
 * Screenshots go to test-artifacts/ to be looked at.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, test } from "node:test";
import { DiagramStore } from "../../src/core/diagramStore";
import type { DiagramParams, FromPreview, ToPreview } from "../../src/core/protocol";
import { CLIENT_ROOT, REPO_ROOT } from "../support/fixtures";
import { chromiumSession, PreviewPage } from "../support/previewPage";

const ARTIFACTS = join(CLIENT_ROOT, "test-artifacts");

interface GroupsFixture {
  diagram: DiagramParams;
  expansions: Record<string, string>;
  /** `netviz.renderView`'s `layerMacs` for the model. */
  macs: Record<string, number | null>;
}

function loadGroups(name: "resnet50" | "nasnet"): GroupsFixture {
  return JSON.parse(readFileSync(join(CLIENT_ROOT, "test", "fixtures", `${name}.groups.json`), "utf8")) as GroupsFixture;
}

const resnet = loadGroups("resnet50");
const nasnet = loadGroups("nasnet");

type RenderViewRequest = Extract<FromPreview, { type: "renderView" }>;

function documentMessage(params: DiagramParams, store = new DiagramStore()): ToPreview {
  return {
    type: "document", uri: params.uri, fileName: params.uri.split("/").pop()!, diagram: store.applyDiagram(params) ?? null,
    status: { state: "done", message: "" }, notice: null, factory: null, cursorLine: null,
  };
}

const session = chromiumSession(ARTIFACTS);

async function open(fixture: GroupsFixture, size = { width: 1100, height: 760 }, store = new DiagramStore()): Promise<PreviewPage> {
  const preview = await PreviewPage.open(session.browser, session.server, "dark", size);
  await preview.send(documentMessage(fixture.diagram, store));
  return preview;
}

async function requests(preview: PreviewPage): Promise<RenderViewRequest[]> {
  return (await preview.recorded()).posted.filter((m): m is RenderViewRequest => m.type === "renderView");
}

/** Answer the page's latest drawing request from the recorded drawings, as the server would. */
async function answerLatest(preview: PreviewPage, fixture: GroupsFixture): Promise<RenderViewRequest> {
  const request = (await requests(preview)).at(-1);
  assert.ok(request, "the page asked for a drawing");
  const key = [...(request.expand ?? [])].sort().join(",");
  const content = fixture.expansions[key];
  assert.ok(content, `the fixture has the drawing ${JSON.stringify(key)}`);
  await preview.send({
    type: "view", uri: request.uri, id: request.id, error: null,
    result: {
      factory: request.factory, view: "graph", format: "svg", content, layerMacs: fixture.macs,
      totalMacs: Object.values(fixture.macs).reduce<number>((n, v) => n + (v ?? 0), 0),
    },
  });
  return request;
}

function nodeIds(preview: PreviewPage): Promise<string[]> {
  return preview.page.$$eval(".nv-canvas g.node", (els) => els.map((e) => e.id));
}

function box(preview: PreviewPage, id: string): Promise<{ x: number; y: number } | null> {
  return preview.page.evaluate((id) => {
    const el = Array.from(document.querySelectorAll(".nv-canvas g")).find((g) => g.id === id);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { x: r.left, y: r.top };
  }, id);
}

async function clickNode(preview: PreviewPage, id: string): Promise<void> {
  const handle = await preview.page.evaluateHandle((id) => Array.from(document.querySelectorAll(".nv-canvas g.node")).find((g) => g.id === id)!, id);
  await handle.asElement()!.click();
}

describe("groups", () => {
  test("ResNet50 opens as its stem and four stages; a stage expands in place into its blocks, a block into its layers", async () => {
    const preview = await open(resnet);
    const { page } = preview;
    try {
      assert.deepEqual(await nodeIds(preview), ["input_layer", "group:stem", "group:conv2", "group:conv3", "group:conv4", "group:conv5", "group:head"]);
      assert.deepEqual(await requests(preview), [], "the default drawing comes with the diagram");
      const conv3 = await page.$eval(".nv-canvas g.node.group-collapsed", () => true);
      assert.ok(conv3);
      const text = await page.evaluate(() => Array.from(document.querySelectorAll(".nv-canvas g.node")).find((g) => g.id === "group:conv3")!.textContent);
      assert.match(text ?? "", /conv3[\s\S]*\(None, 28, 28, 512\)[\s\S]*42 layers · 1,230,336 params/);

      // Hovering the group shows its facts.
      await page.hover(".nv-canvas g.group-collapsed >> nth=2");
      assert.match(await page.textContent(".nv-details") ?? "", /Block group · collapsed[\s\S]*conv3[\s\S]*Layers42/);

      const before = await box(preview, "group:conv3");
      await clickNode(preview, "group:conv3");
      assert.ok((await nodeIds(preview)).includes("group:conv3"), "the drawing stays while the expanded one is drawn");
      assert.equal(await page.isVisible(".nv-empty"), false);
      const asked = await answerLatest(preview, resnet);
      assert.deepEqual(asked.expand, ["group:conv3"]);
      assert.equal(asked.view, "graph");
      const ids = await nodeIds(preview);
      assert.deepEqual(ids.filter((id) => id.startsWith("group:conv3")),
        ["group:conv3_block1", "group:conv3_block2", "group:conv3_block3", "group:conv3_block4"]);
      const after = await box(preview, "group:conv3");
      assert.ok(before && after, "the stage is drawn before (a node) and after (a box)");
      assert.ok(Math.abs(after.y - before.y) < 2, `the view stays anchored on the stage: ${before.y} -> ${after.y}`);

      await clickNode(preview, "group:conv3_block2");
      assert.deepEqual((await answerLatest(preview, resnet)).expand, ["group:conv3", "group:conv3_block2"]);
      const layers = (await nodeIds(preview)).filter((id) => id.startsWith("conv3_block2_"));
      assert.equal(layers.length, 10);
      await page.screenshot({ path: join(ARTIFACTS, "groups-resnet50-dark.png") });

      // Click -> line still works for a layer inside a group.
      await clickNode(preview, "conv3_block2_2_conv");
      const reveal = (await preview.recorded()).posted.filter((m) => m.type === "reveal").at(-1);
      const line = resnet.diagram.models[0].graph.layers.find((l) => l.id === "conv3_block2_2_conv")!.line;
      assert.deepEqual(reveal, { type: "reveal", uri: resnet.diagram.uri, line, cell: null });

      // The − in the expanded block's title collapses it, again in one click.
      const mark = await page.evaluateHandle(() => Array.from(document.querySelectorAll(".nv-canvas g.group-expanded"))
        .find((g) => g.id === "group:conv3_block2")!.querySelector("text")!);
      await mark.asElement()!.click();
      assert.deepEqual((await answerLatest(preview, resnet)).expand, ["group:conv3"]);
      assert.ok((await nodeIds(preview)).includes("group:conv3_block2"));
      assert.deepEqual((await preview.recorded()).violations, []);
    } finally {
      await preview.close();
    }
  });

  test("search expands the groups that hold its matches; the cursor marks the group that holds its line", async () => {
    const preview = await open(resnet);
    const { page } = preview;
    try {
      await page.fill(".nv-search", "conv4_block3_2_conv");
      const asked = await answerLatest(preview, resnet);
      assert.deepEqual(asked.expand, ["group:conv4", "group:conv4_block3"]);
      assert.equal(await page.textContent(".nv-search-count"), "1 layer");
      const matched = await page.$$eval(".nv-canvas g.node.nv-match", (els) => els.map((e) => e.id));
      assert.deepEqual(matched, ["conv4_block3_2_conv"]);

      // A line inside a collapsed group marks the group's node (ResNet50 is built on one line).
      const line = resnet.diagram.models[0].graph.layers[5].line!;
      await preview.send({ type: "cursor", uri: resnet.diagram.uri, line, cell: null });
      const marked = await page.$$eval(".nv-canvas g.node.nv-cursor", (els) => els.map((e) => e.id));
      assert.ok(marked.includes("group:conv2") && marked.includes("conv4_block3_2_conv"), marked.join(" "));
    } finally {
      await preview.close();
    }
  });

  test("overlays colour the nodes with a legend and are kept in the panel's state; the changes of a build are marked", async () => {
    const store = new DiagramStore();
    const preview = await open(resnet, undefined, store);
    const { page } = preview;
    try {
      await page.selectOption(".nv-overlay", "params");
      const classes = await page.$$eval(".nv-canvas g.node", (els) => els.map((e) => [e.id, [...e.classList].find((c) => c.startsWith("nv-ov-")) ?? ""]));
      assert.deepEqual(Object.fromEntries(classes), {
        input_layer: "nv-ov-zero", "group:stem": "nv-ov-s0", "group:conv2": "nv-ov-s2", "group:conv3": "nv-ov-s3",
        "group:conv4": "nv-ov-s4", "group:conv5": "nv-ov-s4", "group:head": "nv-ov-s3",
      });
      assert.equal(await page.isVisible(".nv-legend"), true);
      assert.match(await page.textContent(".nv-legend") ?? "", /^Params≥ .*0$/);
      const saved = await page.evaluate(() => (window as unknown as { acquireVsCodeApi: () => { getState(): unknown } }).acquireVsCodeApi().getState());
      assert.equal((saved as { overlay: string }).overlay, "params");
      await page.screenshot({ path: join(ARTIFACTS, "groups-overlay-params-dark.png") });

      // MACs are counted by the server: the page asks for the drawing with them.
      await page.selectOption(".nv-overlay", "macs");
      const asked = await answerLatest(preview, resnet);
      assert.equal(asked.view, "graph");
      assert.equal(asked.expand, undefined, "the default drawing");
      const macsClasses = await page.$$eval(".nv-canvas g.node", (els) => els.map((e) => [e.id, [...e.classList].find((c) => c.startsWith("nv-ov-")) ?? ""]));
      assert.deepEqual(Object.fromEntries(macsClasses)["group:conv4"], "nv-ov-s4");
      assert.match(await page.textContent(".nv-legend") ?? "", /^MACs≥ /);
      await page.hover(".nv-canvas g.group-collapsed >> nth=2");
      assert.match(await page.textContent(".nv-details") ?? "", /MACs\d/);

      // Tensor shapes on the edges are drawn by the server too.
      await page.click(".nv-edge-shapes");
      assert.equal((await answerLatest(preview, resnet)).edgeShapes, true);
      assert.equal(await page.getAttribute(".nv-edge-shapes", "aria-pressed"), "true");
      await page.click(".nv-edge-shapes");

      await page.selectOption(".nv-overlay", "activation");
      assert.equal(await page.$eval(".nv-canvas g.node >> nth=0", (e) => e.id), "input_layer");
      assert.match(await page.textContent(".nv-legend") ?? "", /^Activation memory≥ .*MiB/);

      // A build that widened the head: its layer changed (inside the collapsed head), +246,029 params.
      const changed: DiagramParams = JSON.parse(JSON.stringify(resnet.diagram));
      changed.models[0].changes = { added: [], removed: [], changed: ["predictions"], params_delta: 246029 };
      await preview.send({ type: "diagram", uri: changed.uri, diagram: store.applyDiagram(changed)! });
      assert.equal(await page.textContent(".nv-delta"), "+246,029 params");
      assert.deepEqual(await page.$$eval(".nv-canvas g.node.nv-changed", (els) => els.map((e) => e.id)), ["group:head"]);
      // The next build without changes clears them.
      await preview.send({ type: "diagram", uri: changed.uri, diagram: store.applyDiagram(resnet.diagram)! });
      assert.equal(await page.isVisible(".nv-delta"), false);
      assert.deepEqual(await page.$$eval(".nv-canvas g.node.nv-changed", (els) => els.length), 0);
    } finally {
      await preview.close();
    }
  });

  test("NASNetLarge opens readable; the minimap shows while it is taller than the view; Fit width and Fit", async () => {
    const preview = await open(nasnet, { width: 1100, height: 760 });
    const { page } = preview;
    try {
      const ids = await nodeIds(preview);
      assert.ok(ids.length <= 12, `NASNetLarge opens collapsed: ${ids.join(" ")}`);
      assert.ok(ids.includes("group:cells_0-5") && ids.includes("group:cell_reduce_6"));
      await page.click(".nv-fit-width");
      const scale = Number((await preview.transform()).match(/scale\(([\d.]+)\)/)![1]);
      assert.ok(scale >= 0.9, `its default zoom is legible: ${scale}`);
      assert.equal(await page.isVisible(".nv-minimap"), true, "taller than the view: a minimap");
      await page.screenshot({ path: join(ARTIFACTS, "groups-nasnet-dark.png") });
      // A click low in the minimap brings the bottom of the diagram into view.
      const mini = (await page.$(".nv-minimap"))!;
      const r = (await mini.boundingBox())!;
      const before = await preview.transform();
      await page.mouse.click(r.x + r.width / 2, r.y + r.height - 3);
      assert.notEqual(await preview.transform(), before);
      await page.click(".nv-fit");
      assert.equal(await page.isVisible(".nv-minimap"), false, "all in view: no minimap");

      await clickNode(preview, "group:cells_0-5");
      assert.deepEqual((await answerLatest(preview, nasnet)).expand, ["group:cells_0-5"]);
      assert.ok((await nodeIds(preview)).includes("group:cell_0"));
      await page.screenshot({ path: join(ARTIFACTS, "groups-nasnet-expanded-dark.png") });
    } finally {
      await preview.close();
    }
  });
});

describe("what changed", () => {
  test("widening the first model's Dense and saving (recorded from the real server) marks it and shows the delta until the next build", async () => {
    const load = (name: string) => JSON.parse(readFileSync(join(CLIENT_ROOT, "test", "fixtures", `${name}.diagram.json`), "utf8")) as DiagramParams;
    const before = load("changes.before");
    const after = load("changes");
    const store = new DiagramStore();
    const preview = await PreviewPage.open(session.browser, session.server, "light");
    const { page } = preview;
    try {
      await preview.send(documentMessage(before, store));
      assert.equal(await page.isVisible(".nv-delta"), false, "a first build has nothing to compare");
      await preview.send({ type: "diagram", uri: after.uri, diagram: store.applyDiagram(after)! });
      const changes = after.models.find((m) => m.factory === "construct_model")!.changes!;
      assert.equal(changes.params_delta, 62_983_424);
      assert.equal(await page.textContent(".nv-delta"), "+62,983,424 params");
      const marked = await page.$$eval(".nv-canvas g.node.nv-changed", (els) => els.map((e) => e.id));
      assert.deepEqual(marked, changes.changed);
      await page.screenshot({ path: join(ARTIFACTS, "groups-changes-light.png") });
    } finally {
      await preview.close();
    }
  });
});

describe("the HTML export", () => {
  test("opens from disk with zoom, search, details and expand working and no network request", async () => {
    const dir = mkdtempSync(join(tmpdir(), "netviz-html-"));
    try {
      execFileSync(join(REPO_ROOT, ".venv", "bin", "netviz"), ["render", join(REPO_ROOT, "examples", "applications.py"),
        "--factory", "resnet50", "--format", "html", "--output", dir], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" }, stdio: "pipe" });
      const file = join(dir, "applications.resnet50.html");
      const offline = await session.browser.newContext({ viewport: { width: 1100, height: 760 }, offline: true });
      const page = await offline.newPage();
      const requested: string[] = [];
      const problems: string[] = [];
      page.on("request", (r) => requested.push(r.url()));
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
      const url = pathToFileURL(file).href;
      await page.goto(url);
      await page.waitForSelector(".nv-canvas g.node");
      const ids = () => page.$$eval(".nv-canvas g.node", (els) => els.map((e) => e.id));
      assert.deepEqual(await ids(), ["input_layer", "group:stem", "group:conv2", "group:conv3", "group:conv4", "group:conv5", "group:head"]);
      assert.match(await page.textContent(".nv-title") ?? "", /resnet50/);

      // Zoom.
      const transform = () => page.$eval(".nv-canvas", (el) => (el as HTMLElement).style.transform);
      const zoomed = await transform();
      await page.click(".nv-zoom-in");
      assert.notEqual(await transform(), zoomed);

      // Expand from the file's own drawings, and collapse back.
      await page.evaluate(() => (Array.from(document.querySelectorAll(".nv-canvas g.node")).find((g) => g.id === "group:conv2") as SVGGElement)
        .dispatchEvent(new MouseEvent("click", { bubbles: true })));
      await page.waitForFunction(() => Array.from(document.querySelectorAll(".nv-canvas g.node")).some((g) => g.id === "group:conv2_block1"));
      await page.evaluate(() => (Array.from(document.querySelectorAll(".nv-canvas g.group-expanded")).find((g) => g.id === "group:conv2")!
        .querySelector("text") as SVGTextElement).dispatchEvent(new MouseEvent("click", { bubbles: true })));
      await page.waitForFunction(() => Array.from(document.querySelectorAll(".nv-canvas g.node")).some((g) => g.id === "group:conv2"));

      // Search into a group: the matching block opens.
      await page.fill(".nv-search", "conv5_block2_out");
      await page.waitForFunction(() => document.querySelector(".nv-canvas g.node.nv-match")?.id === "conv5_block2_out");

      // Details of a layer.
      await page.hover(".nv-canvas g.node.nv-match");
      assert.match(await page.textContent(".nv-details") ?? "", /conv5_block2_out[\s\S]*\(None, 7, 7, 2048\)/);
      await page.screenshot({ path: join(ARTIFACTS, "groups-html-export.png") });

      assert.deepEqual(requested, [url], "the page fetched nothing but itself");
      assert.deepEqual(problems, []);
      await offline.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

