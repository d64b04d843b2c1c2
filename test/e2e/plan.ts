// The plan recorder: evaluates the Pulumi program named by Pulumi.yaml under `pulumi.runtime.setMocks` and
// records what `pulumi up` would act on — every resource with its inputs (secrets unwrapped, their paths noted),
// parent and the dependencies the engine would order by (explicit dependsOn plus data dependencies, exactly as
// the SDK sends them in RegisterResource). Runs in a child process (`node test/e2e/plan.ts`, request on stdin)
// because the Pulumi runtime is process-global; `recordPlan()` is the caller's side.
import { readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";
import { run } from "../support/proc.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A file or text a resource carries (CopyToRemote source, a trigger, …), resolved to what it holds. */
export type RecordedAsset =
  | { asset: "file"; path: string }
  | { asset: "string"; text: string }
  | { asset: "archive"; path: string }
  | { asset: "remote"; uri: string }
  | { asset: "assets"; assets: Record<string, RecordedAsset> };

export interface PlannedResource {
  urn: string;
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  /** URNs this resource waits for: dependsOn (components expanded to their children) plus data dependencies. */
  dependsOn: string[];
  /** Inputs as the provider would receive them, secrets unwrapped (see secretPaths), assets resolved. */
  inputs: Record<string, unknown>;
  /** Dotted paths of inputs that were secret; their values must never be printed. */
  secretPaths: string[];
  /** Registration order (what the engine sees first). */
  order: number;
}

export interface Plan {
  project: string;
  stack: string;
  program: string;
  resources: PlannedResource[];
  /** The program's stack outputs (secrets unwrapped). */
  outputs: Record<string, unknown>;
}

export interface PlanRequest {
  /** Stack config, keys fully qualified ("project:key", "digitalocean:token"); values as `pulumi config` stores them. */
  config: Record<string, string>;
  /** Which config keys are secrets (they reach the program as secrets, like `pulumi config set --secret`). */
  secretKeys: string[];
  /** Stack name (default "rehearsal"). */
  stack?: string;
  /** Outputs a real provider returned for a resource on an earlier pass, by resource name (e.g. an image's repoDigest). */
  knownOutputs?: Record<string, Record<string, unknown>>;
  /** Directory holding Pulumi.yaml (default: the repository root). */
  projectDir?: string;
  /** Values the mocked cloud hands out for the droplet and friends. */
  mockCloud: { ipv4: string; ipv6?: string };
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
export const PLACEHOLDER_DIGEST = `sha256:${"0".repeat(64)}`;

/** Reads Pulumi.yaml: the project name and the program's entry. */
export function readProject(root = REPO_ROOT): { name: string; main: string } {
  const doc = parseYaml(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as { name?: string; main?: string };
  if (!doc?.name) throw new Error("Pulumi.yaml: `name` is missing");
  if (!doc.main) throw new Error("Pulumi.yaml: `main` is missing (expected the example stack's program, e.g. infra/program.ts)");
  return { name: doc.name, main: resolve(root, doc.main) };
}

/** Evaluates the program in a fresh child process and returns its plan (also written to outFile, mode 0600). */
export async function recordPlan(req: PlanRequest, outFile: string): Promise<Plan> {
  const r = await run(process.execPath, [fileURLToPath(import.meta.url), outFile], {
    cwd: req.projectDir ?? REPO_ROOT, input: JSON.stringify(req), timeoutMs: 120_000,
    env: { ...process.env, PULUMI_CONFIG: JSON.stringify(req.config), PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.secretKeys) },
  });
  if (r.code !== 0) throw new Error(`evaluating the Pulumi program under mocks failed (exit ${r.code}):\n${redactAll(r.stderr + r.stdout, req)}`);
  return JSON.parse(readFileSync(outFile, "utf8")) as Plan;
}

/** Replaces every secret config value in text by "[secret]" (for error output). */
export function redactAll(text: string, req: Pick<PlanRequest, "config" | "secretKeys">): string {
  let out = text;
  for (const k of req.secretKeys) {
    const v = req.config[k];
    if (v && v.length >= 4) out = out.split(v).join("[secret]");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- child side

async function resolveValue(v: unknown, path: string, secretPaths: Set<string>, pulumi: typeof import("@pulumi/pulumi")): Promise<unknown> {
  if (v instanceof Promise) return resolveValue(await v, path, secretPaths, pulumi);
  if (v === null || typeof v !== "object") return v;
  if (pulumi.asset.Asset.isInstance(v) || pulumi.asset.Archive.isInstance(v)) return resolveAsset(v, pulumi);
  const o = v as Record<string, unknown>;
  if (o[SECRET_SIG] === SECRET_VALUE) {
    secretPaths.add(path);
    return resolveValue(o.value, path, secretPaths, pulumi);
  }
  if (Array.isArray(v)) return Promise.all((v as unknown[]).map((x, i) => resolveValue(x, `${path}[${i}]`, secretPaths, pulumi)));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = await resolveValue(x, path ? `${path}.${k}` : k, secretPaths, pulumi);
  return out;
}

async function resolveAsset(a: object, pulumi: typeof import("@pulumi/pulumi")): Promise<RecordedAsset> {
  const x = a as { path?: Promise<string>; text?: Promise<string>; uri?: Promise<string>; assets?: Promise<Record<string, object>> };
  if (x.text !== undefined) return { asset: "string", text: await x.text };
  if (x.uri !== undefined) return { asset: "remote", uri: await x.uri };
  if (x.assets !== undefined) {
    const m: Record<string, RecordedAsset> = {};
    for (const [k, v] of Object.entries(await x.assets)) m[k] = await resolveAsset(v, pulumi);
    return { asset: "assets", assets: m };
  }
  const p = resolve(REPO_ROOT, await x.path!);
  return pulumi.asset.Archive.isInstance(a) ? { asset: "archive", path: p } : { asset: "file", path: p };
}

/** What the mocked cloud returns for a resource: its inputs plus the outputs the program reads. */
function mockState(type: string, name: string, inputs: Record<string, unknown>, req: PlanRequest): Record<string, unknown> {
  const known = req.knownOutputs?.[name] ?? {};
  const s: Record<string, unknown> = { ...inputs };
  if (type === "digitalocean:index/droplet:Droplet") {
    Object.assign(s, { ipv4Address: req.mockCloud.ipv4, ipv4AddressPrivate: req.mockCloud.ipv4,
      ipv6Address: req.mockCloud.ipv6 ?? "::1", status: "active", urn: `do:droplet:${name}` });
  } else if (type === "digitalocean:index/reservedIp:ReservedIp") {
    s.ipAddress = req.mockCloud.ipv4;
  } else if (type === "docker:index/image:Image") {
    const imageName = String(inputs.imageName ?? name);
    s.repoDigest = `${imageName.replace(/:[^:/]+$/, "")}@${PLACEHOLDER_DIGEST}`;
  } else if (type.startsWith("command:")) {
    Object.assign(s, { stdout: "", stderr: "" });
  } else if (type === "digitalocean:index/sshKey:SshKey") {
    s.fingerprint = "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00";
  }
  return { ...s, ...known };
}

async function childMain(outFile: string): Promise<void> {
  const req = JSON.parse(readFileSync(0, "utf8")) as PlanRequest;
  const pulumi = await import("@pulumi/pulumi");
  const project = readProject(req.projectDir ?? REPO_ROOT);
  const stack = req.stack ?? "rehearsal";
  const secretPaths = new Map<string, Set<string>>();
  const pending: Promise<PlannedResource>[] = [];
  let ids = 0;
  await pulumi.runtime.setMocks({
    newResource: (a) => ({ id: `${a.name}-${++ids}`, state: mockState(a.type, a.name, a.inputs, req) }),
    call: (a) => a.inputs,
  }, project.name, stack, false);
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): void };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (r: RegisterRequest, cb: unknown) => {
    const order = pending.length;
    const urn = mockUrn(r.getParent(), r.getType(), r.getName(), project.name, stack);
    const paths = new Set<string>();
    secretPaths.set(urn, paths);
    const propDeps: string[] = [];
    r.getPropertydependenciesMap().forEach((v) => propDeps.push(...v.getUrnsList()));
    pending.push((async () => {
      const { deserializeProperties } = await import("@pulumi/pulumi/runtime/rpc.js");
      const raw = deserializeProperties(r.getObject() as never) as Record<string, unknown>;
      return {
        urn, type: r.getType(), name: r.getName(), parent: r.getParent(), custom: r.getCustom(),
        dependsOn: [...new Set([...r.getDependenciesList(), ...propDeps])],
        inputs: (await resolveValue(raw, "", paths, pulumi)) as Record<string, unknown>,
        secretPaths: [], order,
      };
    })());
    return original(r, cb);
  };
  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    // Like Pulumi's Node.js host: a default-exported function's result, else the module's exports, are the outputs.
    const mod = (await import(pathToFileURL(project.main).href)) as Record<string, unknown>;
    return typeof mod.default === "function" ? await (mod.default as () => unknown)() : { ...mod };
  });
  await pulumi.runtime.disconnect();
  const resources = await Promise.all(pending);
  for (const res of resources) res.secretPaths = [...(secretPaths.get(res.urn) ?? [])];
  const plan: Plan = {
    project: project.name, stack, program: project.main, resources,
    outputs: (await resolveValue(outputs ?? {}, "", new Set(), pulumi)) as Record<string, unknown>,
  };
  writeFileSync(outFile, JSON.stringify(plan, null, 2), { mode: 0o600 });
  chmodSync(outFile, 0o600);
}

interface RegisterRequest {
  getType(): string; getName(): string; getParent(): string; getCustom(): boolean;
  getDependenciesList(): string[]; getObject(): unknown;
  getPropertydependenciesMap(): { forEach(f: (v: { getUrnsList(): string[] }, k: string) => void): void };
}

/** The URN the mock monitor assigns (same scheme as @pulumi/pulumi's MockMonitor.newUrn). */
function mockUrn(parent: string, type: string, name: string, project: string, stack: string): string {
  let t = type;
  if (parent) t = `${parent.split("::")[2]!.split("$").pop()}$${type}`;
  return `urn:pulumi:${stack}::${project}::${t}::${name}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) { console.error("usage: node test/e2e/plan.ts OUT_FILE < request.json"); process.exit(2); }
  childMain(out).catch((e: unknown) => { console.error(e instanceof Error ? e.stack : String(e)); process.exit(1); });
}
