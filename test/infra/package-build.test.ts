// The built package (`npm run build`: tsc -p tsconfig.build.json) finds the files it reads at run time. tsc copies
// no .sh or .json into dist/, so the build output must read them from the sources the package ships. The package is
// laid out as npm installs it — the build in <root>/dist, the package.json "files" beside it — in a temp root, and
// the dist modules run there (from another working directory) in a separate node process.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { run } from "../support/proc.ts";

const REPO = join(import.meta.dirname, "..", "..");
const SCRIPTS = join(REPO, "infra", "render", "scripts");
const root = mkdtempSync(join(tmpdir(), "package-build-"));
after(() => rmSync(root, { recursive: true, force: true }));

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string; files: string[]; scripts: Record<string, string> };

// Runs in the built package: every remote script (named after the dist URL in argv) renders, the smoke timer embeds
// smoke-run.sh, the smoke CLI bundles from its source, and the version comes from package.json.
const PROBE = `
const [dist, ...scripts] = process.argv.slice(1);
const { renderScript } = await import(dist + "/infra/render/index.js");
const { renderSmokeTimer, bundleSmokeCli } = await import(dist + "/infra/monitoring/index.js");
const { packageVersion } = await import(dist + "/infra/package-files.js");
const rendered = Object.fromEntries(scripts.map((name) => [name, renderScript(name, {})]));
const timer = renderSmokeTimer({ app: "mcp", url: "https://mcp.example.test", withToken: true });
console.log(JSON.stringify({ rendered, install: timer.install, bundle: bundleSmokeCli(), version: packageVersion() }));
`;

test("npm run build: the dist/ modules find the remote scripts, smoke-run.sh, the smoke CLI source and package.json", { timeout: 5 * 60_000 }, async () => {
  const [tsc, ...args] = pkg.scripts.build!.split(" ");
  assert.equal(tsc, "tsc", "the build script is tsc");
  const built = await run(process.execPath, [join(REPO, "node_modules", "typescript", "bin", "tsc"), ...args, "--outDir", join(root, "dist")],
    { cwd: REPO, timeoutMs: 4 * 60_000 });
  assert.equal(built.code, 0, built.stdout + built.stderr);
  assert.ok(existsSync(join(root, "dist", "infra", "index.js")));
  assert.ok(!existsSync(join(root, "dist", "infra", "render", "scripts")), "tsc copies no scripts: the sources are read");

  // The package as installed: package.json, the build, and the "files" it ships (plus its dependencies).
  copyFileSync(join(REPO, "package.json"), join(root, "package.json"));
  assert.ok(pkg.files.includes("dist"));
  for (const entry of [...pkg.files.filter((f) => f !== "dist"), "node_modules"]) symlinkSync(join(REPO, entry), join(root, entry));

  const scripts = readdirSync(SCRIPTS).filter((f) => f.endsWith(".sh") && f !== "lib.sh").map((f) => f.slice(0, -3));
  const probed = await run(process.execPath, ["--input-type=module", "-e", PROBE, pathToFileURL(join(root, "dist")).href, ...scripts],
    { cwd: tmpdir(), timeoutMs: 2 * 60_000 });
  assert.equal(probed.code, 0, probed.stdout + probed.stderr);
  const out = JSON.parse(probed.stdout) as { rendered: Record<string, string>; install: string; bundle: string; version: string };
  const script = (name: string) => readFileSync(join(SCRIPTS, `${name}.sh`), "utf8")
    .replace(/^# shellcheck shell=bash\n/m, "").trimEnd();
  assert.deepEqual(Object.keys(out.rendered), scripts);
  for (const [name, text] of Object.entries(out.rendered)) {
    assert.ok(text.includes(`# --- helpers ---\n${script("lib")}\n# --- script ---\n${script(name)}\n`), `${name}: lib.sh, then ${name}.sh`);
  }
  const runSmoke = /^readonly RUN_SMOKE_B64=(\S+)$/m.exec(out.install)![1]!;
  assert.equal(Buffer.from(runSmoke, "base64").toString(), readFileSync(join(REPO, "infra", "monitoring", "smoke-run.sh"), "utf8"));
  assert.match(out.bundle, /selfhosted-mcp smoke/);
  assert.ok(out.bundle.length > 100_000, `bundle of ${out.bundle.length} bytes`);
  assert.equal(out.version, pkg.version);
});
