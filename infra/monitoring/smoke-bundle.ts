// Bundles the smoke CLI (smoke/cli.ts + the MCP SDK client, zod, prom-client) into one ES module with
// esbuild, so a host can run it with nothing but `node` (the smoke timer runs it inside a container image).
// Deterministic: the same sources give the same bytes, so a deploy re-installs it only when it changed.
import { buildSync } from "esbuild";
import { packagePath } from "../package-files.ts";

// CommonJS dependencies call require(); give the ES module bundle a real one.
const BANNER = 'import { createRequire as __smokeCreateRequire } from "node:module"; const require = __smokeCreateRequire(import.meta.url);';

/** Bundles the package's smoke/cli.ts source (also when this module runs from the dist/ build). */
export function bundleSmokeCli(): string {
  const result = buildSync({
    entryPoints: [packagePath("smoke/cli.ts")], bundle: true, platform: "node", format: "esm", target: "node24",
    minify: true, write: false, banner: { js: BANNER }, legalComments: "none", logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}
