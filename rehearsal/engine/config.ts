// Stack config delivered to the program exactly as the Pulumi CLI delivers it (pulumi/pulumi at 1b5949891b):
//  - pkg/workspace/config.go mergeConfig: every Pulumi.yaml `config:` key the stack does not set gets its
//    `default`/`value` via createConfigValue — string/int/bool as fmt "%v" text ("256", "false"), anything else as
//    a JSON *object value* (json.Marshal: keys sorted, <>& escaped) — never secret. A key with neither default nor
//    stack value is an error ("is missing configuration value(s) 'a' and 'b'"). Typed keys are then validated on
//    the merged config, defaults included (so a `secret: true` key cannot have a default).
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

/**
 * A leaf as an untyped `config set --path` stores it (sdk/go/common/resource/config/object.go coerce, :566-591):
 * "true"/"false" → boolean; more than one character starting with "0" → the string (leading zeros kept); else
 * what strconv.ParseInt (optional sign) accepts → number; else the string. A `--secret` leaf stays a string
 * (value.go coerceObject returns secure values as they are). Integers beyond 2^53 are not modelled (kept as text).
 */
export function pathLeaf(text: string, secret = false): string | number | boolean {
  if (secret) return text;
  if (text === "true" || text === "false") return text === "true";
  if (text.length > 1 && text[0] === "0") return text;
  return /^[-+]?\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : text;
}

const qualify = (project: string, key: string) => (key.includes(":") ? key : `${project}:${key}`);

/** sdk/go/common/workspace/project.go ValidateConfigValue (:771-830). */
function validType(t: ProjectConfigType, v: unknown): boolean {
  if (t.type === "string") return typeof v === "string";
  // int, a whole float (YAML), or text strconv.Atoi accepts
  if (t.type === "integer") return Number.isInteger(v) || (typeof v === "string" && /^[-+]?\d+$/.test(v));
  if (t.type === "boolean") return typeof v === "boolean" || v === "true" || v === "false";
  if (t.type === "object") return v !== null && typeof v === "object" && !Array.isArray(v);
  return Array.isArray(v) && !!t.items && v.every((x) => validType(t.items!, x));
}

/** InferFullTypeName (project.go): "array<string>" for arrays. */
const typeName = (t: ProjectConfigType) => (t.type === "array" ? `array<${t.items?.type}>` : String(t.type));

/** formatMissingKeys + missingStackConfigurationKeysError (pkg/workspace/config.go:30-64). */
function missingError(stack: string, keys: string[]): ConfigError {
  const k = [...keys].sort().map((x) => `'${x}'`);
  const list = k.length === 1 ? k[0] : `${k.slice(0, -2).map((x) => `${x}, `).join("")}${k.at(-2)} and ${k.at(-1)}`;
  return new ConfigError(`Stack '${stack}' is missing configuration ${k.length === 1 ? "value" : "values"} ${list}`);
}

/**
 * The environment the CLI gives a Node.js program for this project directory and stack config, or the error
 * `pulumi up` stops with (pkg/workspace/config.go mergeConfig :255-365 with validate=true, as
 * ValidateStackConfigAndApplyProjectConfig calls it): (1) every project key the stack lacks gets its default
 * (else `value`) via createConfigValue; a project-namespace key with neither is missing; (2) missing keys → one
 * error; (3) validateStackConfigValues: for each *explicitly typed* key, sorted, on the merged config (defaults
 * included) — a `secret: true` key must be secure, the value must match the type.
 */
export function cliConfig(projectDir: string, stack: string, stackConfig: StackConfig): CliConfig {
  const doc = parseYaml(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as { name: string; config?: Record<string, ProjectConfigType | unknown> };
  const project = doc.name;
  const entries = new Map<string, StackEntry>();
  for (const [k, v] of Object.entries(stackConfig)) entries.set(qualify(project, k), typeof v === "string" ? { value: v } : v);
  const missing: string[] = [];
  const types = Object.entries(doc.config ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([rawKey, rawType]) => {
    // A bare value in Pulumi.yaml `config:` is shorthand for { value } (workspace/project.go).
    const t: ProjectConfigType = rawType && typeof rawType === "object" && !Array.isArray(rawType) ? rawType as ProjectConfigType : { value: rawType };
    return { rawKey, key: qualify(project, rawKey), t };
  });
  for (const { rawKey, key, t } of types) {
    if (entries.has(key)) continue;
    const d = t.default !== undefined ? t.default : t.value;
    if (d === undefined || d === null) { if (key.startsWith(`${project}:`)) missing.push(rawKey); continue; }
    // createConfigValue (:179-194): string/int/bool → fmt "%v" text; anything else → a JSON object value.
    const primitive = typeof d === "string" || typeof d === "boolean" || (typeof d === "number" && Number.isInteger(d));
    entries.set(key, { value: primitive ? String(d) : d }); // the object value is goJson(d) below
  }
  if (missing.length) throw missingError(stack, missing);
  for (const { rawKey, key, t } of types) {
    const e = entries.get(key);
    if (!t.type || !e) continue; // IsExplicitlyTyped (project.go:294)
    if (t.secret && !e.secret) throw new ConfigError(`Stack '${stack}' with configuration key '${rawKey}' must be encrypted as it's secret`);
    if (!validType(t, e.value)) throw new ConfigError(`Stack '${stack}' with configuration key '${rawKey}' must be of type '${typeName(t)}'`);
  }
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
