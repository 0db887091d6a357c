/**
 * The preview page in real headless Chromium, fed the `netviz/diagram` payloads the
 * real server sent for examples/seed_cnns.py, examples/applications.py (ResNet50),
 * examples/notebook_style_script.py (a model at module level),
 * tests/fixtures/notebooks/fashion_classifier.ipynb (opened as a notebook: cells and
 * cell-local lines) and test/fixtures/hostile_names.py (test/record-payloads.py). Screenshots go to
 * test-artifacts/ to be looked at.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { DiagramStore } from "../../src/core/diagramStore";
import { formatMacs, formatMs } from "../../src/core/format";
import type { DiagramParams, FromPreview, RenderedView, ToPreview } from "../../src/core/protocol";
import { CLIENT_ROOT, graphOf, loadDiagram, loadViews } from "../support/fixtures";
import { chromiumSession, PreviewPage } from "../support/previewPage";
import type { ThemeName } from "../support/themes";

const ARTIFACTS = join(CLIENT_ROOT, "test-artifacts");
const seed = loadDiagram("seed_cnns");
const resnet = loadDiagram("resnet50");
const hostile = loadDiagram("hostile");
const nested = loadDiagram("nested");
const script = loadDiagram("script");
const notebook = loadDiagram("notebook");
const drawn = loadViews();

/** The `document` message the extension sends for a payload, after its store took it in. */
function documentMessage(params: DiagramParams, store = new DiagramStore(), factory: string | null = null): ToPreview {
  const diagram = store.applyDiagram(params) ?? null;
  return {
    type: "document", uri: params.uri, fileName: params.uri.split("/").pop()!, diagram,
    status: { state: "done", message: "" }, notice: null, factory, cursorLine: null,
  };
}

const session = chromiumSession(ARTIFACTS);

async function openWith(theme: ThemeName, message: ToPreview, size?: { width: number; height: number }): Promise<PreviewPage> {
  const page = await PreviewPage.open(session.browser, session.server, theme, size);
  await page.send(message);
  return page;
}

describe("diagrams", () => {
  test("each factory's diagram is drawn, and the picker switches between them", async () => {
    const preview = await openWith("dark", documentMessage(seed));
    const { page } = preview;
    try {
      const options = await page.$$eval(".nv-factory option", (els) => els.map((e) => (e as HTMLOptionElement).value));
      assert.deepEqual(options, ["construct_model", "sconstruct_model", "cconstruct_model"]);
      const ids = () => page.$$eval(".nv-canvas g.layer", (els) => els.map((e) => e.id));
      assert.deepEqual(await ids(), graphOf(seed, "construct_model").layers.map((l) => l.id));
      assert.match(await page.textContent(".nv-summary") ?? "", /Sequential · 63\.0M params/);
      assert.equal(await page.textContent(".nv-build"), `Built in ${formatMs(seed.elapsed_ms)}`);

      await page.selectOption(".nv-factory", "sconstruct_model");
      assert.equal((await ids()).length, 15);
      assert.deepEqual((await preview.recorded()).posted.at(-1), { type: "factory", uri: seed.uri, factory: "sconstruct_model" });
      assert.deepEqual((await preview.recorded()).violations, [], "the CSP blocked nothing: the page needs no exceptions");
    } finally {
      await preview.close();
    }
  });

  test("an update is applied in place: zoom, pan and selection stay, the content changes", async () => {
    const store = new DiagramStore();
    const preview = await openWith("dark", documentMessage(seed, store));
    const { page } = preview;
    try {
      await page.click('.nv-canvas g.layer[id="dense"]');
      const box = (await page.$(".nv-viewport"))!;
      const b = (await box.boundingBox())!;
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
      await page.mouse.wheel(0, -400);
      await page.mouse.down();
      await page.mouse.move(b.x + b.width / 2 + 60, b.y + b.height / 2 + 30, { steps: 5 });
      await page.mouse.up();
      const before = await preview.transform();
      assert.notEqual(before, "translate(0px, 0px) scale(1)");

      // The user widens the Dense layer and saves: the server sends version 2.
      const model = seed.models[0];
      const edited: DiagramParams = {
        ...seed, version: 2,
        models: [{ ...model, svg: model.svg!.replace("relu · 62,980,352 params", "relu · 125,960,704 params"),
          graph: { ...model.graph, total_params: 126002956 } }, ...seed.models.slice(1)],
      };
      const diagram = store.applyDiagram(edited)!;
      await page.evaluate(() => { (document.querySelector(".nv-canvas svg") as Element).setAttribute("data-old", "1"); });
      await preview.send({ type: "diagram", uri: seed.uri, diagram });

      assert.equal(await page.$(".nv-canvas svg[data-old]"), null, "the SVG was replaced");
      assert.match(await page.textContent(".nv-canvas") ?? "", /125,960,704 params/);
      assert.match(await page.textContent(".nv-summary") ?? "", /126\.0M params/);
      assert.equal(await preview.transform(), before, "zoom and pan survive the update");
      assert.equal(await page.getAttribute('.nv-canvas g.layer[id="dense"]', "class"), "node layer layer-dense nv-selected");
      assert.equal(await page.$$eval(".nv-canvas g.layer", (els) => els.length), 8);
    } finally {
      await preview.close();
    }
  });

  test("Fit shows the whole diagram and 100% returns to actual size", async () => {
    const preview = await openWith("light", documentMessage(resnet));
    const { page } = preview;
    try {
      await page.click(".nv-fit");
      const fit = await page.$eval(".nv-canvas svg", (svg) => {
        const r = svg.getBoundingClientRect();
        const v = document.querySelector(".nv-viewport")!.getBoundingClientRect();
        return { svg: [r.left, r.top, r.right, r.bottom].map(Math.round), view: [v.left, v.top, v.right, v.bottom].map(Math.round) };
      });
      const [l, t, r, b] = fit.svg;
      const [vl, vt, vr, vb] = fit.view;
      assert.ok(l >= vl && t >= vt && r <= vr && b <= vb, `the fitted diagram lies inside the viewport: ${JSON.stringify(fit)}`);
      assert.notEqual(await page.textContent(".nv-zoom-level"), "100%");
      await page.click(".nv-actual");
      assert.equal(await page.textContent(".nv-zoom-level"), "100%");
    } finally {
      await preview.close();
    }
  });
});

describe("a model built at module level", () => {
  test("a training script's variable is drawn under its name, and a click reveals its layer's line", async () => {
    const preview = await openWith("light", documentMessage(script));
    const { page } = preview;
    try {
      const graph = graphOf(script, "model");
      assert.equal(graph.kind, "variable");
      const options = await page.$$eval(".nv-factory option", (els) => els.map((e) => e.textContent));
      assert.deepEqual(options, ["model"], "named by the variable, not called like a factory");
      assert.equal(await page.textContent(".nv-title"), "model");
      assert.deepEqual(await page.$$eval(".nv-canvas g.layer", (els) => els.map((e) => e.id)),
        graph.layers.map((l) => l.id));
      assert.match(await page.textContent(".nv-summary") ?? "", /Sequential · 15\.6K params/);
      const conv = graph.layers.find((l) => l.id === "conv1d_1")!;
      await page.click('.nv-canvas g.layer[id="conv1d_1"]');
      assert.deepEqual((await preview.recorded()).posted.at(-1), { type: "reveal", uri: script.uri, line: conv.line, cell: null });
      assert.match(await page.textContent(".nv-details") ?? "", /Conv1D.*conv1d_1.*\(None, 57, 64\)/s);
      await page.screenshot({ path: join(ARTIFACTS, "preview-module-level-light.png") });
    } finally {
      await preview.close();
    }
  });
});

describe("notebooks", () => {
  test("a notebook's model: the cursor marks the layers of its cell and line, clicks reveal a line in a cell", async () => {
    const opened = documentMessage(notebook);
    assert.equal(opened.type, "document");
    const preview = await openWith("dark", { ...opened, cursorLine: 6, cursorCell: 5 } as ToPreview);
    const { page } = preview;
    const marked = () => page.$$eval(".nv-canvas g.nv-cursor", (els) => els.map((e) => e.id));
    try {
      const graph = graphOf(notebook, "model");
      assert.equal(graph.cell, 5, "the model cell, markdown cells counted");
      assert.deepEqual(await page.$$eval(".nv-factory option", (els) => els.map((e) => e.textContent)), ["model", "residual_mlp()"]);
      assert.deepEqual(await marked(), ["conv2d"], "line 6 of cell 5, from the document message");
      await preview.send({ type: "cursor", uri: notebook.uri, line: 9, cell: 5 });
      assert.deepEqual(await marked(), ["dense"]);
      await preview.send({ type: "cursor", uri: notebook.uri, line: 9, cell: 6 });
      assert.deepEqual(await marked(), [], "line 9 of another cell");
      await preview.send({ type: "cursor", uri: notebook.uri, line: 6 });
      assert.deepEqual(await marked(), [], "a line with no cell is no cell's line");

      await page.click('.nv-canvas g.layer[id="max_pooling2d"]');
      assert.deepEqual((await preview.recorded()).posted.at(-1), { type: "reveal", uri: notebook.uri, line: 7, cell: 5 });
      assert.match(await page.textContent(".nv-details") ?? "", /MaxPooling2D.*max_pooling2d.*\(None, 13, 13, 32\).*Linecell 6, line 7/s);

      // The banner names each error's cell and line, and reveals it there.
      const where = await page.$$eval(".nv-banner .nv-error-line", (els) => els.map((e) => e.textContent));
      assert.deepEqual(where, ["cell 9, line 1", "cell 10, line 2"]);  // numbered from 1, as VS Code counts cells
      await page.click(".nv-banner .nv-error-line >> nth=1");
      assert.deepEqual((await preview.recorded()).posted.at(-1), { type: "reveal", uri: notebook.uri, line: 2, cell: 9 });
      await page.screenshot({ path: join(ARTIFACTS, "preview-notebook-dark.png") });

      await page.selectOption(".nv-factory", "residual_mlp");
      await page.hover(".nv-toolbar");
      assert.match(await page.textContent(".nv-details") ?? "", /Factory linecell 7, line 1/);
      await page.click('.nv-canvas g.layer[id="dense_3"]');
      assert.deepEqual((await preview.recorded()).posted.at(-1), { type: "reveal", uri: notebook.uri, line: 6, cell: 6 });
      assert.deepEqual((await preview.recorded()).errors, []);
    } finally {
      await preview.close();
    }
  });
});

describe("editor links", () => {
  test("clicking a layer posts a reveal of the line that created it", async () => {
    const preview = await openWith("dark", documentMessage(seed, new DiagramStore(), "sconstruct_model"));
    const { page } = preview;
    try {
      const layer = graphOf(seed, "sconstruct_model").layers.find((l) => l.id === "batch_normalization_2")!;
      assert.equal(layer.line, 46);
      await page.click('.nv-canvas g.layer[id="batch_normalization_2"]');
      assert.deepEqual((await preview.recorded()).posted.at(-1), { type: "reveal", uri: seed.uri, line: 46, cell: null });
      assert.match(await page.textContent(".nv-details") ?? "", /BatchNormalization.*batch_normalization_2.*\(None, 58, 58, 16\)/s);
    } finally {
      await preview.close();
    }
  });

  test("a drag that starts on a layer pans and reveals nothing", async () => {
    const preview = await openWith("dark", documentMessage(seed));
    const { page } = preview;
    try {
      const node = (await (await page.$('.nv-canvas g.layer[id="conv2d"]'))!.boundingBox())!;
      await page.mouse.move(node.x + 10, node.y + 10);
      await page.mouse.down();
      await page.mouse.move(node.x + 80, node.y + 60, { steps: 6 });
      await page.mouse.up();
      assert.equal((await preview.recorded()).posted.filter((m) => m.type === "reveal").length, 0);
    } finally {
      await preview.close();
    }
  });

  test("the editor's cursor line highlights the layers created there, a loop's line all of them", async () => {
    const preview = await openWith("dark", documentMessage(seed, new DiagramStore(), "cconstruct_model"));
    const { page } = preview;
    const marked = () => page.$$eval(".nv-canvas g.nv-cursor", (els) => els.map((e) => e.id));
    try {
      await preview.send({ type: "cursor", uri: seed.uri, line: 66 });
      assert.deepEqual((await marked()).sort(), ["conv2d", "conv2d_1", "conv2d_2", "conv2d_3"]);
      await preview.send({ type: "cursor", uri: seed.uri, line: 69 });
      assert.deepEqual(await marked(), ["dense"]);
      await preview.send({ type: "cursor", uri: "file:///workspace/other.py", line: 70 });
      assert.deepEqual(await marked(), ["dense"], "another file's cursor is ignored");
      await preview.send({ type: "cursor", uri: seed.uri, line: 1 });
      assert.deepEqual(await marked(), []);
    } finally {
      await preview.close();
    }
  });

  test("hovering a layer shows its details: shape, params, activation, dtype, trainable, line", async () => {
    const preview = await openWith("dark", documentMessage(seed));
    const { page } = preview;
    try {
      assert.match(await page.textContent(".nv-details") ?? "", /Model.*construct_model.*63,021,004/s);
      await page.hover('.nv-canvas g.layer[id="conv2d"]');
      const facts = await page.$$eval(".nv-details dd", (els) => els.map((e) => e.textContent));
      assert.deepEqual(facts, ["(None, 126, 126, 64)", "640", "relu", "float32", "yes", "20"]);
    } finally {
      await preview.close();
    }
  });

  test("search highlights matching layers and dims the rest", async () => {
    const preview = await openWith("dark", documentMessage(resnet));
    const { page } = preview;
    try {
      await page.fill(".nv-search", "_ADD");
      const matches = await page.$$eval(".nv-canvas g.nv-match", (els) => els.map((e) => e.id));
      const adds = graphOf(resnet, "resnet50").layers.filter((l) => l.class_name === "Add").map((l) => l.id);
      assert.equal(adds.length, 16, "ResNet50 has 16 residual Add layers");
      assert.deepEqual(matches.sort(), adds.sort(), "case-insensitive match on names");
      const dimmed = await page.$eval('.nv-canvas g.layer[id="conv1_conv"]', (el) => getComputedStyle(el).opacity);
      assert.equal(dimmed, "0.3");
      assert.equal(await page.textContent(".nv-search-count"), "16 layers");
      const before = await preview.transform();
      await page.press(".nv-search", "Enter");
      await page.press(".nv-search", "Enter");
      assert.notEqual(await preview.transform(), before, "Enter brings the next match into view");
      await page.screenshot({ path: join(ARTIFACTS, "preview-search-dark.png") });
      await page.fill(".nv-search", "no such layer");
      assert.equal(await page.getAttribute(".nv-search-count", "data-none"), "true");
    } finally {
      await preview.close();
    }
  });
});

describe("layout", () => {
  test("a narrow panel gives the diagram the width and floats a layer's details over it", async () => {
    const preview = await openWith("dark", documentMessage(seed), { width: 560, height: 700 });
    const { page } = preview;
    try {
      assert.equal(await page.isVisible(".nv-details"), false, "no model summary taking space");
      await page.hover('.nv-canvas g.layer[id="dense"]');
      assert.equal(await page.isVisible(".nv-details"), true);
      assert.equal(await page.$eval(".nv-details", (el) => getComputedStyle(el).position), "absolute");
      assert.match(await page.textContent(".nv-details") ?? "", /\(None, 256\)/);
      await page.screenshot({ path: join(ARTIFACTS, "preview-narrow-dark.png") });
    } finally {
      await preview.close();
    }
  });
});

describe("build state", () => {
  test("building, then a failure keeps the last good diagram, marked stale, with the error", async () => {
    const store = new DiagramStore();
    const preview = await openWith("light", documentMessage(seed, store));
    const { page } = preview;
    try {
      await preview.send({ type: "status", uri: seed.uri, status: { state: "building", message: "Building construct_model()…" } });
      assert.equal(await page.getAttribute(".nv-build", "data-state"), "building");
      assert.match(await page.textContent(".nv-build") ?? "", /Building…/);

      const failed = store.applyDiagram({
        ...seed, version: 3, models: seed.models.slice(1),
        errors: [{ kind: "build", factory: "construct_model", line: 25, message: "ValueError: Input 0 of layer \"dense\" is incompatible" }],
      })!;
      await preview.send({ type: "diagram", uri: seed.uri, diagram: failed });
      await preview.send({ type: "status", uri: seed.uri, status: { state: "failed", message: "construct_model failed" } });
      assert.equal(await page.$$eval(".nv-canvas g.layer", (els) => els.length), 8, "the last good diagram stays");
      assert.ok(await page.$eval("body", (b) => b.classList.contains("nv-stale")));
      assert.match(await page.textContent(".nv-banner") ?? "", /last good build.*line 25.*construct_model · build.*incompatible/s);
      assert.match(await page.textContent(".nv-build") ?? "", /Build failed · out of date/);
      await page.screenshot({ path: join(ARTIFACTS, "preview-stale-light.png") });

      await page.click(".nv-error-line");
      assert.deepEqual((await preview.recorded()).posted.at(-1), { type: "reveal", uri: seed.uri, line: 25, cell: null });
    } finally {
      await preview.close();
    }
  });

  test("restricted mode and a stopped server are said in the panel", async () => {
    const preview = await openWith("dark", { ...(documentMessage(seed) as Extract<ToPreview, { type: "document" }>), notice: { kind: "untrusted" } });
    const { page } = preview;
    try {
      assert.match(await page.textContent(".nv-empty") ?? "", /Restricted Mode.*Trust this workspace/);
      assert.equal(await page.$$eval(".nv-canvas g.layer", (els) => els.length), 0, "no diagram while untrusted");
      await preview.send({ type: "notice", notice: { kind: "server", message: "NetViz can't start: keras missing" } });
      assert.match(await page.textContent(".nv-empty") ?? "", /not running\. NetViz can't start: keras missing/);
      await preview.send({ type: "notice", notice: null });
      assert.equal(await page.$$eval(".nv-canvas g.layer", (els) => els.length), 8);
    } finally {
      await preview.close();
    }
  });
});

describe("user text is never markup", () => {
  test("hostile layer names and error messages from the real server stay text; nothing runs", async () => {
    const preview = await openWith("dark", documentMessage(hostile));
    const { page } = preview;
    try {
      const graph = graphOf(hostile, "hostile_names");
      const names = graph.layers.map((l) => l.name);
      assert.ok(names.includes("<img src=x onerror=alert(1)>"));
      // Every node is there, under its exact id, and shows its name as text.
      assert.deepEqual(await page.$$eval(".nv-canvas g.layer", (els) => els.map((e) => e.id)), graph.layers.map((l) => l.id));
      const text = await page.textContent(".nv-canvas") ?? "";
      for (const name of ["<img src=x onerror=alert(1)>", "<script>alert('input')<\\script>", "\"' onmouseover=alert(5) x=\""]) {
        assert.ok(text.includes(name), `drawn as text: ${name}`);
      }
      for (const layer of graph.layers) {
        await page.hover(`.nv-canvas g.layer[id="${layer.id.replace(/["\\]/g, "\\$&")}"]`);
        assert.equal(await page.textContent(".nv-details-name"), layer.name);
      }
      assert.match(await page.textContent(".nv-banner") ?? "", /ValueError: <img src=x onerror=alert\('error'\)> <script>alert\('error'\)<\/script>/);
      assert.equal(await page.getAttribute(".nv-build", "data-state"), "problems", "another factory's failure is a problem, not staleness");
      assert.equal(await page.$eval("body", (b) => b.classList.contains("nv-stale")), false);
      const dom = await page.evaluate(() => ({
        img: document.querySelectorAll("img").length,
        script: document.querySelectorAll("script").length,
        foreign: document.querySelectorAll("foreignObject").length,
        handlers: Array.from(document.querySelectorAll("*")).filter((el) => Array.from(el.attributes).some((a) => a.name.startsWith("on"))).length,
      }));
      assert.deepEqual(dom, { img: 0, script: 1, foreign: 0, handlers: 0 }, "only the page's own script element");
      const recorded = await preview.recorded();
      assert.deepEqual([recorded.alerts, recorded.violations, recorded.errors], [[], [], []]);
      await page.screenshot({ path: join(ARTIFACTS, "preview-hostile-dark.png") });
    } finally {
      await preview.close();
    }
  });

  test("an SVG carrying script is defused before it reaches the page", async () => {
    const model = hostile.models[0];
    const poisoned = model.svg!.replace("</svg>", [
      "<script>alert('script element')</script>",
      '<g onload="alert(\'onload\')" onmouseover="alert(\'over\')"><rect width="5" height="5"/></g>',
      '<a href=" javascript:alert(\'href\')"><text>link</text></a>',
      '<a xlink:href="javascript:alert(\'xlink\')"><text>xlink</text></a>',
      '<foreignObject width="50" height="50"><img xmlns="http://www.w3.org/1999/xhtml" src="x" onerror="alert(\'fo\')"/></foreignObject>',
      '<set attributeName="onmouseover" to="alert(\'set\')"/>',
      '<image href="data:image/svg+xml,&lt;svg onload=alert(1)&gt;" width="5" height="5"/>',
      "</svg>",
    ].join(""));
    const preview = await openWith("dark", documentMessage({ ...hostile, models: [{ ...model, svg: poisoned }] }));
    const { page } = preview;
    try {
      const found = await page.$eval(".nv-canvas svg", (svg) => ({
        elements: Array.from(svg.querySelectorAll("script, foreignObject, set, image, img")).map((e) => e.localName),
        handlers: Array.from(svg.querySelectorAll("*")).flatMap((e) => Array.from(e.attributes).filter((a) => a.name.startsWith("on")).map((a) => a.name)),
        links: Array.from(svg.querySelectorAll("a")).map((a) => a.getAttribute("href") ?? a.getAttributeNS("http://www.w3.org/1999/xlink", "href")).filter(Boolean),
        text: svg.textContent,
      }));
      assert.deepEqual([found.elements, found.handlers, found.links], [[], [], []]);
      assert.match(found.text ?? "", /link.*xlink/s, "the harmless content around them stays");
      for (const el of await page.$$(".nv-canvas g, .nv-canvas a")) await el.hover({ force: true }).catch(() => undefined);
      const recorded = await preview.recorded();
      assert.deepEqual([recorded.alerts, recorded.errors], [[], []]);
    } finally {
      await preview.close();
    }
  });
});

describe("themes", () => {
  const size = { width: 1000, height: 1050 };

  for (const theme of ["light", "dark", "high-contrast"] as const) {
    test(`${theme}: the diagram takes the theme's colours, not Graphviz's`, async () => {
      const preview = await openWith(theme, documentMessage(seed, new DiagramStore(), "sconstruct_model"), size);
      const { page } = preview;
      try {
        const colors = await page.evaluate(() => {
          const node = document.querySelector('.nv-canvas g.layer[id="conv2d"]')!;
          const fill = node.querySelector('path[stroke="transparent"]')!;
          const border = node.querySelector('path[fill="none"]')!;
          const name = node.querySelector("text")!;
          return {
            background: getComputedStyle(document.body).backgroundColor,
            fill: getComputedStyle(fill).fill,
            border: getComputedStyle(border).stroke,
            text: getComputedStyle(name).fill,
            page: getComputedStyle(document.querySelector(".nv-canvas svg > g.graph > polygon")!).fill,
          };
        });
        const expected = {
          light: { background: "rgb(255, 255, 255)", text: "rgb(59, 59, 59)", border: "rgb(26, 133, 255)" },
          dark: { background: "rgb(31, 31, 31)", text: "rgb(204, 204, 204)", border: "rgb(55, 148, 255)" },
          "high-contrast": { background: "rgb(0, 0, 0)", text: "rgb(255, 255, 255)", border: "rgb(55, 148, 255)" },
        }[theme];
        assert.equal(colors.background, expected.background);
        assert.equal(colors.text, expected.text, "layer names in the editor's foreground");
        assert.equal(colors.border, expected.border, "conv layers take charts.blue");
        assert.notEqual(colors.fill, "rgb(228, 238, 252)", "Graphviz's light fill is overridden");
        assert.equal(colors.page, "rgba(0, 0, 0, 0)", "Graphviz's white page is gone");
        await page.screenshot({ path: join(ARTIFACTS, `preview-sconstruct_model-${theme}.png`) });
      } finally {
        await preview.close();
      }
    });
  }

  for (const theme of ["light", "dark"] as const) {
    test(`${theme}: ResNet50 renders`, async () => {
      const preview = await openWith(theme, documentMessage(resnet), { width: 1200, height: 900 });
      const { page } = preview;
      try {
        assert.equal(await page.$$eval(".nv-canvas g.layer", (els) => els.length), graphOf(resnet, "resnet50").layers.length);
        await page.screenshot({ path: join(ARTIFACTS, `preview-resnet50-${theme}.png`) });
        await page.click(".nv-fit");
        await page.screenshot({ path: join(ARTIFACTS, `preview-resnet50-fit-${theme}.png`) });
      } finally {
        await preview.close();
      }
    });
  }
});

describe("other views", () => {
  type RenderViewRequest = Extract<FromPreview, { type: "renderView" }>;

  /** The page's last `renderView` request. */
  async function lastRequest(preview: PreviewPage): Promise<RenderViewRequest> {
    const request = (await preview.recorded()).posted.filter((m) => m.type === "renderView").at(-1);
    assert.ok(request, "the page asked for a drawing");
    return request as RenderViewRequest;
  }

  /** Answer a request as the extension does with the server's result. */
  function answer(request: RenderViewRequest, result: RenderedView): ToPreview {
    return { type: "view", uri: request.uri, id: request.id, result, error: null };
  }

  test("Layered asks the extension to draw it, shows the answer, and its layers reveal their lines", async () => {
    const preview = await openWith("dark", documentMessage(seed), { width: 1200, height: 700 });
    const { page } = preview;
    try {
      const labels = await page.$$eval(".nv-view option", (els) => els.map((e) => e.textContent));
      assert.deepEqual(labels, ["Graph", "plot_model", "Layered", "Neuron", "Summary"]);
      await page.selectOption(".nv-view", "layered");
      const request = await lastRequest(preview);
      assert.deepEqual({ ...request, id: 0 }, {
        type: "renderView", uri: seed.uri, id: 0, factory: "construct_model", view: "layered", expandNested: false,
      });
      assert.match(await page.textContent(".nv-empty") ?? "", /Drawing the Layered view of construct_model\(\)…/);

      await preview.send(answer(request, drawn.layered));
      assert.equal(await page.isVisible(".nv-empty"), false);
      assert.equal(await page.$$eval(".nv-canvas svg.nv-view-svg", (els) => els.length), 1, "drawn in its own colours");
      assert.ok(await page.$('.nv-canvas g.layer[id="conv2d"]'));
      const fit = await page.$eval(".nv-canvas svg", (svg) => {
        const r = svg.getBoundingClientRect();
        const v = document.querySelector(".nv-viewport")!.getBoundingClientRect();
        return r.left >= v.left && r.right <= v.right + 1 && r.top >= v.top && r.bottom <= v.bottom + 1;
      });
      assert.ok(fit, "a view's first showing fits it whole");
      assert.match(await page.textContent(".nv-details") ?? "", new RegExp(`MACs${formatMacs(drawn.layered.totalMacs)}`));
      await page.screenshot({ path: join(ARTIFACTS, "preview-layered-dark.png") });

      await page.click('.nv-canvas g.layer[id="conv2d"]');
      assert.deepEqual((await preview.recorded()).posted.at(-1), { type: "reveal", uri: seed.uri, line: 20, cell: null });

      // Back to the graph: the diagram `netviz/diagram` carried, with no request.
      const asked = (await preview.recorded()).posted.length;
      await page.selectOption(".nv-view", "graph");
      assert.equal(await page.$$eval(".nv-canvas svg.nv-svg", (els) => els.length), 1);
      assert.equal((await preview.recorded()).posted.slice(asked).filter((m) => m.type === "renderView").length, 0);
    } finally {
      await preview.close();
    }
  });

  test("a new build asks again; an answer to an older request is dropped", async () => {
    const store = new DiagramStore();
    const preview = await openWith("dark", documentMessage(seed, store));
    const { page } = preview;
    try {
      await page.selectOption(".nv-view", "layered");
      const first = await lastRequest(preview);
      await preview.send(answer(first, drawn.layered));
      await page.mouse.move(500, 400);
      await page.mouse.wheel(0, -300);
      const zoomed = await preview.transform();

      const diagram = store.applyDiagram({ ...seed, version: 2 })!;
      await preview.send({ type: "diagram", uri: seed.uri, diagram });
      const second = await lastRequest(preview);
      assert.notEqual(second.id, first.id, "the new build is drawn again");
      assert.equal(await page.$$eval('.nv-canvas g.layer[id="conv2d"]', (els) => els.length), 1, "the last drawing stays meanwhile");

      const old = { ...drawn.layered, content: drawn.layered.content.replace('id="conv2d"', 'id="conv2d" data-old="1"') };
      await preview.send(answer(first, old));
      assert.equal(await page.$("[data-old]"), null, "an answer to an older request is ignored");
      const fresh = { ...drawn.layered, content: drawn.layered.content.replace('id="conv2d"', 'id="conv2d" data-fresh="1"') };
      await preview.send(answer(second, fresh));
      assert.ok(await page.$("[data-fresh]"), "the latest answer is shown");
      assert.equal(await preview.transform(), zoomed, "zoom and pan survive the update");
    } finally {
      await preview.close();
    }
  });

  test("the summary is a table in the theme's colours; a row reveals its layer's line", async () => {
    const preview = await openWith("dark", documentMessage(seed), { width: 1100, height: 560 });
    const { page } = preview;
    try {
      await page.selectOption(".nv-view", "summary");
      await preview.send(answer(await lastRequest(preview), drawn.summary));
      assert.equal(await page.isVisible(".nv-viewport"), false, "the table replaces the canvas");
      assert.match(await page.textContent(".nv-table") ?? "", /conv2d.*Conv2D.*9,144,576/s);
      assert.equal(await page.$$eval('.nv-table [style], .nv-table style', (els) => els.length), 0, "the page's inline styles are dropped");
      await page.click('.nv-table tr[data-layer-id="conv2d"]');
      assert.deepEqual((await preview.recorded()).posted.at(-1), { type: "reveal", uri: seed.uri, line: 20, cell: null });
      assert.ok(await page.$eval('.nv-table tr[data-layer-id="conv2d"]', (el) => el.classList.contains("nv-selected")));
      await page.mouse.move(5, 300);
      await page.screenshot({ path: join(ARTIFACTS, "preview-summary-dark.png") });
      const recorded = await preview.recorded();
      assert.deepEqual([recorded.violations, recorded.errors], [[], []]);
    } finally {
      await preview.close();
    }
  });

  test("a summary with markup in it stays text: names escaped stay text, raw markup is dropped", async () => {
    const preview = await openWith("dark", documentMessage(seed));
    const { page } = preview;
    try {
      await page.selectOption(".nv-view", "summary");
      const hostileName = "<img src=x onerror=alert(1)>";
      const escaped = hostileName.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
      const content = drawn.summary.content
        .replace("<code>conv2d</code>", `<code>${escaped}</code>`)
        .replace("<code>dense</code>", `<code onclick="alert(2)" style="color:red">${hostileName}</code>`)
        .replace("</table>", '</table><script>alert(3)</script><a href="javascript:alert(4)">link</a>'
          + '<svg><image href="x" onerror="alert(5)"/></svg><iframe src="javascript:alert(6)"></iframe>');
      await preview.send(answer(await lastRequest(preview), { ...drawn.summary, content }));
      const cell = await page.textContent('.nv-table tr[data-layer-id="conv2d"] code');
      assert.equal(cell, hostileName, "an escaped layer name is shown as its text");
      const dom = await page.evaluate(() => ({
        img: document.querySelectorAll("img, image, iframe, svg image, a").length,
        script: document.querySelectorAll("script").length,
        handlers: Array.from(document.querySelectorAll("*")).filter((el) => Array.from(el.attributes).some((a) => a.name.startsWith("on"))).length,
        styled: document.querySelectorAll(".nv-table [style]").length,
      }));
      assert.deepEqual(dom, { img: 0, script: 1, handlers: 0, styled: 0 }, "only allowed elements and attributes");
      for (const el of await page.$$(".nv-table td")) await el.hover({ force: true }).catch(() => undefined);
      const recorded = await preview.recorded();
      assert.deepEqual([recorded.alerts, recorded.errors], [[], []]);
      // Parsing the markup makes the CSP report the inline handlers and styles it saw (the
      // template that parses it shares the page's CSP); none of them got further.
      assert.deepEqual(recorded.violations.filter((v) => !/^(script|style)-src-attr inline$/.test(v)), []);
    } finally {
      await preview.close();
    }
  });

  test("Expand nested is on offer only for a model with a nested model, and asks for the expanded graph", async () => {
    const preview = await openWith("dark", documentMessage(seed));
    const { page } = preview;
    try {
      assert.equal(await page.isDisabled(".nv-nested"), true, "seed_cnns has no nested model");
      await preview.send(documentMessage(nested, new DiagramStore(), "siamese"));
      assert.ok(graphOf(nested, "siamese").layers.some((l) => l.is_model));
      assert.equal(await page.isDisabled(".nv-nested"), false);
      await page.click(".nv-nested");
      assert.equal(await page.getAttribute(".nv-nested", "aria-pressed"), "true");
      const request = await lastRequest(preview);
      assert.deepEqual({ ...request, id: 0 }, {
        type: "renderView", uri: nested.uri, id: 0, factory: "siamese", view: "graph", expandNested: true,
      });
      await preview.send({ type: "view", uri: nested.uri, id: request.id, result: null, error: "Graphviz failed" });
      assert.match(await page.textContent(".nv-empty") ?? "", /could not draw the Graph view of siamese\(\): Graphviz failed/);
    } finally {
      await preview.close();
    }
  });
});
