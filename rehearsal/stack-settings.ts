// `npm run rehearse -- --config KEY=VALUE`: the rehearsal's `pulumi config set`. Values are kept in the instance's
// state dir (stack-config.json, like Pulumi.<stack>.yaml) and apply to every later run of that instance until set
// again; `--config KEY=` removes one. Keys without the project prefix, values as `pulumi config set` takes them
// (text; objects/lists as JSON). Only non-secret keys: a secret on a command line ends up in shell history.
import { join } from "node:path";
import { readJson, writeJson } from "./state.ts";

/**
 * Keys the rehearsal sets itself (rehearsal.ts stackConfig): they wire the stack to the droplet VM and the local
 * services, so a value of the user's would break the rehearsal rather than rehearse something.
 */
export const REHEARSAL_OWNED_KEYS = ["domain", "sshPublicKey", "sshPort", "acmeServer", "acmeCaBundle", "registryServer",
  "createDocr", "baseImage", "env", "adminCidrs"] as const;

const file = (stateDir: string) => join(stateDir, "stack-config.json");

export class SettingError extends Error {}

/** Parses `KEY=VALUE` pairs (an empty VALUE unsets KEY); throws SettingError naming the bad one. */
export function parseSettings(pairs: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const p of pairs) {
    const m = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(p);
    if (!m) throw new SettingError(`--config ${JSON.stringify(p)}: expected KEY=VALUE with a stack config key of Pulumi.yaml (e.g. --config dropletSize=s-2vcpu-4gb)`);
    const [, key, value] = m as unknown as [string, string, string];
    if ((REHEARSAL_OWNED_KEYS as readonly string[]).includes(key)) {
      throw new SettingError(`--config ${key}: the rehearsal sets ${key} itself to reach its droplet VM and local services; the keys it owns: ${REHEARSAL_OWNED_KEYS.join(", ")}`);
    }
    out[key] = value === "" ? undefined : value;
  }
  return out;
}

/** The instance's kept settings with `changes` applied (and saved): what this run's stack config adds. */
export function applySettings(stateDir: string, changes: Record<string, string | undefined>): Record<string, string> {
  const kept = { ...(readJson<Record<string, string>>(file(stateDir)) ?? {}) };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete kept[k]; else kept[k] = v;
  }
  writeJson(file(stateDir), kept);
  return kept;
}
