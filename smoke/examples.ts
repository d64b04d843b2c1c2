// Reads a tool's smoke example from its `_meta` (as listed by tools/list on the deployed server) and validates it,
// so a typo in a declaration is reported as such instead of as a confusing tool failure.
import * as z from "zod";
import { SMOKE_META_KEY, type SmokeExample } from "../contract/smoke-example.ts";

const path = z.string().regex(/^[A-Za-z0-9_$-]*(\[\])?(\.[A-Za-z0-9_$-]+(\[\])?)*$/, 'a path like "days[].temperature_max_c"');

const exampleSchema: z.ZodType<SmokeExample> = z.object({
  arguments: z.record(z.string(), z.unknown()).optional(),
  minItems: z.record(path, z.number().int().min(0)).optional(),
  fields: z.array(z.object({ field: path, minPopulated: z.number().min(0).max(1).optional() }).strict()).optional(),
  skip: z.string().min(1).optional(),
}).strict();

export type ExampleLookup =
  | { kind: "declared"; example: SmokeExample }
  | { kind: "none" }
  | { kind: "invalid"; error: string };

export function smokeExampleOf(meta: Record<string, unknown> | undefined): ExampleLookup {
  const raw = meta?.[SMOKE_META_KEY];
  if (raw === undefined) return { kind: "none" };
  const parsed = exampleSchema.safeParse(raw);
  if (parsed.success) return { kind: "declared", example: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
  return { kind: "invalid", error: `_meta["${SMOKE_META_KEY}"] is invalid: ${issues}` };
}

export { SMOKE_META_KEY };
