// README's "Layout" section matches the tree: every top-level directory of the repository is listed there (with
// the parts of examples/ one level down), and every directory listed exists. The parts it lists are the ones
// test/layout/import-graph.test.ts layers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MAY_IMPORT } from "../support/layers.ts";

const REPO = join(import.meta.dirname, "..", "..");

/** Directories named at the start of a line of the README's Layout code block ("infra/", "examples/stack/"). */
export function layoutDirs(readme: string): string[] {
  const section = readme.split(/^## Layout\s*$/m)[1] ?? "";
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block.split("\n").map((l) => /^(\.?[a-z][a-z0-9./-]*\/)\s/.exec(l)?.[1]).filter((d): d is string => d !== undefined)
    .map((d) => d.replace(/\/$/, ""));
}

test("README's layout lists exactly the repository's directories", () => {
  const listed = layoutDirs(readFileSync(join(REPO, "README.md"), "utf8"));
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: REPO, encoding: "utf8" }).split("\n").filter(Boolean);
  const dirs = new Set(files.filter((f) => f.includes("/")).map((f) => (f.startsWith("examples/") ? f.split("/").slice(0, 2) : [f.split("/")[0]!]).join("/")));
  assert.deepEqual([...listed].sort(), [...dirs].sort());
});

test("every layered part is in the layout, and every code directory of the layout is a layered part", () => {
  const listed = new Set(layoutDirs(readFileSync(join(REPO, "README.md"), "utf8")).map((d) => d.split("/")[0]!));
  assert.deepEqual(Object.keys(MAY_IMPORT).filter((p) => !listed.has(p)), []);
  assert.deepEqual([...listed].filter((d) => !(d in MAY_IMPORT) && !["docs", ".ci"].includes(d)), []);
});

test("every test file is under test/ (npm test runs test/**/*.test.ts; one elsewhere would never run)", () => {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.test.ts"], { cwd: REPO, encoding: "utf8" }).split("\n").filter(Boolean);
  assert.ok(files.length > 50, `${files.length} test files`);
  assert.deepEqual(files.filter((f) => !f.startsWith("test/")), []);
});
