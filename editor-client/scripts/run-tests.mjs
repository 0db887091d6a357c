// Runs the bundled tests (out/test, from scripts/build.mjs) with node:test, one group at
// a time, cheapest first: unit, then the preview page in Chromium, then real VS Code.
//   node scripts/run-tests.mjs [unit|browser|e2e ...]
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const groups = process.argv.slice(2).length ? process.argv.slice(2) : ["unit", "browser", "e2e"];

for (const group of groups) {
  const dir = join(root, "out", "test", group);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".test.js")).map((f) => join(dir, f)) : [];
  if (files.length === 0) {
    console.error(`no ${group} tests in ${dir}: run npm run build first`);
    process.exit(1);
  }
  // One run per group, and no second try: a test that fails only sometimes has a bug to find.
  const status = run(group, files);
  if (status !== 0) process.exit(status);
}

function run(group, files) {
  console.log(`\n# ${group} tests`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ["--enable-source-maps", "--test", "--test-reporter=spec", "--test-concurrency=1", ...files], {
    stdio: "inherit",
    cwd: root,
  });
  console.log(`# ${group} tests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result.status ?? 1;
}
