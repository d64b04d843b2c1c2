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
import { join } from "node:path";
import { importEdges, importsOf, partOf, upwardEdges } from "../support/layers.ts";

const REPO = join(import.meta.dirname, "..", "..");

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
