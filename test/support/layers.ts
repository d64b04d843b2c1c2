// The layers of the tree (README "Layout") and a reader of the repository's import graph, for test/layout.
//   contract ← server ← gateway  contract ← nginx ← infra ← smoke, examples/stack
//   rehearsal, test, bench: may import every part (they exercise the product; the product never imports them)
import { dirname, join, normalize } from "node:path";

/** The parts each part may import (besides itself). */
export const MAY_IMPORT: Record<string, readonly string[]> = {
  contract: [],
  server: ["contract"],
  gateway: ["contract", "server"],
  nginx: ["contract"],
  infra: ["contract", "nginx"],
  smoke: ["contract", "nginx", "infra"],
  examples: ["contract", "nginx", "infra"],
  rehearsal: ["*"],
  test: ["*"],
  bench: ["*"],
};

/** The part a repository path belongs to: its top-level directory. */
export function partOf(path: string): string {
  return path.split("/")[0]!;
}

/** Every import specifier in a module's text: static imports/exports, `import "x"`, and literal dynamic imports. */
export function importsOf(text: string): string[] {
  const re = /(?:^|[\s;{}])(?:import|export)\s[^"'`;]*?\sfrom\s*["']([^"']+)["']|import\s*\(\s*["'`]([^"'`$]+)[`"']|^\s*import\s+["']([^"']+)["']/gm;
  return [...text.matchAll(re)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

export interface Edge { from: string; to: string }

/** The repository's relative import edges, as repo-relative paths (query strings dropped). */
export function importEdges(files: readonly string[], read: (f: string) => string): Edge[] {
  const edges: Edge[] = [];
  for (const from of files) {
    for (const spec of importsOf(read(from))) {
      if (!spec.startsWith(".")) continue;
      edges.push({ from, to: normalize(join(dirname(from), spec.replace(/\?.*$/, ""))) });
    }
  }
  return edges;
}

/** The edges that break the layering, each with the reason. */
export function upwardEdges(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const [a, b] = [partOf(from), partOf(to)];
    const allowed = MAY_IMPORT[a];
    if (to.startsWith("..")) out.push(`${from} → ${to}: outside the repository`);
    else if (!allowed) out.push(`${from} → ${to}: ${a}/ is not a known part (add it to MAY_IMPORT and the README's layout)`);
    else if (a !== b && !allowed.includes("*") && !allowed.includes(b)) {
      out.push(`${from} → ${to}: ${a}/ may import ${allowed.length ? allowed.map((p) => `${p}/`).join(", ") : "nothing of the project"}, not ${b}/`);
    }
    if (from.startsWith("infra/render/") && to.startsWith("infra/components/")) {
      out.push(`${from} → ${to}: a pure renderer imports a Pulumi component`);
    }
  }
  return out;
}
