// The rehearsal, start to finish, as one function the CLI (rehearse.ts) and the e2e tests share:
//   services (dockerd, registry, pebble) → stack config from them → record the plan (mocks) → boot the local
//   droplet with the recorded user-data → build + push the image → re-record with its real digest (what the
//   engine does once the image's outputs are known) → execute the rest → reach https://<domain> with an MCP client.
// The only rehearsal-specific inputs are stack config values: ACME server + CA bundle, registry address, base
// image, and the SSH endpoint/key of the local droplet.
import { randomBytes } from "node:crypto";
import { readFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensureDockerd } from "../test/support/docker.ts";
import { run } from "../test/support/proc.ts";
import { ensureBaseImage } from "../test/support/base-image.ts";
import { recordPlan, type Plan, type PlanRequest } from "./plan.ts";
import type { StackConfig } from "./engine/config.ts";
import { executePlan, destroyAll, priorState, CheckError, IMAGE, type Step } from "./execute.ts";
import { prepareDroplet, bootDroplet, wipeDroplet, type DropletKeys } from "./droplet.ts";
import { notAppliedSummary } from "./user-data.ts";
import { startServices, stopServices, type ServicesInfo } from "./services.ts";
import { ensureStateDir, readJson, writeJson } from "./state.ts";
import { publicClient, connectMcp, toolText } from "./client.ts";
import { splitList } from "../contract/list.ts";

export const DOMAIN = "mcp.example.test";
export const DROPLET_TYPE = "digitalocean:index/droplet:Droplet";

export interface RehearsalOptions {
  stateDir: string;
  /** Non-secret stack config overrides, keys without the project prefix (values as `pulumi config set` takes them). */
  config?: Record<string, string>;
  /** Extra secret stack config, keys without the project prefix. */
  secrets?: Record<string, string>;
  /** Server env (stack config `env`), merged over the rehearsal's own (UPSTREAM_URL = the local forecast API stand-in). */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface RehearsalResult {
  url: string;
  /** The API key the stack was configured with (print it; it is the rehearsal's own, random). */
  token: string;
  plan: Plan;
  steps: Step[];
  services: ServicesInfo;
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
export function stackConfig(opts: RehearsalOptions, services: ServicesInfo, baseImage: string, keys: DropletKeys): PlanRequest {
  const secrets = rehearsalSecrets(opts.stateDir);
  const plain: Record<string, string> = {
    domain: DOMAIN,
    sshPublicKey: keys.publicKey,
    sshPort: String(keys.sshPort),
    acmeEmail: "ops@example.test",
    acmeServer: services.acme.directoryUrl,
    acmeCaBundle: services.acme.caCertPath,
    registryServer: services.registry,
    createDocr: "false",
    baseImage,
    swapMb: "0", // the "droplet" is this machine: no swap file from the host-ready command
    env: JSON.stringify({ UPSTREAM_URL: services.upstreamUrl, ...opts.env }),
    ...opts.config,
  };
  const secret: Record<string, string> = {
    apiKeys: secrets.apiKey,
    upstreamApiKey: secrets.upstreamApiKey,
    sshPrivateKey: readFileSync(keys.userKeyPath, "utf8"),
    ...opts.secrets,
  };
  // As `pulumi config set` stores them: top-level values are strings; arrays only via `--path` (a tree).
  const config: StackConfig = {
    "digitalocean:token": { value: secrets.doToken, secret: true },
    adminCidrs: { value: ["127.0.0.1/32"] }, // pulumi config set --path 'adminCidrs[0]' 127.0.0.1/32
    nginxListenAddresses: { value: ["127.0.0.1"] }, // the "droplet" is this machine: serve loopback only
  };
  for (const [k, v] of Object.entries(plain)) config[k] = { value: v };
  for (const [k, v] of Object.entries(secret)) config[k] = { value: v, secret: true };
  return { config, mockCloud: { ipv4: "127.0.0.1" } };
}

function userDataOf(plan: Plan): string {
  const droplets = plan.resources.filter((r) => r.type === DROPLET_TYPE);
  if (droplets.length !== 1) throw new Error(`expected exactly one ${DROPLET_TYPE} in the plan, found ${droplets.length}`);
  const ud = droplets[0]!.inputs.userData;
  if (typeof ud !== "string") throw new Error("the droplet has no userData input");
  return ud;
}

export async function rehearse(opts: RehearsalOptions): Promise<RehearsalResult> {
  const log = opts.log ?? (() => undefined);
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try { return await f(); } finally { timings[name] = Date.now() - t; }
  };
  ensureStateDir(opts.stateDir);
  await timed("dockerd", () => ensureDockerd());
  const baseImage = await timed("baseImage", () => ensureBaseImage());
  const services = await timed("services", () => startServices(opts.stateDir, 80));
  log(`registry ${services.registry}, ACME ${services.acme.directoryUrl}`);
  // The droplet's SSH key and port are stack config (the program authorizes the key in the user-data and connects
  // to the port), so they exist before the program is recorded; the same keys then boot the droplet.
  const keys = await prepareDroplet(opts.stateDir);
  const req = stackConfig(opts, services, baseImage, keys);
  const planFile = join(opts.stateDir, "plan.json");

  // `pulumi up` previews first and stops when the preview fails (a provider Check, an unknown where none may be).
  const preview = await timed("preview", () => recordPlan({ ...req, preview: true, prior: priorState(opts.stateDir) }, join(opts.stateDir, "preview.json")));
  if (preview.checkFailures.length) throw new CheckError("preview", preview.checkFailures);
  const changes = preview.resources.filter((r) => r.custom && r.step.op !== "same");
  log(`preview: ${changes.length ? changes.map((r) => `${r.step.op} ${r.name}`).join(", ") : "no changes"}`);
  let plan = await timed("record", () => recordPlan({ ...req, prior: priorState(opts.stateDir) }, planFile));
  log(`recorded ${plan.resources.length} resources from ${plan.program}`);
  const boot = await timed("boot", () => bootDroplet(opts.stateDir, keys, userDataOf(plan)));
  log(`boot: ${notAppliedSummary(boot)}`);
  const steps: Step[] = [];
  // The engine hands the image's real outputs (repoDigest) to its dependents once it ran; the rehearsal runs the
  // image steps first, then re-records against the new state (the image is "same" now, its digest known).
  steps.push(...await timed("image", () => executePlan(plan, { stateDir: opts.stateDir, log, types: [IMAGE], skipDeletes: true })));
  plan = await timed("record2", () => recordPlan({ ...req, prior: priorState(opts.stateDir) }, planFile));
  steps.push(...await timed("execute", () => executePlan(plan, { stateDir: opts.stateDir, log })));

  const token = (opts.secrets?.apiKeys ? splitList(opts.secrets.apiKeys)[0] : undefined) ?? rehearsalSecrets(opts.stateDir).apiKey;
  const url = `https://${DOMAIN}`;
  const check = await timed("check", () => checkEndpoint(url, services, token));
  log(`MCP over ${url}: ${check.tools.length} tools; ${check.called} answered`);
  return { url, token, plan, steps, services, timings, check };
}

/** initialize + tools/list + one tool call over the public HTTPS endpoint. */
export async function checkEndpoint(url: string, services: ServicesInfo, token: string): Promise<RehearsalResult["check"]> {
  const pf = publicClient(DOMAIN, readFileSync(services.acme.rootPemPath, "utf8"));
  try {
    const s = await connectMcp(url, pf.fetch, token);
    try {
      const tools = (await s.client.listTools()).tools.map((t) => t.name);
      const called = "search_notes";
      const answer = toolText(await s.client.callTool({ name: called, arguments: { query: "rehearsal", limit: 1 } }));
      return { tools, called, answer };
    } finally { await s.close(); }
  } finally { await pf.close(); }
}

/** `--destroy`: recorded delete scripts (dependents first), then the droplet and the services go away. */
export async function destroy(opts: { stateDir: string; log?: (l: string) => void }): Promise<string[]> {
  const log = opts.log ?? (() => undefined);
  if (!existsSync(opts.stateDir)) return [];
  const planFile = join(opts.stateDir, "plan.json");
  const planText = existsSync(planFile) ? readFileSync(planFile, "utf8") : "";
  let removed: string[] = [];
  try {
    await destroyAll({ stateDir: opts.stateDir, log });
  } finally {
    // Deleting a droplet takes its containers along; the site's teardown is skipped for just that reason (deletedWith
    // the droplet), so the host-based "droplet" removes them here, before its volumes.
    for (const c of await removeContainers(planText)) log(`removed container ${c}`);
    removed = await wipeDroplet(opts.stateDir, planText);
    for (const r of removed) log(`removed ${r}`);
    await removeImages(planText);
    await stopServices(opts.stateDir);
    rmSync(opts.stateDir, { recursive: true, force: true });
  }
  return removed;
}

/** Containers of the deployment (label io.selfhosted-mcp.app) whose name the recorded plan mentions: removed. */
async function removeContainers(planText: string): Promise<string[]> {
  const ps = await run("docker", ["ps", "-a", "--filter", "label=io.selfhosted-mcp.app", "--format", "{{.Names}}"]);
  const ours = ps.stdout.split("\n").filter((n) => n && planText.includes(n));
  if (ours.length) await run("docker", ["rm", "-f", ...ours]);
  return ours;
}

/** The images the rehearsal built and pulled (tags in the local registry's namespace the plan names). */
async function removeImages(planText: string): Promise<void> {
  if (!planText) return;
  const plan = JSON.parse(planText) as Plan;
  for (const r of plan.resources.filter((x) => x.type === IMAGE)) {
    const repo = String(r.inputs.imageName ?? "").replace(/:[^:/]+$/, "");
    if (!repo) continue;
    const ids = await run("docker", ["images", "-q", "--no-trunc", repo]);
    const digests = await run("docker", ["images", "--digests", "--format", "{{.Repository}}@{{.Digest}}", repo]);
    const refs = [...new Set([...ids.stdout.split("\n"), ...digests.stdout.split("\n")].filter((x) => x && !x.endsWith("@<none>")))];
    if (refs.length) await run("docker", ["rmi", "-f", ...refs]);
  }
}

