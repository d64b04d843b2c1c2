// Pulumi.yaml declares exactly the keys the program reads, each with a description, with the same defaults as the
// zod schema, and runs examples/stack/program.ts as an ES module with Node's own type stripping.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { parse } from "yaml";
import * as z from "zod";
import { StackSettingsSchema, SECRET_KEYS } from "../../examples/stack/config.ts";
import { MonitoringSettingsSchema } from "../../examples/stack/monitoring-config.ts";

const root = new URL("../../", import.meta.url);
const project = parse(readFileSync(new URL("Pulumi.yaml", root), "utf8"));
const declared: Record<string, { type?: string; default?: unknown; description?: string; items?: { type: string } }> = project.config;
// The program reads the stack's keys (examples/stack/config.ts) and the monitoring stack's (examples/stack/monitoring-config.ts).
const shape = { ...StackSettingsSchema.shape, ...MonitoringSettingsSchema.shape } as Record<string, z.ZodType>;

test("runtime: nodejs, ESM TypeScript without ts-node, main = examples/stack/program.ts", () => {
  assert.equal(project.name, "selfhosted-mcp");
  assert.equal(project.runtime.name, "nodejs");
  assert.equal(project.runtime.options.typescript, false);
  assert.equal(project.main, "examples/stack/program.ts");
  assert.ok(existsSync(new URL(project.main, root)));
  assert.equal(JSON.parse(readFileSync(new URL("package.json", root), "utf8")).type, "module");
});

test("every key the program reads is declared with a description, and nothing else", () => {
  assert.deepEqual(Object.keys(declared).sort(), [...Object.keys(shape), ...SECRET_KEYS].sort());
  for (const [k, d] of Object.entries(declared)) assert.ok(d.description && d.description.length > 10, `${k} has a description`);
});

test("types and defaults agree with the zod schema; keys without a default are exactly the required ones", () => {
  for (const [key, schema] of Object.entries(shape)) {
    const d = declared[key]!;
    const parsed = schema.safeParse(undefined);
    if (!parsed.success) {
      assert.equal("default" in d, false, `${key} is required: no default`);
      continue;
    }
    // Project config has no fractional type (string, integer, boolean, array): a fraction is declared as its text.
    const fraction = typeof parsed.data === "number" && !Number.isInteger(parsed.data);
    const expected = parsed.data === undefined ? "" : fraction ? String(parsed.data) : parsed.data;
    assert.deepEqual(d.default, expected, `${key} default`);
    if (typeof expected === "number") assert.equal(d.type, "integer", key);
    if (typeof expected === "boolean") assert.equal(d.type, "boolean", key);
    if (typeof expected === "string") assert.equal(d.type, "string", key);
  }
  assert.deepEqual(declared.adminCidrs, { ...declared.adminCidrs, type: "array", items: { type: "string" } });
  for (const k of SECRET_KEYS) {
    assert.ok("default" in declared[k]!, `${k} is optional`);
    assert.match(declared[k]!.description!, /^Secret/, `${k} says it is a secret`);
  }
});
