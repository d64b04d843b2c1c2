// The rehearsal, start to finish, as one function the CLI (rehearse.ts) and the e2e tests share:
//   services (dockerd, registry, pebble, upstream stand-in) → stack config from them → preview (stops on a failed
//   provider Check) → record the plan (mocks) →
//   boot the droplet VM (vm/droplet-vm.ts) with the recorded user-data and the droplet's memory size → build + push
//   the image → re-record with its real digest (what the engine does once the image's outputs are known) → execute
//   the rest over SSH into the VM → reach https://<domain> through the VM's forwarded 443 with an MCP client.
// The only rehearsal-specific inputs are stack config values: ACME server + CA bundle, registry address, base
// image, UPSTREAM_URL, and the SSH endpoint/key of the droplet. Everything an instance makes lives under its state
// directory (and its VM); two instances with different state directories never touch each other.
import { randomBytes } from "node:crypto";
import { readFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensureDockerd } from "../test/support/docker.ts";
import { run } from "../test/support/proc.ts";
import { ensureBaseImage } from "../test/support/base-image.ts";
import { recordPlan, type Plan, type PlanRequest } from "./plan.ts";
import type { StackConfig } from "./engine/config.ts";
import { executePlan, destroyAll, priorState, CheckError, IMAGE, type Step } from "./execute.ts";
import { DropletVm, requireQemu } from "./vm/droplet-vm.ts";
import { ensureVmImage } from "./vm/image.ts";
import { ensureAptMirror, provideAptMirror } from "./vm/apt-mirror.ts";
import { DAEMONS } from "../infra/monitoring/daemons.ts";
import { findDropletSize } from "../infra/render/droplet-size.ts";
import { startServices, stopServices, type ServicesInfo } from "./services.ts";
import { ensureStateDir, readJson, writeJson } from "./state.ts";
import { publicClient, connectMcp, toolText } from "./client.ts";
import { splitList } from "../contract/list.ts";

export const DOMAIN = "mcp.example.test";
export const DROPLET_TYPE = "digitalocean:index/droplet:Droplet";
const MONITORING_STACK_TYPE = "selfhosted-mcp:index:McpMonitoringStack";
const MONITORING_PACKAGES = Object.values(DAEMONS).map((d) => d.pkg);
/**
 * Where the operator puts the private ACME CA's bundle on the droplet (stack config acmeCaBundle is a path on the
 * droplet): the rehearsal installs pebble's certificates there after boot, before the deployment runs.
 */
export const GUEST_ACME_CA = "/etc/selfhosted-mcp-rehearsal/acme-ca.pem";

export interface RehearsalOptions {
  stateDir: string;
  /** Non-secret stack config overrides, keys without the project prefix (values as `pulumi config set` takes them). */
  config?: Record<string, string>;
  /** Extra secret stack config, keys without the project prefix. */
  secrets?: Record<string, string>;
  /** Server env (stack config `env`), merged over the rehearsal's own (UPSTREAM_URL = the local forecast API stand-in). */
  env?: Record<string, string>;
  /**
   * Stack config that depends on where the rehearsal's services run (the alert drill's receivers), merged last; a
   * list is set as `pulumi config set --path 'key[0]' …` stores it (a tree).
   */
  settingsFor?: (services: ServicesInfo) => { config?: Record<string, string | string[]>; secrets?: Record<string, string> };
  log?: (line: string) => void;
}

export interface RehearsalResult {
  url: string;
  /** The API key the stack was configured with (print it; it is the rehearsal's own, random). */
  token: string;
  plan: Plan;
  steps: Step[];
  services: ServicesInfo;
  /** The droplet VM (ports, SSH command, ssh() into the guest). */
  vm: DropletVm;
  /** Milliseconds per phase. */
  timings: Record<string, number>;
  /** What the final MCP check saw: tool names and the called tool's answer. */
  check: { tools: string[]; called: string; answer: string };
}

/** Secrets generated once per state dir (stable across runs, so a second run changes nothing). */
interface RehearsalSecrets { apiKey: string; upstreamApiKey: string; doToken: string }

function rehearsalSecrets(stateDir: string): RehearsalSecrets {
  const file = join(stateDir, "secrets.json");
  const known = readJson<RehearsalSecrets>(file);
  if (known) return known;
  const s = { apiKey: randomBytes(24).toString("hex"), upstreamApiKey: `upstream-${randomBytes(12).toString("hex")}`,
    doToken: `rehearsal-unused-${randomBytes(8).toString("hex")}` };
  writeJson(file, s);
  return s;
}

/** The stack config the rehearsal evaluates the program with: what a user would `pulumi config set`. */
export function stackConfig(opts: RehearsalOptions, services: ServicesInfo, baseImage: string, vm: DropletVm): PlanRequest {
  const secrets = rehearsalSecrets(opts.stateDir);
  const extra = opts.settingsFor?.(services) ?? {};
  // METRICS_EVENT_LOOP_RESOLUTION_MS: the event-loop delay metric's timer (production default 10 ms, prom-client's)
  // wakes each node process 100 times a second. Under TCG an idle container cost its droplet VM ~8 % of a host core
  // (qemu's CPU: 6.4 s a minute with one idle server, 1.7 s with it paused), on the CPU the tests share; once a
  // second keeps the metric. The gateway gets it through `env` too.
  const serverEnv = { UPSTREAM_URL: services.upstreamUrl, SEARCH_TIMEOUT_MS: "30000", METRICS_EVENT_LOOP_RESOLUTION_MS: "1000" };
  const plain: Record<string, string> = {
    domain: DOMAIN,
    sshPublicKey: vm.publicKey,
    // The guest's sshd listens on this port (the user-data's drop-in) and the VM forwards the same host port to it.
    sshPort: String(vm.ports.ssh),
    acmeEmail: "ops@example.test",
    acmeServer: services.acme.directoryUrl,
    acmeCaBundle: GUEST_ACME_CA,
    registryServer: services.registry,
    createDocr: "false",
    baseImage,
    // The search tool stops a query after SEARCH_TIMEOUT_MS (default 2 s). Under TCG during a blue/green switch (two
    // slots starting, dockerd busy) one search in ~200 took longer than 2 s; a real vCPU answers in milliseconds.
    env: JSON.stringify({ ...serverEnv, ...opts.env }),
    // The deploy's health gate (default 90 s) bounds a new slot's start. Under TCG on a busy 2-core machine node
    // alone took over 90 s to listen (seen: "mcp-blue never listened on its unix socket within 90s" at load 15);
    // a real vCPU starts it in well under a second. Still bounded, and a test may set its own (the unhealthy fixture).
    healthTimeoutSeconds: "600",
    // Docker's health probe is a `docker exec` (runc starting a process in the container): ~5 s of emulated CPU under
    // TCG, so at the production 30 s four containers keep a vCPU busy. Nothing in the deploy reads Docker's status;
    // probing every 10 min leaves the VM's CPU to what is rehearsed. `--config healthCheckIntervalSeconds=30` restores it.
    healthCheckIntervalSeconds: "600",
    ...opts.config,
    // Several servers (stack config `servers`): `env` is then the gateway's, and each reference server needs the
    // upstream stand-in in its own env (servers[N].env), under its own path prefix (so that one server's upstream
    // can fail alone: test/support/upstream-stub.ts); a value the user set for a server wins.
    ...(opts.config?.servers ? { servers: withServerEnv(opts.config.servers, (name) => ({ ...serverEnv, UPSTREAM_URL: `${services.upstreamUrl}/${name}` })) } : {}),
  };
  const secret: Record<string, string> = {
    apiKeys: secrets.apiKey,
    upstreamApiKey: secrets.upstreamApiKey,
    sshPrivateKey: readFileSync(vm.keyPath, "utf8"),
    ...opts.secrets,
    ...extra.secrets,
  };
  // As `pulumi config set` stores them: top-level values are strings; arrays only via `--path` (a tree).
  const config: StackConfig = {
    "digitalocean:token": { value: secrets.doToken, secret: true },
    // pulumi config set --path 'adminCidrs[0]' 127.0.0.1/32 (the DigitalOcean firewall is mocked; the VM's sshd sees
    // the host as qemu's user-network gateway)
    adminCidrs: { value: ["127.0.0.1/32"] },
  };
  for (const [k, v] of Object.entries({ ...plain, ...extra.config })) config[k] = { value: v };
  for (const [k, v] of Object.entries(secret)) config[k] = { value: v, secret: true };
  return { config, mockCloud: { ipv4: "127.0.0.1" } };
}

/**
 * `servers` (JSON text, as `pulumi config set` stores an object) with `envOf(name)` merged under each server's own
 * env. Anything that is not a JSON list of objects is returned unchanged, for the program's config check to report.
 */
export function withServerEnv(servers: string, envOf: (name: string) => Record<string, string>): string {
  let list: unknown;
  try { list = JSON.parse(servers); } catch { return servers; }
  if (!Array.isArray(list) || !list.every((s) => typeof s === "object" && s !== null && !Array.isArray(s))) return servers;
  return JSON.stringify(list.map((s: { name?: unknown; env?: unknown }) =>
    ({ ...s, env: { ...envOf(String(s.name)), ...(typeof s.env === "object" && s.env ? s.env : {}) } })));
}

/** The droplet as the program registered it: exact user-data, name, and the size's memory and vCPUs. */
function dropletOf(plan: Plan): { userData: string; name: string; memoryMb: number; vcpus: number } {
  const droplets = plan.resources.filter((r) => r.type === DROPLET_TYPE);
  if (droplets.length !== 1) throw new Error(`expected exactly one ${DROPLET_TYPE} in the plan, found ${droplets.length}`);
  const i = droplets[0]!.inputs;
  if (typeof i.userData !== "string") throw new Error("the droplet has no userData input");
  const size = findDropletSize(String(i.size));
  if (!size) throw new Error(`the droplet's size ${String(i.size)} is not in infra/render/droplet-size.ts: the rehearsal sizes its VM from that table`);
  return { userData: i.userData, name: String(i.name ?? "droplet"), memoryMb: size.memoryMb, vcpus: size.vcpus };
}

const portOf = (url: string) => Number(new URL(url.includes("://") ? url : `http://${url}`).port);

export async function rehearse(opts: RehearsalOptions): Promise<RehearsalResult> {
  const log = opts.log ?? (() => undefined);
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try { return await f(); } finally { timings[name] = Date.now() - t; }
  };
  await requireQemu();
  ensureStateDir(opts.stateDir);
  await timed("dockerd", () => ensureDockerd());
  const baseImage = await timed("baseImage", () => ensureBaseImage());
  const image = await timed("vmImage", () => ensureVmImage(log, { preseedImage: baseImage }));
  // The droplet's SSH key and ports are stack config (the program authorizes the key in the user-data and connects
  // to the port), so they exist before the program is recorded; pebble validates HTTP-01 on the forwarded port 80.
  const vm = await DropletVm.open(opts.stateDir);
  const services = await timed("services", () => startServices(opts.stateDir, vm.ports.http));
  log(`registry ${services.registry}, ACME ${services.acme.directoryUrl}, upstream ${services.upstreamUrl}`);
  const req = stackConfig(opts, services, baseImage, vm);
  const planFile = join(opts.stateDir, "plan.json");

  // `pulumi up` previews first and stops when the preview fails (a provider Check, an unknown where none may be).
  const preview = await timed("preview", () => recordPlan({ ...req, preview: true, prior: priorState(opts.stateDir) }, join(opts.stateDir, "preview.json")));
  if (preview.checkFailures.length) throw new CheckError("preview", preview.checkFailures);
  const changes = preview.resources.filter((r) => r.custom && r.step.op !== "same");
  log(`preview: ${changes.length ? changes.map((r) => `${r.step.op} ${r.name}`).join(", ") : "no changes"}`);
  let plan = await timed("record", () => recordPlan({ ...req, prior: priorState(opts.stateDir) }, planFile));
  log(`recorded ${plan.resources.length} resources from ${plan.program}`);
  const droplet = dropletOf(plan);
  const booted = await timed("boot", () => vm.boot({ image, userData: droplet.userData, hostname: droplet.name,
    memoryMb: droplet.memoryMb, vcpus: droplet.vcpus }));
  log(`droplet VM ${booted} (${vm.memoryMb} MB, ${vm.vcpus} vCPUs, qemu PID ${vm.qemuPid}): ${vm.sshCommand}`);
  await timed("tunnel", async () => {
    // The private CA's bundle: pebble's directory certificate (certbot) and the root of what it issues (the smoke timer).
    await vm.installFile(GUEST_ACME_CA, [services.acme.caCertPath, services.acme.rootPemPath].map((f) => `${readFileSync(f, "utf8").trimEnd()}\n`).join(""));
    // The domain's A record, seen from the droplet itself (the smoke timer calls https://<domain>): its own nginx.
    await vm.sshOk(`grep -q ' ${DOMAIN}$' /etc/hosts || echo '127.0.0.1 ${DOMAIN}' | sudo -n tee -a /etc/hosts >/dev/null`);
    const alerts = services.alerts ? [portOf(services.alerts.receiverUrl), services.alerts.smtpPort] : [];
    await vm.startTunnel([portOf(services.registry), portOf(services.acme.directoryUrl), portOf(services.upstreamUrl), ...alerts],
      `http://${services.registry}/v2/`);
  });
  // What the program installs with apt-get after boot (the monitoring stack) comes from the droplet's mirror.
  if (plan.resources.some((r) => r.urn.includes(`${MONITORING_STACK_TYPE}$`))) {
    await timed("mirror", async () => provideAptMirror(vm, await ensureAptMirror(MONITORING_PACKAGES, image, log)));
  }
  const steps: Step[] = [];
  // The engine hands the image's real outputs (repoDigest) to its dependents once it ran; the rehearsal runs the
  // image steps first, then re-records against the new state (the image is "same" now, its digest known).
  steps.push(...await timed("image", () => executePlan(plan, { stateDir: opts.stateDir, log, types: [IMAGE], skipDeletes: true })));
  plan = await timed("record2", () => recordPlan({ ...req, prior: priorState(opts.stateDir) }, planFile));
  steps.push(...await timed("execute", () => executePlan(plan, { stateDir: opts.stateDir, log })));

  const token = (opts.secrets?.apiKeys ? splitList(opts.secrets.apiKeys)[0] : undefined) ?? rehearsalSecrets(opts.stateDir).apiKey;
  const url = `https://${DOMAIN}`;
  const check = await timed("check", () => checkEndpoint(url, services, vm, token));
  log(`MCP over ${url}: ${check.tools.length} tools; ${check.called} answered`);
  return { url, token, plan, steps, services, vm, timings, check };
}

/** https://<domain> as the rehearsal's clients see it: the name → 127.0.0.1, ports 443/80 → the VM's forwards. */
export function publicFetch(services: ServicesInfo, vm: DropletVm) {
  return publicClient(DOMAIN, readFileSync(services.acme.rootPemPath, "utf8"), { 443: vm.ports.https, 80: vm.ports.http });
}

/** initialize + tools/list + one tool call over the public HTTPS endpoint. */
export async function checkEndpoint(url: string, services: ServicesInfo, vm: DropletVm, token: string): Promise<RehearsalResult["check"]> {
  const pf = publicFetch(services, vm);
  try {
    const s = await connectMcp(url, pf.fetch, token);
    try {
      const tools = (await s.client.listTools()).tools.map((t) => t.name);
      // One server: search_notes; several behind the gateway: the first server's <name>__search_notes.
      const called = tools.find((t) => t === "search_notes" || t.endsWith("__search_notes")) ?? "search_notes";
      const answer = toolText(await s.client.callTool({ name: called, arguments: { query: "rehearsal", limit: 1 } }));
      return { tools, called, answer };
    } finally { await s.close(); }
  } finally { await pf.close(); }
}

/**
 * `--destroy`: the recorded delete scripts (dependents first) while the droplet runs, then the droplet VM, the
 * images this instance built, its services and its state directory go away. Touches nothing of another instance.
 */
export async function destroy(opts: { stateDir: string; log?: (l: string) => void }): Promise<void> {
  const log = opts.log ?? (() => undefined);
  if (!existsSync(opts.stateDir)) return;
  const planFile = join(opts.stateDir, "plan.json");
  const planText = existsSync(planFile) ? readFileSync(planFile, "utf8") : "";
  const vm = DropletVm.existing(opts.stateDir);
  try {
    if (vm?.running) await destroyAll({ stateDir: opts.stateDir, log });
    else log("the droplet VM is not running: its delete scripts are skipped (the droplet and its disk are deleted)");
  } finally {
    // Deleting the droplet takes its containers, volumes, nginx and users along (the site's teardown is deletedWith
    // the droplet for just that reason): the VM and its disk go.
    await vm?.destroy();
    await removeImages(planText);
    await stopServices(opts.stateDir);
    rmSync(opts.stateDir, { recursive: true, force: true });
  }
}

/**
 * The images this instance built and pushed: every tag and repo digest in its own registry's namespace, removed by
 * name. Never by image ID: another instance's build of the same sources has the same ID under its own names, and
 * `docker rmi -f ID` would untag those too; by name, docker deletes an image only with its last reference.
 */
async function removeImages(planText: string): Promise<void> {
  if (!planText) return;
  const plan = JSON.parse(planText) as Plan;
  for (const r of plan.resources.filter((x) => x.type === IMAGE)) {
    const repo = String(r.inputs.imageName ?? "").replace(/:[^:/]+$/, "");
    if (!repo) continue;
    const tags = await run("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}", repo]);
    const digests = await run("docker", ["images", "--digests", "--format", "{{.Repository}}@{{.Digest}}", repo]);
    const refs = [...new Set([...tags.stdout.split("\n"), ...digests.stdout.split("\n")].filter((x) => x && !/[:@]<none>$/.test(x)))];
    if (refs.length) await run("docker", ["rmi", ...refs]);
  }
}
