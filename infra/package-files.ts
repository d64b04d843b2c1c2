// Files this package reads at run time (remote bash scripts, smoke-run.sh, the smoke CLI's source, package.json),
// found from the package root. The package runs from its sources (type stripping: this module is
// <root>/infra/package-files.ts) or from the `npm run build` output (<root>/dist/infra/package-files.js); tsc
// copies no non-TypeScript file into dist/, so these are always read from the sources the package ships
// (package.json "files": infra, server, nginx).
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The package root is the first of these that holds package.json: one level up (sources), two (dist/). */
const ROOT_CANDIDATES = [new URL("../", import.meta.url), new URL("../../", import.meta.url)];

let root: URL | undefined;
function packageRoot(): URL {
  root ??= ROOT_CANDIDATES.find((r) => existsSync(new URL("package.json", r)));
  if (!root) throw new Error(`selfhosted-mcp: package.json not found in ${ROOT_CANDIDATES.map((r) => fileURLToPath(r)).join(" or ")}`);
  return root;
}

/** Absolute path of a package file, given relative to the package root (e.g. "infra/render/scripts/lib.sh"). */
export function packagePath(rel: string): string {
  const url = new URL(rel, packageRoot());
  const path = fileURLToPath(url);
  if (!existsSync(url)) throw new Error(`selfhosted-mcp: ${rel} not found at ${path} (the package ships it from its sources)`);
  return path;
}

/** The text of a package file, given relative to the package root. */
export function readPackageFile(rel: string): string {
  return readFileSync(packagePath(rel), "utf8");
}

/** This package's version (its package.json "version"). */
export function packageVersion(): string {
  return String(JSON.parse(readPackageFile("package.json")).version ?? "0.0.0");
}
