// The one error a component throws for bad arguments, before it registers anything: each issue names the component
// and the argument's path (e.g. `SelfHostedMcp domain`, `McpHost adminCidrs[0]`) with what a valid value looks like.
// The example stack validates its config with the same field rules first and reports stack keys instead
// (examples/stack/config-error.ts).
import type * as z from "zod";

export class InvalidArgsError extends Error {
  readonly issues: { path: string; message: string }[];
  constructor(component: string, issues: { path: string; message: string }[]) {
    super(issues.map((i) => `${component} ${i.path}: ${i.message}`).join("; "));
    this.name = "InvalidArgsError";
    this.issues = issues;
  }
}

/** Parses `args` with `schema`, or throws InvalidArgsError naming each bad argument. */
export function parseArgs<S extends z.ZodType>(component: string, schema: S, args: unknown): z.output<S> {
  const parsed = schema.safeParse(args);
  if (parsed.success) return parsed.data;
  throw new InvalidArgsError(component, parsed.error.issues.map((i) => ({
    path: i.path.map((p, n) => (typeof p === "number" ? `[${p}]` : `${n ? "." : ""}${String(p)}`)).join("") || "(args)",
    message: i.message,
  })));
}
