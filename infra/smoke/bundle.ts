// Bundles the smoke CLI (infra/smoke/cli.ts + the MCP SDK client, zod, prom-client) into one ES module with
// esbuild, so a host can run it with nothing but `node` (the smoke timer runs it inside a container image).
// Deterministic: the same sources give the same bytes, so a deploy re-installs it only when it changed.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

// CommonJS dependencies call require(); give the ES module bundle a real one.
const BANNER = 'import { createRequire as __smokeCreateRequire } from "node:module"; const require = __smokeCreateRequire(import.meta.url);';

/** cli.ts beside this module (sources), or in the package's infra/ sources when running from the dist/ build. */
const ENTRIES = [new URL("./cli.ts", import.meta.url), new URL("../../../infra/smoke/cli.ts", import.meta.url)];

export function bundleSmokeCli(): string {
  const entry = ENTRIES.find((u) => existsSync(u));
  if (!entry) throw new Error(`selfhosted-mcp: smoke CLI source not found at ${ENTRIES.map((u) => u.pathname).join(" or ")}`);
  const result = buildSync({
    entryPoints: [fileURLToPath(entry)], bundle: true, platform: "node", format: "esm", target: "node24",
    minify: true, write: false, banner: { js: BANNER }, legalComments: "none", logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}
