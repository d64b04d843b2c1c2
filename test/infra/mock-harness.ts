// pulumi.runtime.setMocks harness for the infra tests: records every resource registration (in order) with its
// inputs, answers with plausible provider outputs, and helps inspect secrets. Mock state is per process, and
// node --test runs each test file in its own process: one scenario per file.
import * as pulumi from "@pulumi/pulumi";

export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const MOCK_IPV4 = "203.0.113.10";
export const MOCK_RESERVED_IP = "198.51.100.7";
export const MOCK_REGISTRY = "registry.test";
export const digestOf = (name: string) => `sha256:${Buffer.from(name).toString("hex").padEnd(64, "0").slice(0, 64)}`;

/** Resource options as the engine receives them (RegisterResourceRequest), including those an SDK adds itself. */
export interface RecordedOptions { ignoreChanges: string[]; replaceOnChanges: string[]; deletedWith: string; retainOnDelete: boolean; dependencies: string[] }

export interface Recorded { type: string; name: string; inputs: Record<string, unknown>; state: Record<string, unknown>; options: RecordedOptions }

export interface Recorder {
  resources: Recorded[];
  ofType(type: string): Recorded[];
  named(name: string): Recorded;
  /** Resolves when no new resource was registered for `quietMs` (bounded). */
  settle(quietMs?: number): Promise<void>;
}

function outputsFor(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "digitalocean:index/droplet:Droplet":
      return { ipv4Address: MOCK_IPV4, ipv6Address: "2001:db8::10", urn: name };
    case "digitalocean:index/sshKey:SshKey":
      return { fingerprint: "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa" };
    case "digitalocean:index/reservedIp:ReservedIp":
      return { ipAddress: MOCK_RESERVED_IP };
    case "digitalocean:index/containerRegistry:ContainerRegistry":
      return { endpoint: `${MOCK_REGISTRY}/${inputs.name}`, serverUrl: MOCK_REGISTRY };
    case "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials": {
      const token = inputs.write ? "push-token" : "pull-token";
      return { dockerCredentials: JSON.stringify({ auths: { [MOCK_REGISTRY]: { auth: Buffer.from(`${token}:${token}`).toString("base64") } } }) };
    }
    case "docker:index/image:Image": {
      const imageName = String(inputs.imageName);
      return { repoDigest: `${imageName.replace(/:[^:/]+$/, "")}@${digestOf(imageName)}` };
    }
    default:
      return {};
  }
}

export async function installMocks(): Promise<Recorder> {
  const resources: Recorded[] = [];
  let last = Date.now();
  let pending: RecordedOptions | undefined;
  await pulumi.runtime.setMocks({
    newResource(args) {
      const state = { ...args.inputs, ...outputsFor(args.type, args.name, args.inputs) };
      const options = pending ?? { ignoreChanges: [], replaceOnChanges: [], deletedWith: "", retainOnDelete: false, dependencies: [] };
      pending = undefined;
      resources.push({ type: args.type, name: args.name, inputs: args.inputs, state, options });
      last = Date.now();
      return { id: args.type === "digitalocean:index/droplet:Droplet" ? "424242" : `${args.name}-id`, state };
    },
    call(args) {
      if (args.token === "digitalocean:index/getContainerRegistry:getContainerRegistry") {
        return { name: args.inputs.name, endpoint: `${MOCK_REGISTRY}/${args.inputs.name}`, serverUrl: MOCK_REGISTRY };
      }
      return args.inputs;
    },
  }, "selfhosted-mcp", "test", false);
  // The mock monitor hands newResource only type, name and inputs; the options travel in the request. Its
  // registerResource calls newResource synchronously, so the request's options are taken just before it.
  type Request = { getIgnorechangesList(): string[]; getReplaceonchangesList(): string[]; getDeletedwith(): string;
    getRetainondelete(): boolean | undefined; getDependenciesList(): string[] };
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Request, cb: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    pending = { ignoreChanges: req.getIgnorechangesList(), replaceOnChanges: req.getReplaceonchangesList(), deletedWith: req.getDeletedwith(),
      retainOnDelete: req.getRetainondelete() ?? false, dependencies: req.getDependenciesList() };
    return register(req, cb);
  };
  return {
    resources,
    ofType: (type) => resources.filter((r) => r.type === type),
    named(name) {
      const r = resources.find((x) => x.name === name);
      if (!r) throw new Error(`no resource named ${name}; have: ${resources.map((x) => x.name).join(", ")}`);
      return r;
    },
    async settle(quietMs = 300) {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        if (Date.now() - last >= quietMs) return;
      }
      throw new Error("resource registrations did not settle within 20 s");
    },
  };
}

/** The value of an Output (mock mode resolves everything). */
export function valueOf<T>(o: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(o).apply((v) => { resolve(v as T); return v; }));
}

export const isSecretValue = (v: unknown): v is { value: unknown } =>
  typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270";

/** Resolves asset texts (they arrive as promises) so inputs can be searched as JSON. */
export async function resolveAssets(v: unknown): Promise<unknown> {
  if (Array.isArray(v)) return Promise.all(v.map(resolveAssets));
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = x instanceof Promise ? await x : await resolveAssets(x);
  return out;
}

/** The inputs with every secret-wrapped value removed: what a non-secret reader of the state could see. */
export function withoutSecrets(v: unknown): unknown {
  if (isSecretValue(v)) return "[secret]";
  if (Array.isArray(v)) return v.map(withoutSecrets);
  if (typeof v !== "object" || v === null) return v;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, withoutSecrets(x)]));
}

/** The files of a deploy command's stdin (renderBundle: `<name> <base64>` lines, then `end <count>`), decoded. */
export function bundleFiles(stdin: string): Record<string, string> {
  return Object.fromEntries(stdin.trim().split("\n").map((l) => l.split(" ")).filter(([n]) => n !== "end")
    .map(([n, b]) => [n!, Buffer.from(b!, "base64").toString()]));
}
