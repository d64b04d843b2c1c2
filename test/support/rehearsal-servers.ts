// The user's rehearsal instance as a stack of several servers (issue 17): the reference server three times as
// `alpha`, `beta` and `gamma` behind the gateway — every one of their four tools has the same name on all three, so
// each name collides three ways and the gateway's `<server>__<tool>` rule must keep them apart. What a test looks
// at on such a droplet: the gateway's and the routes' tools, one server's upstream failing alone, and the memory
// the containers take. The observers return what they saw; assertThreeServers checks it.
import assert from "node:assert/strict";
import { sleep } from "./proc.ts";
import { modeUrl, type StubMode } from "./upstream-stub.ts";
import { openPublic, type PublicSession, type LoopStats, type ServerContainer } from "../../rehearsal/observe.ts";
import { publicFetch } from "../../rehearsal/rehearsal.ts";
import { toolText } from "../../rehearsal/client.ts";
import type { UserInstance } from "../../rehearsal/user-instance.ts";
import type { DropletVm } from "../../rehearsal/vm/droplet-vm.ts";

export const USER_SERVERS = ["alpha", "beta", "gamma"] as const;
export type UserServer = (typeof USER_SERVERS)[number];

/**
 * Stack config `servers` (JSON, as `pulumi config set --path 'servers[0].name' alpha` … stores it), `env` added per
 * server. Every server caches its upstream check 5 s instead of 30 (HEALTH_CACHE_MS: a health change shows sooner)
 * and gives it 15 s instead of 2 (HEALTH_UPSTREAM_TIMEOUT_MS: under TCG on a loaded machine a probe through the
 * tunnel to the upstream stand-in took longer than 2 s once, and the healthy server reported 503).
 */
export function serversConfig(env: Partial<Record<UserServer, Record<string, string>>> = {}): string {
  return JSON.stringify(USER_SERVERS.map((name) => ({ name, env: { HEALTH_CACHE_MS: "5000", HEALTH_UPSTREAM_TIMEOUT_MS: "15000", ...env[name] } })));
}

type Endpoint = ReturnType<UserInstance["endpoint"]>;

export interface GatewayView {
  /** tools/list through https://<domain>/mcp. */
  gatewayTools: string[];
  /** The answer of `<server>__search_notes` called through the gateway, per server (an error's message otherwise). */
  gatewayCalls: Record<string, string>;
  /** tools/list through each server's own route https://<domain>/<server>/mcp. */
  routeTools: Record<string, string[]>;
  /** search_notes through each route. */
  routeCalls: Record<string, string>;
}

const answer = async (s: PublicSession, name: string) => {
  try { return toolText(await s.mcp.client.callTool({ name, arguments: { query: "multi", limit: 1 } })); } catch (e) { return `ERROR ${String(e)}`; }
};

/** One client through the gateway and one per route: what each lists, and one call on each server. */
export async function gatewayView(ep: Endpoint): Promise<GatewayView> {
  const view: GatewayView = { gatewayTools: [], gatewayCalls: {}, routeTools: {}, routeCalls: {} };
  const g = await openPublic(ep);
  try {
    view.gatewayTools = (await g.mcp.client.listTools()).tools.map((t) => t.name).sort();
    for (const s of USER_SERVERS) view.gatewayCalls[s] = await answer(g, `${s}__search_notes`);
  } finally { await g.close(); }
  for (const s of USER_SERVERS) {
    const r = await openPublic(ep, s);
    try {
      view.routeTools[s] = (await r.mcp.client.listTools()).tools.map((t) => t.name).sort();
      view.routeCalls[s] = await answer(r, "search_notes");
    } finally { await r.close(); }
  }
  return view;
}

export interface DropletMemory {
  /** Per container: docker's memory usage (cgroup, MiB) and limit. */
  containers: { name: string; usedMb: number; limitMb: number }[];
  /** /proc/meminfo of the droplet, MiB. */
  memTotalMb: number;
  memAvailableMb: number;
}

const MIB: Record<string, number> = { B: 1 / 1048576, KiB: 1 / 1024, MiB: 1, GiB: 1024 };
const mib = (s: string) => {
  const m = /^([\d.]+)\s*(B|KiB|MiB|GiB)$/.exec(s.trim());
  if (!m) throw new Error(`not a docker memory size: ${JSON.stringify(s)}`);
  return Number(m[1]) * MIB[m[2]!]!;
};

/** `docker stats --no-stream` of the server containers and the droplet's meminfo. */
export async function dropletMemory(vm: DropletVm): Promise<DropletMemory> {
  const stats = (await vm.sshOk("sudo -n docker stats --no-stream --format '{{.Name}}|{{.MemUsage}}' $(sudo -n docker ps -q --filter label=io.selfhosted-mcp.app)",
    { timeoutMs: 120_000 })).stdout.split("\n").filter(Boolean);
  const containers = stats.map((l) => {
    const [name, usage] = l.split("|") as [string, string];
    const [used, limit] = usage.split("/") as [string, string];
    return { name, usedMb: Math.round(mib(used)), limitMb: Math.round(mib(limit)) };
  });
  const meminfo = (await vm.sshOk("cat /proc/meminfo")).stdout;
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(meminfo)?.[1]);
  return { containers, memTotalMb: Math.round(kb("MemTotal") / 1024), memAvailableMb: Math.round(kb("MemAvailable") / 1024) };
}

/** GET https://<domain><path> status and JSON body, through the droplet's forwarded 443. */
async function getJson(ep: Endpoint, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const http = publicFetch(ep.services, ep.vm);
  try {
    const r = await http.fetch(`${ep.url}${path}`);
    const text = await r.text();
    try { return { status: r.status, body: JSON.parse(text) as Record<string, unknown> }; } catch { return { status: r.status, body: { text } }; }
  } finally { await http.close(); }
}

export interface HealthSnapshot { gateway: number; gatewayBody: Record<string, unknown>; routes: Record<string, { status: number; upstream: unknown }> }

async function healthSnapshot(ep: Endpoint): Promise<HealthSnapshot> {
  const gateway = await getJson(ep, "/health");
  const routes: HealthSnapshot["routes"] = {};
  for (const s of USER_SERVERS) {
    const r = await getJson(ep, `/${s}/health`);
    routes[s] = { status: r.status, upstream: (r.body.checks as { upstream?: { status?: string } } | undefined)?.upstream?.status };
  }
  return { gateway: gateway.status, gatewayBody: gateway.body, routes };
}

async function setUpstream(ep: Endpoint, server: UserServer, mode: StubMode): Promise<void> {
  const r = await fetch(modeUrl(ep.services.upstreamUrl, server, mode), { method: "POST" });
  if (r.status !== 204) throw new Error(`the upstream stand-in refused mode ${mode} for ${server}: ${r.status} ${await r.text()}`);
}

/** Polls (every 3 s, at most `timeoutMs`) until `done` holds for a snapshot; returns the last one either way. */
async function pollHealth(ep: Endpoint, done: (h: HealthSnapshot) => boolean, timeoutMs: number): Promise<HealthSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let h = await healthSnapshot(ep);
  while (!done(h) && Date.now() < deadline) { await sleep(3000); h = await healthSnapshot(ep); }
  return h;
}

export interface UpstreamDown {
  /** Health while `server`'s upstream was down (after its cached check expired: HEALTH_CACHE_MS). */
  down: HealthSnapshot;
  /** A weather call on the failing server and on another, through the gateway, meanwhile. */
  failingCall: string;
  otherCall: string;
  /** Health once the upstream answers again. */
  recovered: HealthSnapshot;
}

/** `server`'s upstream alone goes down (the stand-in drops its connections), then comes back. */
export async function oneUpstreamDown(ep: Endpoint, server: UserServer, other: UserServer): Promise<UpstreamDown> {
  await setUpstream(ep, server, "down");
  try {
    // Until the whole picture holds (bounded): the failing server 503, every other 200. A coupling that degrades the
    // others with it never gets there and fails the test at the bound; a slow probe of another server only delays.
    const expected = (h: HealthSnapshot) => USER_SERVERS.every((s) => h.routes[s]?.status === (s === server ? 503 : 200)) && h.gateway === 200;
    const down = await pollHealth(ep, expected, 120_000);
    const g = await openPublic(ep);
    let failingCall: string, otherCall: string;
    try {
      const forecast = async (s: UserServer) => {
        try { return toolText(await g.mcp.client.callTool({ name: `${s}__get_forecast`, arguments: { latitude: 52.5, longitude: 13.4, days: 1 } })); }
        catch (e) { return `ERROR ${String(e)}`; }
      };
      failingCall = await forecast(server);
      otherCall = await forecast(other);
    } finally { await g.close(); }
    await setUpstream(ep, server, "normal");
    const recovered = await pollHealth(ep, (h) => USER_SERVERS.every((s) => h.routes[s]?.status === 200), 120_000);
    return { down, failingCall, otherCall, recovered };
  } finally { await setUpstream(ep, server, "normal").catch(() => undefined); }
}

/** What the e2e observes on the three-server droplet right after its first deploy. */
export interface ThreeServers { view: GatewayView; memory: DropletMemory; upstreamDown: UpstreamDown }

const REFERENCE_TOOLS = ["get_forecast", "get_note", "save_note", "search_notes"];

/**
 * The gateway lists every server's tools under collision-free names and calls each; every route serves its own
 * server; each container stays under its limit with room left for a deploy's second slot (the size rule's budget,
 * infra/render/droplet-size.ts); gamma's upstream down degrades gamma's health only.
 */
export function assertThreeServers({ view, memory, upstreamDown }: ThreeServers, diagnostic: (m: string) => void): void {
  // Gateway: every server's four tools as <server>__<tool> (each bare name exists on all three servers).
  assert.deepEqual(view.gatewayTools, USER_SERVERS.flatMap((s) => REFERENCE_TOOLS.map((n) => `${s}__${n}`)).sort(), "the gateway lists 12 distinct names");
  for (const s of USER_SERVERS) {
    assert.doesNotMatch(view.gatewayCalls[s]!, /^ERROR/, `${s}__search_notes through the gateway`);
    assert.deepEqual(view.routeTools[s], REFERENCE_TOOLS, `/${s}/mcp lists its own tools`);
    assert.doesNotMatch(view.routeCalls[s]!, /^ERROR/, `search_notes on /${s}/mcp`);
  }
  diagnostic(`droplet memory (MiB): ${memory.containers.map((c) => `${c.name} ${c.usedMb}/${c.limitMb}`).join(", ")}; `
    + `total ${memory.containers.reduce((a, c) => a + c.usedMb, 0)}; MemTotal ${memory.memTotalMb}, MemAvailable ${memory.memAvailableMb}`);
  assert.equal(memory.containers.length, USER_SERVERS.length + 1, "three servers and the gateway run");
  for (const c of memory.containers) assert.ok(c.usedMb < c.limitMb, `${c.name} uses ${c.usedMb} of its ${c.limitMb} MiB`);
  const largest = Math.max(...memory.containers.map((c) => c.limitMb));
  assert.ok(memory.memAvailableMb > largest, `room for a deploy's second slot: ${memory.memAvailableMb} MiB available, largest limit ${largest}`);
  // gamma's upstream down: only gamma's health degrades; the gateway still serves (it checks its servers by MCP ping).
  const { down, recovered } = upstreamDown;
  diagnostic(`gamma's upstream down: ${JSON.stringify(down.routes)}, gateway ${down.gateway}; recovered: ${JSON.stringify(recovered.routes)}`);
  assert.equal(down.routes.gamma?.status, 503, "gamma's /health answers 503");
  assert.equal(down.routes.gamma?.upstream, "fail");
  assert.equal(down.routes.alpha?.status, 200, "alpha's health is untouched");
  assert.equal(down.routes.beta?.status, 200, "beta's health is untouched");
  assert.equal(down.gateway, 200, "the gateway's /health stays 200");
  assert.match(upstreamDown.failingCall, /^ERROR/, "gamma's weather tool fails");
  assert.doesNotMatch(upstreamDown.otherCall, /^ERROR/, "alpha's weather tool answers meanwhile");
  assert.equal(recovered.routes.gamma?.status, 200, "gamma recovers once its upstream answers");
}

/** beta's env changed, while a client loop called alpha through the gateway. */
export interface ServerRedeploy {
  ran: string[]; stats: LoopStats; workersBefore: string[]; workersAfter: string[]; ms: number;
  before: ServerContainer[]; after: ServerContainer[];
}

const byApp = (cs: ServerContainer[]) => Object.fromEntries(cs.map((c) => [c.labels["io.selfhosted-mcp.app"]!, c]));

/**
 * Exactly beta's deploy ran, in place; zero failed calls to alpha; nginx kept its workers (no reload: a reload closes
 * idle keep-alive client connections, and a request racing that close fails, as one of 217 did in CI); beta runs in a
 * new container with the new value; the gateway's, alpha's and gamma's containers are the same ones, never restarted.
 */
export function assertOneServerRedeployed(r: ServerRedeploy, diagnostic: (m: string) => void): void {
  diagnostic(`redeploy of beta: ${r.ms} ms, ${r.stats.calls} calls to alpha`);
  assert.deepEqual(r.ran, ["update mcp-beta-deploy-deploy"], "beta's deploy alone, in place");
  assert.deepEqual(r.stats.failures, [], `failed calls during the redeploy (of ${r.stats.calls})`);
  assert.ok(r.stats.calls >= 10, `the loop kept calling (${r.stats.calls} calls)`);
  assert.deepEqual(r.workersAfter, r.workersBefore, "nginx kept its workers (beta's live.sock was re-pointed, no reload)");
  const [before, after] = [byApp(r.before), byApp(r.after)];
  for (const app of ["mcp", "alpha", "gamma"]) {
    assert.equal(after[app]?.id, before[app]?.id, `${app}: the same container`);
    assert.equal(after[app]?.startedAt, before[app]?.startedAt, `${app}: not restarted`);
  }
  assert.notEqual(after.beta?.id, before.beta?.id, "beta runs in a new container");
  assert.ok(after.beta?.env.includes("REHEARSAL_REVISION=2"), "with its new env value");
}
