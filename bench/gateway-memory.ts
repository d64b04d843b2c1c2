// Memory of several servers behind the gateway as SelfHostedMcp deploys them (issue 17): three reference server
// containers and the gateway container, each under the run contract with the memory limit the droplet size rule budgets
// (servers: SelfHostedMcp's default memoryMb; gateway: GATEWAY_MEMORY_MB), the gateway reaching each server over its
// unix socket (read-only mount of the socket directory) and authenticating clients with OAuth (JWTs of a local JWKS).
// Traffic: --sessions MCP client sessions through the gateway, --rounds rounds in which every session calls
// search_notes on every server at once, after 20 save_note per server. Reports per container: RSS of PID 1 (VmRSS
// now, VmHWM peak) and the cgroup charge (now, peak; cgroup.ts), idle after start and after the traffic.
// Not a timed test; results: BENCHMARKS.md "Several servers behind the gateway".
// Usage: node bench/gateway-memory.ts [--sessions 20 (1-1000, one token subject each)] [--rounds 10]
import { parseArgs } from "node:util";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { runOk } from "../test/support/proc.ts";
import { buildGatewayImage, buildServerImage, inspect, removeContainers, startContainer, uniqueName, type StartedContainer } from "../test/support/server-image.ts";
import { startIssuer } from "../test/server/jwks.ts";
import { connect, call } from "../test/server/mcp-client.ts";
import { upstreamVar } from "../contract/gateway-env.ts";
import { DEFAULTS } from "../infra/defaults.ts";
import { GATEWAY_MEMORY_MB } from "../infra/components/selfhosted-mcp.ts";
import { cgroupMemory } from "./cgroup.ts";

const { values } = parseArgs({ options: { sessions: { type: "string", default: "20" }, rounds: { type: "string", default: "10" } } });
const [sessions, rounds] = [Number(values.sessions), Number(values.rounds)];
if (!(sessions >= 1 && sessions <= 1000) || !(rounds >= 1 && rounds <= 1000)) throw new Error("--sessions 1-1000, --rounds 1-1000");

const SERVERS = ["alpha", "beta", "gamma"];
const token = (name: string) => `bench-gateway-token-${name}-${process.pid}-0123456789`;
const [serverImage, gatewayImage] = [await buildServerImage(), await buildGatewayImage()];
const issuer = await startIssuer("unused");
const work = mkdtempSync(join(tmpdir(), "bench-gateway-memory-"));
chmodSync(work, 0o755);
const started: StartedContainer[] = [];

type Row = { container: string; limit_mb: number; rss_mb: number; hwm_mb: number; cgroup_mb: number; cgroup_peak_mb: number };
async function measure(c: StartedContainer): Promise<Row> {
  const status = (await runOk("docker", ["exec", c.name, "cat", "/proc/1/status"])).stdout;
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  const mem = cgroupMemory((await inspect<{ Id: string }>(c.name)).Id);
  const mb = (bytes: number | undefined) => (bytes === undefined ? NaN : Math.round(bytes / 1048576));
  return { container: c.name.split("-")[1]!, limit_mb: c.spec.memoryMb ?? 0, rss_mb: Math.round(kb("VmRSS") / 1024), hwm_mb: Math.round(kb("VmHWM") / 1024),
    cgroup_mb: mb(mem.current), cgroup_peak_mb: mb(mem.peak) };
}

const tables: [string, Row[]][] = [];
try {
  for (const name of SERVERS) {
    const socketDir = join(work, `${name}.sockets`);
    mkdirSync(socketDir, { mode: 0o777 });
    chmodSync(socketDir, 0o777);
    started.push(await startContainer(serverImage, { dir: work, name: uniqueName(`benchgw-${name}`),
      env: { AUTH_MODE: "api-key", API_KEYS: token(name), LOG_LEVEL: "warn" }, spec: { memoryMb: DEFAULTS.memoryMb, socketDir } }));
  }
  const gw = await startContainer(gatewayImage, { dir: work, name: uniqueName("benchgw-gateway"), env: {
    AUTH_MODE: "oauth", OAUTH_ISSUER: issuer.issuer, OAUTH_JWKS_URL: issuer.jwksUrl, OAUTH_METADATA_CHECK: "off", LOG_LEVEL: "warn",
    UPSTREAMS: SERVERS.join(","),
    ...Object.fromEntries(SERVERS.flatMap((s) => [[upstreamVar(s, "SOCKET"), `/run/upstreams/${s}/mcp.sock`], [upstreamVar(s, "TOKEN"), token(s)]])),
  }, spec: { memoryMb: GATEWAY_MEMORY_MB, readOnlyDirs: SERVERS.map((s) => ({ source: join(work, `${s}.sockets`), target: `/run/upstreams/${s}` })) } });
  started.push(gw);
  tables.push(["idle, after start", await Promise.all(started.map(measure))]);

  // One user (token subject) per session: the gateway bounds sessions per credential (MAX_SESSIONS_PER_CREDENTIAL, 32).
  const scope = SERVERS.map((s) => `mcp:server:${s}`).join(" ");
  const jwts = await Promise.all(Array.from({ length: sessions }, (_, i) => issuer.sign({ aud: `${gw.url}/mcp`, scope, sub: `bench-user-${i}`, expiresIn: "1h" })));
  const clients = await Promise.all(jwts.map((jwt) => connect(`${gw.url}/mcp`, { authorization: `Bearer ${jwt}` })));
  try {
    for (const s of SERVERS) {
      for (let i = 0; i < 20; i++) {
        const r = await call(clients[0]!, `${s}__save_note`, { request_id: `bench-${s}-${i}`, title: `bench ${i}`, body: "x".repeat(2000), tags: ["bench"] });
        if (r.isError) throw new Error(`save_note on ${s} failed: ${JSON.stringify(r.content).slice(0, 300)}`);
      }
    }
    let failed = 0;
    let firstError: string | undefined;
    const t0 = performance.now();
    for (let round = 0; round < rounds; round++) {
      const results = await Promise.all(clients.flatMap((c) => SERVERS.map((s) => call(c, `${s}__search_notes`, { query: "bench", limit: 20 }, 60_000))));
      const errors = results.filter((r) => r.isError);
      failed += errors.length;
      if (errors[0] && !firstError) firstError = JSON.stringify(errors[0].content).slice(0, 300);
    }
    const calls = sessions * rounds * SERVERS.length;
    console.log(`${calls} calls through the gateway (${sessions} sessions x ${rounds} rounds x ${SERVERS.length} servers), ${failed} failed, ${((performance.now() - t0) / 1000).toFixed(1)} s${firstError ? `; first failure: ${firstError}` : ""}`);
    tables.push([`after ${calls} calls, ${sessions} sessions open`, await Promise.all(started.map(measure))]);
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
  }
} finally {
  await removeContainers(started.map((c) => c.name), started.map((c) => c.volume));
  await issuer.stop();
  rmSync(work, { recursive: true, force: true });
}

console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
for (const [title, rows] of tables) {
  console.log(`\n${title}\n| container | --memory | RSS (VmRSS) | peak RSS (VmHWM) | cgroup charge | cgroup peak |\n|---|---:|---:|---:|---:|---:|`);
  for (const r of rows) console.log(`| ${r.container} | ${r.limit_mb} MB | ${r.rss_mb} MB | ${r.hwm_mb} MB | ${r.cgroup_mb} MB | ${r.cgroup_peak_mb} MB |`);
  const sum = (k: keyof Row) => rows.reduce((n, r) => n + (r[k] as number), 0);
  console.log(`| **all four** | ${sum("limit_mb")} MB | ${sum("rss_mb")} MB | ${sum("hwm_mb")} MB | ${sum("cgroup_mb")} MB | ${sum("cgroup_peak_mb")} MB |`);
}
