// Derives the server-only package.json for the image from the root one: the packages server/src imports (at the
// root's exact versions) as dependencies, and what `tsc` and the bundler need as devDependencies. The image then
// never carries the Pulumi/infra dependencies of the package. Runs in the image's first build stage:
//   node server/image-manifest.ts <root> <out-dir> [lock...]   (writes out-dir/package.json and package-lock.json;
//                                                              the lock is the first of `lock...` found in <root>)
// and when the package is packed (`prepack`):
//   node server/image-manifest.ts --ship-lock <root>           (writes <root>/server/image-lock.json)
// npm never publishes a package's root package-lock.json (npm-packlist leaves it out even when "files" names it), so
// the installed package carries the same lock as server/image-lock.json, and the Dockerfile takes whichever exists:
// package-lock.json in a checkout, image-lock.json in node_modules/selfhosted-mcp.
import { readFileSync, readdirSync, writeFileSync, copyFileSync, mkdirSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { builtinModules } from "node:module";

interface Manifest { name: string; version: string; type?: string; dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>; engines?: Record<string, string> }

export interface ServerImports { runtime: Set<string>; typeOnly: Set<string> }

/** Package name of a bare import specifier ("@scope/pkg/sub.js" → "@scope/pkg"), or null for relative/builtin. */
export function packageOf(specifier: string): string | null {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) return null;
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
  return builtinModules.includes(name) ? null : name;
}

const IMPORT = /(?:^|[\s;])(import|export)(\s+type)?\s[^"';]*?\sfrom\s+["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s+["']([^"']+)["']/gm;

/** Packages imported by the .ts sources under dir (tests excluded); type-only imports are kept apart. */
export function scanImports(dir: string): ServerImports {
  const out: ServerImports = { runtime: new Set(), typeOnly: new Set() };
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const pkg = packageOf(m[3] ?? m[4] ?? m[5]!);
      if (pkg) (m[2] ? out.typeOnly : out.runtime).add(pkg);
    }
  }
  for (const p of out.runtime) out.typeOnly.delete(p);
  return out;
}

const pick = (names: Iterable<string>, from: Record<string, string>) =>
  Object.fromEntries([...names].sort().map((n) => [n, from[n]!]));

/** The server-only manifest; throws naming the import when server/src uses a package the root does not declare. */
export function serverManifest(root: Manifest, imports: ServerImports): Manifest {
  const deps = root.dependencies ?? {};
  const dev = { ...deps, ...root.devDependencies };
  const missing = [...imports.runtime].filter((p) => !deps[p])
    .concat([...imports.typeOnly].filter((p) => !dev[p]));
  if (missing.length > 0) {
    throw new Error(`server/src imports ${missing.join(", ")} but the root package.json does not declare it: ` +
      `add it with \`npm install --save-exact <pkg>@<version>\` (runtime imports belong in "dependencies")`);
  }
  const build = new Set(["typescript", "esbuild", "@types/node", ...imports.typeOnly]);
  for (const p of imports.runtime) if (dev[`@types/${p}`]) build.add(`@types/${p}`);
  return {
    name: `${root.name}-server`, version: root.version, type: "module",
    ...(root.engines ? { engines: root.engines } : {}),
    dependencies: pick(imports.runtime, deps),
    devDependencies: pick([...build].filter((p) => dev[p]), dev),
  };
}

/** Where the packed package carries the root lock (relative to the package root); see the header. */
export const SHIPPED_LOCK = "server/image-lock.json";

/** The first of `candidates` (paths relative to `root`) that exists; throws naming them all and the fix. */
export function findLock(root: string, candidates: string[]): string {
  const found = candidates.map((c) => join(root, c)).find((p) => existsSync(p));
  if (!found) {
    throw new Error(`image-manifest: no lockfile: none of ${candidates.join(", ")} in ${root}. In a checkout run \`npm install\` ` +
      `(package-lock.json); an installed package carries ${SHIPPED_LOCK} (written at \`npm pack\` by --ship-lock): reinstall it`);
  }
  return found;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (args[0] === "--ship-lock") {
    const root = args[1] ?? ".";
    copyFileSync(join(root, "package-lock.json"), join(root, SHIPPED_LOCK));
    process.stdout.write(`image-manifest: ${SHIPPED_LOCK} from package-lock.json\n`);
  } else {
    const [repo, outDir, ...locks] = args;
    if (!repo || !outDir) throw new Error("usage: node server/image-manifest.ts <root> <out-dir> [lock...] | --ship-lock <root>");
    const root = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as Manifest;
    const manifest = serverManifest(root, scanImports(join(repo, "server", "src")));
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    // The root lock pins every version; `npm install` against it keeps those pins and drops what is unused.
    copyFileSync(findLock(repo, locks.length ? locks : ["package-lock.json"]), join(outDir, "package-lock.json"));
    process.stdout.write(`image-manifest: ${relative(process.cwd(), outDir) || "."}/package.json: ` +
      `${Object.keys(manifest.dependencies!).join(" ")}\n`);
  }
}
