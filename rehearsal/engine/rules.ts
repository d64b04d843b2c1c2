// The step rules of the Pulumi engine and of the providers the program uses, in one place. Each rule names the
// source it was read from (pulumi/pulumi at 1b5949891b, pkg/resource/deploy/step_generator.go = SG, step.go = ST;
// pulumi-command v1.2.1 provider/pkg/provider/remote/*.go; pulumi-docker provider/provider.go at 237b7899;
// terraform-provider-digitalocean v2.99.1 digitalocean/**/resource_*.go). Pure: no I/O. docs/rehearsal.md lists them.
import { createHash } from "node:crypto";

/** The SDK's unknown-value sentinel (@pulumi/pulumi runtime/rpc.js `unknownValue`): a preview value not known yet. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const IMAGE = "docker:index/image:Image";
export const REMOTE_COMMAND = "command:remote:Command";
export const COPY_TO_REMOTE = "command:remote:CopyToRemote";
export const LOCAL_COMMAND = "command:local:Command";
export const DROPLET = "digitalocean:index/droplet:Droplet";

/** A resource registration as the engine receives it (RegisterResourceRequest, proto/resource.proto). */
export interface Registration {
  urn: string; type: string; name: string; parent: string; custom: boolean; provider: string;
  /** dependsOn as sent (components already expanded by the SDK) plus every property dependency. */
  dependsOn: string[];
  inputs: Record<string, unknown>;
  /** Dotted paths of inputs that were secret (never print their values). */
  secretPaths: string[];
  replaceOnChanges: string[];
  /** undefined: not set by the program (the provider decides; SG:2043 deleteBeforeReplaceDefined). */
  deleteBeforeReplace?: boolean;
  ignoreChanges: string[];
  retainOnDelete?: boolean;
  deletedWith: string;
  additionalSecretOutputs: string[];
  order: number;
}

/** What the engine's state holds for a resource after a step (old inputs, outputs, options for deletes). */
export interface PriorResource {
  urn: string; type: string; name: string; custom: boolean; id: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  dependsOn: string[]; parent: string;
  retainOnDelete?: boolean; deletedWith: string;
  order: number;
}

export type Op = "create" | "same" | "update" | "replace";
export interface Decision {
  op: Op;
  /** Inputs whose change forces the replacement (provider ForceNew or a replaceOnChanges path). */
  replaceKeys: string[];
  /** Detailed-diff paths that changed (after ignoreChanges). */
  changed: string[];
  deleteBeforeReplace: boolean;
}

// ------------------------------------------------------------------------------------------------ paths & diffs

/** Parses a property path ("a.b[0]", "triggers[*]", '["x.y"]') like resource.ParsePropertyPath (sdk/go/common/resource/properties_path.go). */
export function parsePath(p: string): string[] {
  const out: string[] = [];
  const re = /\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[(\d+|\*)\]|\.?([^.[\]]+)/g;
  for (const m of p.matchAll(re)) out.push(m[1] !== undefined ? JSON.parse(`"${m[1]}"`) : (m[2] ?? m[3])!);
  return out;
}

/** PropertyPath.Contains: `pattern` covers `path` when path is at least as long and each pattern part is equal or "*". */
export function pathContains(pattern: string[], path: string[]): boolean {
  if (path.length < pattern.length) return false;
  return pattern.every((p, i) => p === "*" || p === path[i]);
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const fmt = (parts: string[]) => parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i ? `.${p}` : p)).join("");

/** Paths at which two input trees differ (the detailed diff's granularity: into objects and same-length arrays). */
export function diffPaths(a: unknown, b: unknown, at: string[] = []): string[][] {
  if (isObj(a) && isObj(b) && !("asset" in a) && !("asset" in b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => diffPaths(a[k], b[k], [...at, k]));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    return Array.from({ length: n }, (_, i) => diffPaths(a[i], b[i], [...at, String(i)])).flat();
  }
  // An unknown new value is a change (the engine cannot prove it equal; Diff gets AllowUnknowns, SG:2974).
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null) && b !== UNKNOWN ? [] : [at];
}

export const containsUnknown = (v: unknown): boolean =>
  v === UNKNOWN || (Array.isArray(v) ? v.some(containsUnknown) : isObj(v) ? Object.values(v).some(containsUnknown) : false);

/** processIgnoreChanges (SG:3074): each ignoreChanges path of the new inputs is reset to its old value. */
export function applyIgnoreChanges(news: Record<string, unknown>, olds: Record<string, unknown>, ignore: string[]): Record<string, unknown> {
  const out = structuredClone(news);
  for (const p of ignore) {
    const parts = parsePath(p);
    let o: unknown = olds, n: unknown = out;
    for (const k of parts.slice(0, -1)) { o = (o as Record<string, unknown>)?.[k]; n = (n as Record<string, unknown>)?.[k]; }
    const last = parts.at(-1)!;
    if (o && n && typeof o === "object" && typeof n === "object" && last in (o as object)) (n as Record<string, unknown>)[last] = (o as Record<string, unknown>)[last];
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ provider rules

interface ProviderRule {
  /** Inputs whose change makes the provider's Diff answer "replace" (TF schema ForceNew; unknown counts as change). */
  forceNew: string[];
  /** Inputs the provider's Diff ignores. */
  ignored?: string[];
  source: string;
}

/** Per resource type. Types not listed: any input change is an in-place update (no provider-level replace). */
export const PROVIDER_RULES: Record<string, ProviderRule> = {
  [DROPLET]: { forceNew: ["image", "region", "publicNetworking", "sshKeys", "userData", "monitoring", "dropletAgent", "vpcUuid", "gpuPartitionMode", "ipv6"],
    source: "droplet/resource_droplet.go: ForceNew image, region, public_networking, ssh_keys, user_data, monitoring, droplet_agent, vpc_uuid, gpu_partition_mode; CustomizeDiff ForceNewIfChange(ipv6) both ways; size resizes in place (Update: PowerOff, Resize, PowerOn — the VM follows it in vm/droplet-vm.ts boot)" },
  "digitalocean:index/reservedIp:ReservedIp": { forceNew: ["region"], source: "reservedip/resource_reserved_ip.go: region ForceNew; droplet_id updates (reassign)" },
  "digitalocean:index/reservedIpAssignment:ReservedIpAssignment": { forceNew: ["dropletId", "ipAddress"], source: "reservedip/resource_reserved_ip_assignment.go" },
  "digitalocean:index/sshKey:SshKey": { forceNew: ["publicKey"], source: "sshkey/resource_ssh_key.go: public_key ForceNew" },
  "digitalocean:index/dnsRecord:DnsRecord": { forceNew: ["domain", "type"], source: "domain/resource_record.go: domain, type ForceNew; value updates" },
  "digitalocean:index/containerRegistry:ContainerRegistry": { forceNew: ["name", "region"], source: "registry/resource_container_registry.go" },
  "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials": { forceNew: ["registryName"], source: "registry/resource_container_registry_docker_credentials.go" },
  "digitalocean:index/firewall:Firewall": { forceNew: [], source: "firewall/resource_firewall.go: no ForceNew (droplet_ids update)" },
  [IMAGE]: { forceNew: [], ignored: ["registry.username", "registry.password"],
    source: "pulumi-docker provider.go Diff/diffUpdates: any input change (incl. Check's build.contextDigest) is an update; registry username/password ignored" },
  [REMOTE_COMMAND]: { forceNew: [], source: "pulumi-command remote/commandController.go: Update for any change (triggers replace via replaceOnChanges)" },
  [COPY_TO_REMOTE]: { forceNew: [], source: "pulumi-command remote/copyController.go Update" },
  [LOCAL_COMMAND]: { forceNew: [], source: "pulumi-command local/commandController.go Update" },
};

// ------------------------------------------------------------------------------------------------ the step

/**
 * The engine's step for one registration (SG generateSteps → diff → continueStepsFromDiff):
 * no old state → create; ignoreChanges applied to the new inputs (SG:2997); no changed path → same; a changed
 * path under a provider ForceNew input or covered by a replaceOnChanges path → replace (applyReplaceOnChanges
 * SG:3168, diff.Replace()); otherwise update. deleteBeforeReplace: the program's option when set, else the
 * provider's (false for every provider here) (SG:2043).
 */
export function decideStep(prior: PriorResource | undefined, reg: Registration): Decision {
  const dbr = reg.deleteBeforeReplace ?? false;
  if (!prior) return { op: "create", replaceKeys: [], changed: [], deleteBeforeReplace: dbr };
  const rule = PROVIDER_RULES[reg.type];
  const news = applyIgnoreChanges(reg.inputs, prior.inputs, [...reg.ignoreChanges, ...(rule?.ignored ?? [])]);
  const changed = diffPaths(prior.inputs, news);
  if (changed.length === 0) return { op: "same", replaceKeys: [], changed: [], deleteBeforeReplace: dbr };
  const patterns = [...reg.replaceOnChanges, ...(rule?.forceNew ?? [])].map(parsePath);
  const replaceKeys = [...new Set(changed.filter((c) => patterns.some((p) => pathContains(p, c))).map(fmt))];
  return { op: replaceKeys.length ? "replace" : "update", replaceKeys, changed: changed.map(fmt), deleteBeforeReplace: dbr };
}

/** A provider Check failure: the preview (and the up) fails at this resource. */
export interface CheckFailure { urn: string; property: string; reason: string }

/**
 * Check rules that run in preview with unknowns allowed. @pulumi/command 1.2.1 CopyToRemote.Check
 * (remote/copyController.go:72-115 at v1.2.1): an unknown `source` decodes to neither asset nor archive →
 * "either asset or archive must be set" (fixed upstream by 19be37f6, #1184, in no release we can pin).
 */
export function checkFailures(reg: Registration): CheckFailure[] {
  if (reg.type !== COPY_TO_REMOTE) return [];
  const src = reg.inputs.source;
  if (!src || containsUnknown(src)) return [{ urn: reg.urn, property: "asset", reason: "either asset or archive must be set" }];
  return [];
}

/**
 * Outputs the engine hands back to the program for a step, in preview (dryRun) or up. Create/replace: in preview
 * only the known inputs (everything computed is unknown — the SDK resolves missing properties as unknown in a
 * dry run, runtime/rpc.js resolveProperties); in an up, the provider's fresh outputs. Same: the old outputs.
 * Update in preview: Command keeps its old stdout/stderr (commandController.go:70-72); docker Image returns
 * only the new inputs, so repoDigest is unknown (provider.go Update: canPreview false unless buildOnPreview);
 * a bridged DigitalOcean resource keeps its old computed outputs under the new inputs (Terraform plan).
 */
export function stepOutputs(op: Op, reg: Registration, prior: PriorResource | undefined, preview: boolean,
  fresh: () => Record<string, unknown>): Record<string, unknown> {
  const known = Object.fromEntries(Object.entries(reg.inputs).filter(([, v]) => !containsUnknown(v)));
  if (op === "same") return { ...prior!.outputs };
  if (!preview) return op === "update" ? { ...prior!.outputs, ...fresh() } : fresh();
  if (op === "create" || op === "replace" || reg.type === IMAGE) return known;
  if (reg.type === REMOTE_COMMAND || reg.type === LOCAL_COMMAND) return { ...known, stdout: prior!.outputs.stdout, stderr: prior!.outputs.stderr };
  return { ...prior!.outputs, ...known };
}

// ------------------------------------------------------------------------------------------------ providers' update/delete

/** Command Update runs `update`, else `create` (remote/commandController.go:75-80); Create runs `create`. */
export function commandScript(op: "create" | "update", inputs: Record<string, unknown>): string | undefined {
  const s = op === "update" ? inputs.update ?? inputs.create : inputs.create;
  return typeof s === "string" ? s : undefined;
}

/**
 * Env of a command run: `environment`, plus PULUMI_COMMAND_STDOUT/STDERR from the state the run starts from when
 * addPreviousOutputInEnv is not false and the value is non-empty (remote/commandOutputs.go:51-70). Create starts
 * from no outputs; update from the old outputs; delete from the old state (Delete gets req.State, :86-91).
 */
export function commandEnv(inputs: Record<string, unknown>, state: Record<string, unknown> | undefined): Record<string, string> {
  const env: Record<string, string> = { ...(inputs.environment as Record<string, string> | undefined) };
  if (state && inputs.addPreviousOutputInEnv !== false) {
    if (state.stdout) env.PULUMI_COMMAND_STDOUT = String(state.stdout);
    if (state.stderr) env.PULUMI_COMMAND_STDERR = String(state.stderr);
  }
  return env;
}

/** CopyToRemote Update copies only when the source hash or remotePath changed (remote/copyController.go:148). */
export function copyNeeded(olds: Record<string, unknown>, news: Record<string, unknown>): boolean {
  const h = (i: Record<string, unknown>) => (i.source as { hash?: string } | undefined)?.hash;
  return h(olds) !== h(news) || olds.remotePath !== news.remotePath;
}

/**
 * The options the engine fills in from the parent's registration when the child left them unset
 * (source_eval.go:2004 inheritFromParent, called by RegisterResource at :2304; since pulumi v3.70.0, 653adbe621):
 * deletedWith ("" is unset) and retainOnDelete (protect and the provider too; the rehearsal records neither).
 * The Node SDK does not do this itself (resource.js inherits only protect and providers), so a component's
 * `deletedWith` reaches its children only through the engine. Applied in registration order: a parent is
 * registered before its children, and its own inherited values pass on to them.
 */
export function inheritFromParent(child: Registration, parent: Registration | undefined): Registration {
  if (!parent) return child;
  return { ...child, deletedWith: child.deletedWith || parent.deletedWith,
    retainOnDelete: child.retainOnDelete ?? parent.retainOnDelete };
}

/**
 * Why a delete runs no provider Delete (ST:626 DeleteStep.Apply): retainOnDelete; or deletedWith names a
 * resource deleted in the same run (isDeletedWith, ST:603).
 */
export function deleteSkipped(s: PriorResource, deleting: Set<string>): string | undefined {
  if (s.retainOnDelete) return "retainOnDelete";
  if (s.deletedWith && deleting.has(s.deletedWith)) return `deletedWith ${s.deletedWith}`;
  return undefined;
}

/**
 * Deletes in reverse dependency order (SG:2747 ScheduleDeletes reverses the dependency antichains): a resource
 * goes before everything it depends on (dependsOn, property dependencies, parent).
 */
export function deleteOrder(states: PriorResource[], all: PriorResource[]): PriorResource[] {
  const byUrn = new Map([...all, ...states].map((s) => [s.urn, s]));
  const wanted = new Set(states.map((s) => s.urn));
  const out: PriorResource[] = [];
  const seen = new Set<string>();
  const visit = (s: PriorResource) => {
    if (seen.has(s.urn)) return;
    seen.add(s.urn);
    for (const d of [...s.dependsOn, s.parent].map((u) => byUrn.get(u)).filter(Boolean)) visit(d!);
    out.push(s);
  };
  for (const s of [...byUrn.values()].sort((a, b) => a.order - b.order)) visit(s);
  return out.reverse().filter((s) => wanted.has(s.urn));
}

/** Content hash of an asset's bytes (the engine hashes assets; CopyToRemote compares these, copy.go hash()). */
export const assetHash = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");
