// The one error for bad arguments or options, thrown by every component and renderer before it registers or renders
// anything: the run contract, the nginx renderer, the Pulumi components and their renderers. Each issue names the
// argument's path from the root of what was checked (`acme.caBundle`, `servers[1].limits.perIp.rate`) and a message
// that says what a valid value looks like (the fix). It lives in contract/ because every layer that validates may
// import contract/ (test/support/layers.ts). The example stack translates these into stack keys and the
// `pulumi config set` command that fixes them (examples/stack/config-error.ts, StackConfigError).
import * as z from "zod";

/** One bad argument: `path` as written in code (`adminCidrs[0]`), `keys` its segments, `message` the fix. */
export interface ArgIssue {
  path: string;
  keys: readonly PropertyKey[];
  message: string;
}

export class InvalidArgsError extends Error {
  /** What was checked: a component (`McpHost`), a renderer (`nginx site`) or the run contract (`RunSpec`). */
  readonly component: string;
  readonly issues: readonly ArgIssue[];
  constructor(component: string, issues: readonly ArgIssue[]) {
    super(issues.map((i) => `${component} ${i.path}: ${i.message}`).join("\n"));
    this.name = "InvalidArgsError";
    this.component = component;
    this.issues = issues;
  }
}

/** `["servers", 1, "path"]` → `servers[1].path`; the root is `(args)`. */
function argPath(keys: readonly PropertyKey[]): string {
  return keys.map((p, n) => (typeof p === "number" ? `[${p}]` : `${n ? "." : ""}${String(p)}`)).join("") || "(args)";
}

/** An issue for `keys` (a path into the arguments) with its fix. */
export function argIssue(keys: readonly PropertyKey[], message: string): ArgIssue {
  return { path: argPath(keys), keys, message };
}

export interface ParseArgsOptions {
  /** Append the offending value (`(got "0r/s")`) for scalars. Only for arguments that can never hold a secret. */
  echo?: boolean;
}

/**
 * Parses `input` with `schema`, or throws InvalidArgsError naming each bad argument (an unknown key is named by its
 * own path). Values are never echoed unless `options.echo`.
 */
export function parseArgs<S extends z.ZodType>(component: string, schema: S, input: unknown, options: ParseArgsOptions = {}): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidArgsError(component, parsed.error.issues.flatMap((i): ArgIssue[] => {
    if (i.code === "unrecognized_keys") return i.keys.map((k) => argIssue([...i.path, k], "is not a known argument: remove it (or check its spelling)"));
    return [argIssue(i.path, `${i.message}${options.echo ? received(input, i.path) : ""}`)];
  }));
}

function received(input: unknown, path: readonly PropertyKey[]): string {
  let v: unknown = input;
  for (const p of path) v = v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v === undefined || typeof v === "object" ? "" : ` (got ${JSON.stringify(v)})`;
}
