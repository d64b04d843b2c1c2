// Stack config delivered to the program exactly as the Pulumi CLI delivers it (pulumi/pulumi at 1b5949891b):
//  - pkg/workspace/config.go mergeConfig: every Pulumi.yaml `config:` key the stack does not set gets its
//    `default`/`value` via createConfigValue — string/int/bool as fmt "%v" text ("256", "false"), anything else as
//    a JSON *object value* (json.Marshal: keys sorted, <>& escaped) — never secret. A key with neither default nor
//    stack value is an error ("missing configuration values").
//  - validateStackConfigValue: a typed key's stack value must match the type; "Top level entries are always
//    treated as strings" (pkg/cmd/pulumi/config/config.go `config set` help), so an array/object key can only be
//    set with `--path` (or it fails "must be of type 'array<string>'"); integers/booleans may be numeric/"true"
//    text. `secret: true` keys must be set with --secret.
//  - `config set --path`: "true"/"false" → booleans, integers → numbers, else strings; the top-level value becomes
//    an object value, secure when any leaf was set with --secret (config/object.go MarshalString).
//  - sdk/nodejs/cmd/pulumi-language-nodejs/main.go constructConfig: PULUMI_CONFIG = JSON {"<ns>:config:<name>":
//    text}; PULUMI_CONFIG_SECRET_KEYS = JSON ["<ns>:<name>", …] of the secure keys (config/map.go SecureKeys).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";

/**
 * One stack config entry as `pulumi config set` stores it: `value` is the text of a top-level `config set`
 * (always a string), or the tree `config set --path` builds (objects/arrays with string/number/boolean leaves).
 * `secret`: set with --secret (for a tree: any leaf was).
 */
export interface StackEntry { value: unknown; secret?: boolean }
/** Stack config by key ("key" = the project's namespace, or "ns:key"). A plain string is a non-secret top-level set. */
export type StackConfig = Record<string, StackEntry | string>;

interface ProjectConfigType { type?: string; items?: { type: string }; default?: unknown; value?: unknown; secret?: boolean }
export interface CliConfig { PULUMI_CONFIG: string; PULUMI_CONFIG_SECRET_KEYS: string }

export class ConfigError extends Error {}

/** Go's json.Marshal: object keys sorted, "<", ">", "&" escaped (encoding/json HTML-safe default). */
export function goJson(v: unknown): string {
  const sort = (x: unknown): unknown => Array.isArray(x) ? x.map(sort)
    : x && typeof x === "object" ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])])) : x;
  return JSON.stringify(sort(v)).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

/** A leaf as `config set --path` types it: "true"/"false" → boolean, an integer → number, else the string. */
export function pathLeaf(text: string): string | number | boolean {
  if (text === "true" || text === "false") return text === "true";
  return /^-?\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : text;
}

const qualify = (project: string, key: string) => (key.includes(":") ? key : `${project}:${key}`);

function validType(t: ProjectConfigType, v: unknown): boolean {
  // workspace/project.go ValidateConfigValue
  if (t.type === "string") return typeof v === "string";
  if (t.type === "integer") return Number.isInteger(v) || (typeof v === "string" && /^[-+]?\d+$/.test(v));
  if (t.type === "boolean") return typeof v === "boolean" || v === "true" || v === "false";
  if (t.type === "object") return v !== null && typeof v === "object" && !Array.isArray(v);
  if (t.type === "array") return Array.isArray(v) && !!t.items && v.every((x) => validType(t.items!, x));
  return true;
}

const typeName = (t: ProjectConfigType) => (t.type === "array" ? `array<${t.items?.type}>` : String(t.type));

/** The environment the CLI gives a Node.js program for this project directory and stack config. */
export function cliConfig(projectDir: string, stack: string, stackConfig: StackConfig): CliConfig {
  const doc = parseYaml(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as { name: string; config?: Record<string, ProjectConfigType | unknown> };
  const project = doc.name;
  const entries = new Map<string, StackEntry>();
  for (const [k, v] of Object.entries(stackConfig)) entries.set(qualify(project, k), typeof v === "string" ? { value: v } : v);
  const missing: string[] = [];
  for (const [rawKey, rawType] of Object.entries(doc.config ?? {})) {
    // A bare value in Pulumi.yaml `config:` is shorthand for { value } (workspace/project.go).
    const t: ProjectConfigType = rawType && typeof rawType === "object" && !Array.isArray(rawType) ? rawType as ProjectConfigType : { value: rawType };
    const key = qualify(project, rawKey);
    const e = entries.get(key);
    if (!e) {
      const d = t.default !== undefined ? t.default : t.value;
      if (d === undefined) { if (key.startsWith(`${project}:`)) missing.push(rawKey); continue; }
      const primitive = typeof d === "string" || typeof d === "boolean" || (typeof d === "number" && Number.isInteger(d));
      entries.set(key, { value: primitive ? String(d) : JSON.parse(goJson(d)) });
      continue;
    }
    if (t.secret && !e.secret) throw new ConfigError(`Stack '${stack}' with configuration key '${rawKey}' must be encrypted as it's secret`);
    if (t.type && !validType(t, e.value)) {
      throw new ConfigError(`Stack '${stack}' with configuration key '${rawKey}' must be of type '${typeName(t)}'` +
        (t.type === "array" || t.type === "object" ? ` (set it with \`pulumi config set --path '${rawKey}[0]' …\`: a top-level value is always a string)` : ""));
    }
  }
  if (missing.length) throw new ConfigError(`Stack '${stack}' is missing configuration values: ${missing.sort().join(", ")}`);
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, e] of entries) {
    const i = key.indexOf(":");
    config[`${key.slice(0, i)}:config:${key.slice(i + 1)}`] = typeof e.value === "string" ? e.value : goJson(e.value);
    if (e.secret) secretKeys.push(key);
  }
  return { PULUMI_CONFIG: JSON.stringify(config), PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys) };
}

/** Every secret value in the stack config as text (for redaction). */
export function secretTexts(stackConfig: StackConfig): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => { if (typeof v === "string") out.push(v); else if (v && typeof v === "object") Object.values(v).forEach(walk); };
  for (const v of Object.values(stackConfig)) if (typeof v !== "string" && v.secret) walk(v.value);
  return out;
}
