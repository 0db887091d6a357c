// Bundles the extension (Node, CommonJS), the preview page's script (browser) and the
// tests (Node) with esbuild. `--production` minifies and drops source maps (the .vsix).
import { build } from "esbuild";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const production = process.argv.includes("--production");
const root = new URL("..", import.meta.url).pathname;

function testEntries(dir) {
  const out = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) out.push(...testEntries(rel));
    else if (name.endsWith(".test.ts")) out.push(rel);
  }
  return out;
}

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: "warning", absWorkingDir: root };

rmSync(join(root, "dist"), { recursive: true, force: true });
if (!production) rmSync(join(root, "out"), { recursive: true, force: true });
await Promise.all([
  build({
    ...common,
    entryPoints: ["src/extension.ts"],
    outfile: "dist/extension.js",
    platform: "node",
    format: "cjs",
    target: "node18",
    external: ["vscode"],
  }),
  build({
    ...common,
    entryPoints: ["src/webview/main.ts"],
    outfile: "dist/preview.js",
    platform: "browser",
    format: "iife",
    target: "chrome114",
  }),
  // The same page script for the HTML export (render/html_export.py inlines it): it finds its
  // data in the page instead of VS Code (webview/standalone.ts). No source map: the file is inlined.
  build({
    ...common,
    sourcemap: false,
    entryPoints: ["src/webview/main.ts"],
    outfile: "dist/standalone.js",
    platform: "browser",
    format: "iife",
    target: "chrome114",
  }),
  production
    ? Promise.resolve()
    : build({
        ...common,
        entryPoints: testEntries("test"),
        outdir: "out/test",
        outbase: "test",
        platform: "node",
        format: "cjs",
        target: "node20",
        external: ["playwright-core", "vscode"],
      }),
]);
