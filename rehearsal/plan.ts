// The plan recorder: runs the Pulumi program named by Pulumi.yaml under `pulumi.runtime.setMocks`, with config
// delivered as the CLI delivers it (engine/config.ts), in preview (dryRun) or up mode, and records every
// registration as the engine receives it — the RegisterResourceRequest the SDK sends to the monitor (inputs with
// unknowns, secrets and assets as serialized; replaceOnChanges incl. those an SDK adds in its constructor;
// deleteBeforeReplace, ignoreChanges, dependsOn, property dependencies, parent, deletedWith, retainOnDelete,
// additionalSecretOutputs, provider). Each registration gets its step right away from the prior state
// (engine/rules.ts decideStep) and the outputs the engine would hand back (stepOutputs), so the program sees
// unknowns exactly where a real preview has them; provider Check failures are collected. Runs in a child process
// (`node rehearsal/plan.ts OUT`, request on stdin) because the Pulumi runtime is process-global.
import { readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";
import { run } from "../test/support/proc.ts";
import { cliConfig, secretTexts, type StackConfig } from "./engine/config.ts";
import { decideStep, checkFailures, stepOutputs, assetHash, inheritFromParent, UNKNOWN, IMAGE, DROPLET,
  type Registration, type PriorResource, type Decision, type CheckFailure } from "./engine/rules.ts";
import { contextDigest } from "./engine/image.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** A file or text a resource carries (CopyToRemote source, …), resolved to what it holds; `hash` of its bytes. */
export type RecordedAsset =
  | { asset: "file"; path: string; hash: string }
  | { asset: "string"; text: string; hash: string }
  | { asset: "archive"; path: string; hash: string }
  | { asset: "remote"; uri: string; hash: string }
  | { asset: "assets"; assets: Record<string, RecordedAsset>; hash: string };

export interface PlannedResource extends Registration {
  /** The engine's step for this registration against the prior state. */
  step: Decision;
  /** What the engine handed back to the program (unknown-at-preview values are absent). */
  outputs: Record<string, unknown>;
  /** The resource's ID ("" = unknown: a create or replace in preview). */
  id: string;
}

export interface Plan {
  project: string; stack: string; program: string; preview: boolean;
  resources: PlannedResource[];
  /** Provider Check failures: a non-empty list fails the preview/up at these resources. */
  checkFailures: CheckFailure[];
  /** The program's stack outputs (secrets unwrapped). */
  outputs: Record<string, unknown>;
}

export interface PlanRequest {
  /** Stack config as `pulumi config set` stores it (keys without namespace belong to the project). */
  config: StackConfig;
  /** Preview (dryRun) instead of up. */
  preview?: boolean;
  /** Stack name (default "rehearsal"). */
  stack?: string;
  /** The engine's state from the last run: the step of each registration is decided against it. */
  prior?: PriorResource[];
  /** Directory holding Pulumi.yaml (default: the repository root). */
  projectDir?: string;
  /** Values the mocked cloud hands out for the droplet and friends. */
  mockCloud: { ipv4: string; ipv6?: string };
  /** Environment of the `pulumi` process the program sees besides the config (e.g. SSH_AUTH_SOCK); default: this process's. */
  env?: Record<string, string>;
}

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
export const PLACEHOLDER_DIGEST = `sha256:${"0".repeat(64)}`;

/** Reads Pulumi.yaml: the project name and the program's entry. */
export function readProject(root = REPO_ROOT): { name: string; main: string } {
  const doc = parseYaml(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as { name?: string; main?: string };
  if (!doc?.name) throw new Error("Pulumi.yaml: `name` is missing");
  if (!doc.main) throw new Error("Pulumi.yaml: `main` is missing (expected the example stack's program, e.g. examples/stack/program.ts)");
  return { name: doc.name, main: resolve(root, doc.main) };
}

/** Evaluates the program in a fresh child process and returns its plan (also written to outFile, mode 0600). */
export async function recordPlan(req: PlanRequest, outFile: string): Promise<Plan> {
  const projectDir = req.projectDir ?? REPO_ROOT;
  const stack = req.stack ?? "rehearsal";
  const env = cliConfig(projectDir, stack, req.config); // throws ConfigError like the CLI, before the program runs
  const r = await run(process.execPath, [fileURLToPath(import.meta.url), outFile], {
    cwd: projectDir, input: JSON.stringify(req), timeoutMs: 900_000, env: { ...process.env, ...req.env, ...env },
  });
  if (r.code !== 0) throw new Error(`evaluating the Pulumi program under mocks failed (exit ${r.code}):\n${redactAll(r.stderr + r.stdout, req)}`);
  return JSON.parse(readFileSync(outFile, "utf8")) as Plan;
}

/** Replaces every secret config value in text by "[secret]" (for error output). */
export function redactAll(text: string, req: Pick<PlanRequest, "config">): string {
  let out = text;
  for (const v of secretTexts(req.config)) if (v.length >= 4) out = out.split(v).join("[secret]");
  return out;
}

// ---------------------------------------------------------------------------------------------- child side

/** A serialized property value (google.protobuf.Struct as JS) → the recorded value; secret paths noted. */
function recordValue(v: unknown, path: string, secrets: Set<string>, cwd: string): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x, i) => recordValue(x, `${path}[${i}]`, secrets, cwd));
  const o = v as Record<string, unknown>;
  if (o[SIG] === SECRET_SIG) { secrets.add(path); return recordValue(o.value, path, secrets, cwd); }
  if (o[SIG] === ASSET_SIG || o[SIG] === ARCHIVE_SIG) return recordAsset(o, cwd);
  if (o[SIG] === RESOURCE_SIG) return { resource: o.urn, id: o.id };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = recordValue(x, path ? `${path}.${k}` : k, secrets, cwd);
  return out;
}

function recordAsset(o: Record<string, unknown>, cwd: string): RecordedAsset {
  if (typeof o.text === "string") return { asset: "string", text: o.text, hash: assetHash(o.text) };
  if (typeof o.uri === "string") return { asset: "remote", uri: o.uri, hash: assetHash(o.uri) };
  if (o.assets && typeof o.assets === "object") {
    const m: Record<string, RecordedAsset> = {};
    for (const [k, x] of Object.entries(o.assets as Record<string, Record<string, unknown>>)) m[k] = recordAsset(x, cwd);
    return { asset: "assets", assets: m, hash: assetHash(JSON.stringify(m)) };
  }
  const p = resolve(cwd, String(o.path));
  if (o[SIG] === ARCHIVE_SIG) return { asset: "archive", path: p, hash: assetHash(p) };
  let bytes: Buffer | string = "";
  try { bytes = readFileSync(p); } catch { bytes = `missing:${p}`; } // the provider fails on it later, by name
  return { asset: "file", path: p, hash: assetHash(bytes) };
}

/** What the mocked cloud returns for a freshly created resource: its inputs plus the outputs the program reads. */
function freshState(type: string, name: string, inputs: Record<string, unknown>, req: PlanRequest): Record<string, unknown> {
  const s: Record<string, unknown> = { ...inputs };
  if (type === DROPLET) {
    Object.assign(s, { ipv4Address: req.mockCloud.ipv4, ipv4AddressPrivate: req.mockCloud.ipv4,
      ipv6Address: req.mockCloud.ipv6 ?? "::1", status: "active", urn: `do:droplet:${name}` });
  } else if (type === "digitalocean:index/reservedIp:ReservedIp") {
    s.ipAddress = req.mockCloud.ipv4;
  } else if (type === IMAGE) {
    // The real digest comes from the executor's push; until then (the image pass) a placeholder.
    s.repoDigest = `${String(inputs.imageName ?? name).replace(/:[^:/]+$/, "")}@${PLACEHOLDER_DIGEST}`;
  } else if (type.startsWith("command:")) {
    Object.assign(s, { stdout: "", stderr: "" });
  } else if (type === "digitalocean:index/containerRegistry:ContainerRegistry") {
    Object.assign(s, { serverUrl: "registry.digitalocean.com", endpoint: `registry.digitalocean.com/${String(inputs.name)}` });
  } else if (type === "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials") {
    s.dockerCredentials = JSON.stringify({ auths: { "registry.digitalocean.com": { auth: Buffer.from("mock:mock").toString("base64") } } });
  } else if (type === "digitalocean:index/sshKey:SshKey") {
    s.fingerprint = "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00";
  }
  return s;
}

interface RegisterRequest {
  getType(): string; getName(): string; getParent(): string; getCustom(): boolean; getProvider(): string;
  getDependenciesList(): string[]; getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getPropertydependenciesMap(): { forEach(f: (v: { getUrnsList(): string[] }, k: string) => void): void };
  getReplaceonchangesList(): string[]; getIgnorechangesList(): string[]; getAdditionalsecretoutputsList(): string[];
  getDeletebeforereplace(): boolean; getDeletebeforereplacedefined(): boolean;
  hasRetainondelete(): boolean; getRetainondelete(): boolean; getDeletedwith(): string;
}

/** The registration as the engine receives it (RegisterResourceRequest fields, proto/resource.proto). */
function registration(r: RegisterRequest, urn: string, order: number, cwd: string): Registration {
  const propDeps: string[] = [];
  r.getPropertydependenciesMap().forEach((v) => propDeps.push(...v.getUrnsList()));
  const secrets = new Set<string>();
  const inputs = recordValue(r.getObject()?.toJavaScript() ?? {}, "", secrets, cwd) as Record<string, unknown>;
  return {
    urn, type: r.getType(), name: r.getName(), parent: r.getParent(), custom: r.getCustom(), provider: r.getProvider(),
    dependsOn: [...new Set([...r.getDependenciesList(), ...propDeps])], inputs, secretPaths: [...secrets],
    replaceOnChanges: r.getReplaceonchangesList(), ignoreChanges: r.getIgnorechangesList(),
    deleteBeforeReplace: r.getDeletebeforereplacedefined() ? r.getDeletebeforereplace() : undefined,
    retainOnDelete: r.hasRetainondelete() ? r.getRetainondelete() : undefined,
    deletedWith: r.getDeletedwith(), additionalSecretOutputs: r.getAdditionalsecretoutputsList(), order,
  };
}

async function childMain(outFile: string): Promise<void> {
  const req = JSON.parse(readFileSync(0, "utf8")) as PlanRequest;
  const pulumi = await import("@pulumi/pulumi");
  const cwd = process.cwd();
  const project = readProject(cwd);
  const stack = req.stack ?? "rehearsal";
  const preview = req.preview ?? false;
  const prior = new Map((req.prior ?? []).map((p) => [p.urn, p]));
  const regs = new Map<string, Registration>();
  const resources: PlannedResource[] = [];
  const failures: CheckFailure[] = [];
  let ids = 0;
  await pulumi.runtime.setMocks({
    newResource: async (a) => {
      const reg = regs.get(`${a.type}::${a.name}`);
      if (!reg) throw new Error(`no registration recorded for ${a.type} ${a.name}`);
      const old = prior.get(reg.urn);
      const build = reg.inputs.build as Record<string, unknown> | undefined;
      // Check adds build.contextDigest (pulumi-docker provider.go Check); compared like any input.
      if (reg.type === IMAGE && old && build && !JSON.stringify(build).includes(UNKNOWN)) build.contextDigest = await contextDigest(reg.inputs, cwd);
      failures.push(...checkFailures(reg)); // Check runs in preview and in up (SG continueStepsFromDiff, step_generator Check)
      const step = decideStep(old, reg);
      const outputs = stepOutputs(step.op, reg, old, preview, () => freshState(reg.type, reg.name, reg.inputs, req));
      // IDs as DigitalOcean hands them out (numeric text); a new one for every create/replace.
      const id = step.op === "same" || step.op === "update" ? old!.id : preview || !reg.custom ? "" : String(Date.now() * 1000 + (++ids % 1000));
      resources.push({ ...reg, step, outputs, id });
      return { id, state: forProgram(outputs) as Record<string, unknown> };
    },
    call: (a) => a.inputs,
  }, project.name, stack, preview);
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): void };
  const original = monitor.registerResource.bind(monitor);
  let order = 0;
  const byUrn = new Map<string, Registration>();
  monitor.registerResource = (r: RegisterRequest, cb: unknown) => {
    const urn = mockUrn(r.getParent(), r.getType(), r.getName(), project.name, stack);
    const key = `${r.getType()}::${r.getName()}`;
    if (regs.has(key)) throw new Error(`duplicate resource ${key}`);
    const reg = inheritFromParent(registration(r, urn, order++, cwd), byUrn.get(r.getParent()));
    regs.set(key, reg);
    byUrn.set(urn, reg);
    return original(r, cb);
  };
  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    // Like Pulumi's Node.js host: a default-exported function's result, else the module's exports, are the outputs.
    const mod = (await import(pathToFileURL(project.main).href)) as Record<string, unknown>;
    return typeof mod.default === "function" ? await (mod.default as () => unknown)() : { ...mod };
  });
  await pulumi.runtime.disconnect();
  resources.sort((a, b) => a.order - b.order);
  const plan: Plan = {
    project: project.name, stack, program: project.main, preview, resources, checkFailures: failures,
    outputs: (await resolveOutputs(outputs ?? {}, pulumi)) as Record<string, unknown>,
  };
  writeFileSync(outFile, JSON.stringify(plan, null, 2), { mode: 0o600 });
  chmodSync(outFile, 0o600);
}

/** Recorded assets and resource references are the recorder's own notation: the program never reads them back. */
function forProgram(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(forProgram);
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  if (typeof o.asset === "string" || typeof o.resource === "string") return undefined;
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, forProgram(x)]).filter(([, x]) => x !== undefined));
}

async function resolveOutputs(v: unknown, pulumi: typeof import("@pulumi/pulumi")): Promise<unknown> {
  if (v instanceof Promise) return resolveOutputs(await v, pulumi);
  if (v === null || typeof v !== "object") return v === UNKNOWN ? undefined : v;
  const o = v as Record<string, unknown>;
  if (o[SIG] === SECRET_SIG) return resolveOutputs(o.value, pulumi);
  if (Array.isArray(v)) return Promise.all(v.map((x) => resolveOutputs(x, pulumi)));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = await resolveOutputs(x, pulumi);
  return out;
}

/** The URN the mock monitor assigns (same scheme as @pulumi/pulumi's MockMonitor.newUrn). */
function mockUrn(parent: string, type: string, name: string, project: string, stack: string): string {
  let t = type;
  if (parent) t = `${parent.split("::")[2]!.split("$").pop()}$${type}`;
  return `urn:pulumi:${stack}::${project}::${t}::${name}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) { console.error("usage: node rehearsal/plan.ts OUT_FILE < request.json"); process.exit(2); }
  childMain(out).catch((e: unknown) => { console.error(e instanceof Error ? e.stack : String(e)); process.exit(1); });
}
