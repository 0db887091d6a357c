/**
 * The preview page's HTML. It is set once per panel; everything after arrives by
 * `postMessage` (as in VS Code's Markdown preview), so zoom, pan and selection survive
 * updates. Pure (no `vscode` import), so the browser tests load the very same page.
 *
 * CSP: scripts only with this page's nonce, styles and images only from the extension
 * (`cspSource`), nothing inline, no eval. The SVG is inserted by script after
 * sanitising, and styled by the extension's stylesheet.
 */

export interface PageResources {
  /** `webview.cspSource`: the origin the extension's files are served from. */
  cspSource: string;
  /** A fresh random nonce per page. */
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function previewHtml(r: PageResources): string {
  const csp = [
    "default-src 'none'",
    `img-src ${r.cspSource} data:`,
    `style-src ${r.cspSource}`,
    `font-src ${r.cspSource}`,
    `script-src 'nonce-${r.nonce}'`,
  ].join("; ");
  // Chrome ids are prefixed `nv-`: layer ids from the SVG land in the same document.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${attr(r.styleUri)}">
<title>NetViz Preview</title>
</head>
<body>
${previewBody()}
<script nonce="${attr(r.nonce)}" src="${attr(r.scriptUri)}"></script>
</body>
</html>`;
}

/**
 * The page's body without its script: the toolbar, banner, canvas and details pane. The
 * standalone HTML export (`webview/standalone.ts`) builds the same body from it.
 */
export function previewBody(): string {
  return `<header class="nv-toolbar" role="toolbar" aria-label="Diagram">
  <select class="nv-factory" aria-label="Factory" title="Factory"></select>
  <span class="nv-title"></span>
  <select class="nv-view" aria-label="View" title="How to draw the model"></select>
  <button class="nv-nested" type="button" aria-pressed="false" title="Draw nested models as boxes of their own layers">Expand nested</button>
  <span class="nv-summary"></span>
  <span class="nv-delta" hidden title="Parameters added (+) or removed (−) by the last build"></span>
  <span class="nv-build" role="status" aria-live="polite"></span>
  <span class="nv-spacer"></span>
  <span class="nv-search-box">
    <input class="nv-search" type="search" placeholder="Search layers" aria-label="Search layers" spellcheck="false">
    <span class="nv-search-count" aria-live="polite"></span>
  </span>
  <span class="nv-zoom-group">
    <button class="nv-zoom-out" type="button" title="Zoom out (-)" aria-label="Zoom out">&#x2212;</button>
    <span class="nv-zoom-level" title="Zoom">100%</span>
    <button class="nv-zoom-in" type="button" title="Zoom in (+)" aria-label="Zoom in">+</button>
  </span>
  <select class="nv-overlay" aria-label="Colour nodes by" title="Colour nodes by"></select>
  <button class="nv-edge-shapes" type="button" aria-pressed="false" title="Show tensor shapes on the edges">Shapes</button>
  <button class="nv-fit" type="button" title="Fit the whole diagram (F)">Fit</button>
  <button class="nv-fit-width" type="button" title="Fit the diagram's width (W)">Fit width</button>
  <button class="nv-actual" type="button" title="Actual size (0)">100%</button>
  <button class="nv-details-toggle" type="button" title="Show or hide layer details" aria-pressed="true">Details</button>
</header>
<section class="nv-banner" hidden>
  <div class="nv-banner-title"></div>
  <ul class="nv-errors"></ul>
</section>
<main class="nv-main">
  <div class="nv-viewport" tabindex="0" aria-label="Diagram: wheel to zoom, drag to pan, click a layer to reveal its line">
    <div class="nv-canvas"></div>
    <div class="nv-empty"></div>
    <div class="nv-legend" hidden></div>
    <div class="nv-minimap" hidden aria-hidden="true"><div class="nv-minimap-frame"></div></div>
  </div>
  <div class="nv-table" tabindex="0" aria-label="Summary: click a layer to reveal its line" hidden></div>
  <aside class="nv-details" aria-label="Layer details"></aside>
</main>`;
}

/** A random nonce: 32 characters from [A-Za-z0-9]. */
export function makeNonce(random: (n: number) => Uint8Array): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(random(32), (b) => chars[b % chars.length]).join("");
}

function attr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
