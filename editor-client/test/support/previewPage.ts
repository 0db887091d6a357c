/**
 * The preview page in a real headless Chromium, as VS Code would host it: the very HTML
 * the extension sets (`previewHtml`, with its CSP and nonce), the built script and
 * stylesheet served from one origin (standing in for `webview.cspSource`), the theme's
 * CSS variables and body class, and a stub `acquireVsCodeApi` that records what the
 * page posts. Messages go in through `window.postMessage`, as VS Code delivers them.
 */

import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import { after, before } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import type { FromPreview, ToPreview } from "../../src/core/protocol";
import { makeNonce, previewHtml } from "../../src/preview/html";
import { CLIENT_ROOT } from "./fixtures";
import { THEMES, type ThemeName } from "./themes";

export const CHROMIUM = process.env.NETVIZ_CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** One Chromium and one page server for a test file: started before its tests (with the
 * screenshot folder `artifacts` made), closed after them. */
export function chromiumSession(artifacts: string): { readonly browser: Browser; readonly server: PageServer } {
  const server = new PageServer();
  let browser: Browser | undefined;
  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    await server.start();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server.stop();
  });
  return {
    server,
    get browser(): Browser {
      if (!browser) throw new Error("Chromium is not started: use the session inside a test");
      return browser;
    },
  };
}

const TYPES: Record<string, string> = { ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".map": "application/json" };

/** Serves the page and the extension's dist/ and media/ folders on 127.0.0.1. */
export class PageServer {
  private server: Server | undefined;
  origin = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? "/", this.origin);
        if (url.pathname === "/preview.html") {
          const nonce = makeNonce((n) => randomBytes(n));
          res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
          res.end(previewHtml({
            cspSource: this.origin, nonce,
            scriptUri: `${this.origin}/dist/preview.js`, styleUri: `${this.origin}/media/preview.css`,
          }));
          return;
        }
        const rel = normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, "");
        if (!/^(dist|media)\//.test(rel)) {
          res.writeHead(404).end();
          return;
        }
        try {
          const body = await readFile(join(CLIENT_ROOT, rel));
          res.writeHead(200, { "content-type": TYPES[extname(rel)] ?? "application/octet-stream" }).end(body);
        } catch {
          res.writeHead(404).end();
        }
      })();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** What the page recorded: messages posted to the "extension", alerts, CSP violations, errors. */
export interface Recorded {
  posted: FromPreview[];
  alerts: string[];
  violations: string[];
  errors: string[];
}

export class PreviewPage {
  private constructor(readonly page: Page) {}

  static async open(browser: Browser, server: PageServer, theme: ThemeName, size = { width: 1100, height: 760 }): Promise<PreviewPage> {
    const context = await browser.newContext({ viewport: size, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const { bodyClass, vars } = THEMES[theme];
    await page.addInitScript(({ bodyClass, vars }) => {
      const w = window as unknown as { __netviz: Recorded; acquireVsCodeApi: () => unknown };
      w.__netviz = { posted: [], alerts: [], violations: [], errors: [] };
      let state: unknown;
      w.acquireVsCodeApi = () => ({
        postMessage: (m: FromPreview) => w.__netviz.posted.push(JSON.parse(JSON.stringify(m))),
        getState: () => state,
        setState: (s: unknown) => (state = s),
      });
      // Anything that manages to run in the page would most likely call one of these.
      window.alert = (m?: unknown) => void w.__netviz.alerts.push(String(m));
      document.addEventListener("securitypolicyviolation", (e) => w.__netviz.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
      window.addEventListener("error", (e) => w.__netviz.errors.push(String(e.message)));
      // VS Code sets the theme's variables on <html> and its kind as a <body> class before the page runs.
      new MutationObserver((_, observer) => {
        const html = document.documentElement;
        if (html && !html.style.getPropertyValue("--vscode-editor-background")) {
          for (const [name, value] of Object.entries(vars)) html.style.setProperty(name, value);
        }
        if (document.body) {
          document.body.classList.add(bodyClass);
          observer.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    }, { bodyClass, vars });
    await page.goto(`${server.origin}/preview.html`);
    const preview = new PreviewPage(page);
    await page.waitForFunction(() => (window as unknown as { __netviz: Recorded }).__netviz.posted.some((m) => m.type === "ready"));
    return preview;
  }

  /** Deliver a message as the extension would. */
  async send(message: ToPreview): Promise<void> {
    await this.page.evaluate((m) => window.postMessage(m, "*"), message);
    // Messages are handled asynchronously; one frame later the DOM reflects it.
    await this.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(undefined))));
  }

  recorded(): Promise<Recorded> {
    return this.page.evaluate(() => (window as unknown as { __netviz: Recorded }).__netviz);
  }

  /** The canvas transform as the viewport applied it. */
  transform(): Promise<string> {
    return this.page.$eval(".nv-canvas", (el) => (el as HTMLElement).style.transform);
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }
}
