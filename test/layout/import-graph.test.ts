// The layers of the tree (README "Layout"), proved on the real import graph: every relative import of every
// TypeScript file in the repository is resolved and checked against the parts it may import. A failure names the
// edge (file → imported file) and what its part may import.
//   contract ← server            contract ← nginx ← infra ← smoke, examples/stack
//   rehearsal, test, bench: may import every part (they exercise the product; the product never imports them)
// Inside infra, the pure renderers (infra/render) import no Pulumi wiring: no components, no @pulumi/* package.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

const REPO = join(import.meta.dirname, "..", "..");

/** The parts each part may import (besides itself). */
export const MAY_IMPORT: Record<string, readonly string[]> = {
  contract: [],
  server: ["contract"],
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

const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.ts"], { cwd: REPO, encoding: "utf8" })
  .split("\n").filter((f) => f && !f.startsWith("node_modules/"));
const read = (f: string) => readFileSync(join(REPO, f), "utf8");
const edges = importEdges(files, read);

test("no module imports a part above its own (contract ← server; contract ← nginx ← infra ← smoke, examples)", () => {
  assert.ok(edges.length > 200, `the scan found the graph (${edges.length} edges)`);
  assert.deepEqual(upwardEdges(edges), []);
});

test("contract/ imports nothing of the project, and no package but zod", () => {
  const contract = files.filter((f) => partOf(f) === "contract");
  assert.ok(contract.length >= 5, contract.join(", "));
  for (const f of contract) {
    for (const spec of importsOf(read(f))) {
      const ok = spec.startsWith("./") || spec.startsWith("node:") || spec === "zod";
      assert.ok(ok, `${f} imports ${spec}: contract/ imports only itself, node: builtins and zod`);
    }
  }
});

test("pure renderers (infra/render) import no @pulumi package", () => {
  for (const f of files.filter((x) => x.startsWith("infra/render/"))) {
    const pulumi = importsOf(read(f)).filter((s) => s.startsWith("@pulumi/"));
    assert.deepEqual(pulumi, [], `${f} imports ${pulumi.join(", ")}`);
  }
});

test("the checker itself: it names an upward edge, an unknown part and a renderer importing a component", () => {
  const text = `import { x } from "../examples/stack/config.ts";\nexport * from "../nginx/index.ts";\nconst m = await import("./y.ts?v=1");\nimport "./side.ts";`;
  assert.deepEqual(importsOf(text), ["../examples/stack/config.ts", "../nginx/index.ts", "./y.ts?v=1", "./side.ts"]);
  const found = upwardEdges(importEdges(["infra/host.ts", "nginx/a.ts", "contract/a.ts", "gizmo/a.ts", "infra/render/a.ts"], (f) => ({
    "infra/host.ts": text, "nginx/a.ts": `import { b } from "../infra/b.ts";`, "contract/a.ts": `import { b } from "../server/src/b.ts";`,
    "gizmo/a.ts": `import "../contract/a.ts";`, "infra/render/a.ts": `import { H } from "../components/host.ts";`,
  })[f]!));
  assert.deepEqual(found, [
    "infra/host.ts → examples/stack/config.ts: infra/ may import contract/, nginx/, not examples/",
    "nginx/a.ts → infra/b.ts: nginx/ may import contract/, not infra/",
    "contract/a.ts → server/src/b.ts: contract/ may import nothing of the project, not server/",
    "gizmo/a.ts → contract/a.ts: gizmo/ is not a known part (add it to MAY_IMPORT and the README's layout)",
    "infra/render/a.ts → infra/components/host.ts: a pure renderer imports a Pulumi component",
  ]);
});
