// `node bench/attack-nginx.ts [--no-connlimit] [--nginx-default-timeouts] [--connections N] [--seconds S | --probes P
//   --hold-at-least H] [--probe-timeout MS] [--json]`
// Slow-client attack on the rendered nginx site: one address (127.0.0.3) holds N slow connections (half stuck in the
// TLS handshake, half in the HTTP header, each reopened when dropped) while another (127.0.0.2) sends real requests,
// each on a new TLS connection, through nginx to an upstream. Prints the share of real requests that succeeded.
// Two modes: for S seconds (the benchmark: how many requests fit depends on the machine), or exactly P requests, each
// sent only once `ss` shows the attacker holding >= H established connections (the test: independent of speed).
// Must run as root inside a network namespace of its own (the connection limit is an iptables rule there):
//   ip netns add smcp-attack && ip netns exec smcp-attack ip link set lo up &&
//   ip netns exec smcp-attack node bench/attack-nginx.ts; ip netns del smcp-attack
// test/nginx/slow-clients.test.ts runs exactly this in a fresh namespace.
import { parseArgs } from "node:util";
import { createServer } from "node:http";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderConnlimitScript } from "../nginx/index.ts";
import { runOk, run, sleep, waitFor } from "../test/support/proc.ts";
import { startTlsFront, BENCH_DOMAIN } from "./nginx-tls.ts";
import { forkSlowAttack, probe, type ProbeResult } from "./slow-clients.ts";

export interface AttackOptions {
  /** Apply the rendered connection limit (iptables connlimit) in this namespace. */
  connlimit: boolean;
  /** Render nginx's own defaults (60 s header/body/send, 75 s keep-alive) instead of the site's timeouts: the old site. */
  nginxDefaultTimeouts: boolean;
  /** Slow connections the attacker keeps open (the private nginx has worker_connections 512). */
  connections: number;
  /** Attack length in seconds; real requests run during all but the first 2 s (ramp-up). Ignored when `probes` > 0. */
  seconds: number;
  /** Exactly this many real requests (0: as many as fit into `seconds`). */
  probes: number;
  /** With `probes`: each request waits (up to 60 s) until the attacker holds at least this many established connections. */
  holdAtLeast: number;
  /** Per real request: no answer within this many ms is a failure. */
  probeTimeoutMs: number;
  /** Pause between two real requests (one at a time), ms. */
  probeIntervalMs: number;
}

export interface AttackReport {
  options: AttackOptions;
  probes: number;
  succeeded: number;
  successRate: number;
  latencyMs: { p50: number; p99: number; max: number };
  failures: string[];
  attacker: { peakOpen: number; openAtEnd: number; attempts: number; refused: number; dropped: number;
    /** Established connections from the attacker's address (`ss`) just before each real request: fewest, most. */
    heldAtProbe: { min: number; max: number } };
  nginxWorkerRssKbPeak: number;
}

export const ATTACKER = "127.0.0.3";
export const CLIENT = "127.0.0.2";
const NGINX_DEFAULT_TIMEOUTS = { clientHeaderSeconds: 60, clientBodySeconds: 60, sendSeconds: 60, keepaliveSeconds: 75 };

async function workerRssKb(masterPid: number): Promise<number> {
  const kids = (await run("pgrep", ["-P", String(masterPid)])).stdout.trim().split("\n").filter(Boolean);
  let kb = 0;
  for (const pid of kids) {
    try { kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0); } catch { /* exited */ }
  }
  return kb;
}

/** Established TCP connections from `src` to `port` in this network namespace, counted by iproute2's `ss`. */
export async function establishedFrom(src: string, port: number): Promise<number> {
  const r = await runOk("ss", ["-Htn", "state", "established", "src", src, "dport", `= :${port}`]);
  return r.stdout.split("\n").filter((l) => l.trim()).length;
}

const quantile = (xs: number[], q: number) => xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]! : NaN;

export async function runAttack(o: AttackOptions): Promise<AttackReport> {
  const upstream = createServer((req, res) => {
    req.resume();
    req.once("end", () => { res.writeHead(200, { "content-type": "application/json" }); res.end('{"jsonrpc":"2.0","id":1,"result":{}}'); });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  const front = await startTlsFront({ port: (upstream.address() as { port: number }).port },
    { limits: {}, ...(o.nginxDefaultTimeouts ? { timeouts: NGINX_DEFAULT_TIMEOUTS } : {}) });
  const work = mkdtempSync(join(tmpdir(), "attack-nginx-"));
  const target = { host: "127.0.0.1", port: front.port, servername: BENCH_DOMAIN };
  let attack: ReturnType<typeof forkSlowAttack> | undefined;
  try {
    if (o.connlimit) {
      writeFileSync(join(work, "connlimit.sh"), renderConnlimitScript({ ports: [front.port], ipv6: false }));
      await runOk("sh", [join(work, "connlimit.sh")]);
    }
    attack = forkSlowAttack({ ...target, localAddress: ATTACKER, connections: o.connections });
    const results: ProbeResult[] = [];
    const held: number[] = [];
    let rssPeak = 0;
    const real = async () => {
      results.push(await probe({ ...target, localAddress: CLIENT, path: "/mcp", body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', expect: 200, timeoutMs: o.probeTimeoutMs }));
      rssPeak = Math.max(rssPeak, await workerRssKb(front.pid()));
      await sleep(o.probeIntervalMs);
    };
    if (o.probes > 0) {
      for (let i = 0; i < o.probes; i++) {
        held.push(await waitFor(`the attacker to hold >= ${o.holdAtLeast} connections`, async () => {
          const n = await establishedFrom(ATTACKER, front.port);
          return n >= o.holdAtLeast && n;
        }, { timeoutMs: 60_000, intervalMs: 100 }));
        await real();
      }
      // nginx's client_header_timeout must have dropped slow connections (the reconnecting attacker was still at it).
      await waitFor("nginx to drop a slow connection", async () => (await attack!.stats()).dropped > 0, { timeoutMs: 120_000, intervalMs: 500 });
    } else {
      await sleep(2000); // ramp-up
      const deadline = Date.now() + (o.seconds - 2) * 1000;
      while (Date.now() < deadline) { held.push(await establishedFrom(ATTACKER, front.port)); await real(); }
    }
    const a = await attack.stop();
    attack = undefined;
    const ok = results.filter((r) => r.ok);
    const ms = ok.map((r) => r.ms);
    return {
      options: o, probes: results.length, succeeded: ok.length, successRate: ok.length / Math.max(1, results.length),
      latencyMs: { p50: Math.round(quantile(ms, 0.5)), p99: Math.round(quantile(ms, 0.99)), max: Math.round(Math.max(0, ...ms)) },
      failures: [...new Set(results.filter((r) => !r.ok).map((r) => r.detail))].slice(0, 5),
      attacker: { peakOpen: a.peak, openAtEnd: a.open, attempts: a.attempts, refused: a.refused, dropped: a.dropped,
        heldAtProbe: { min: Math.min(...held), max: Math.max(...held) } },
      nginxWorkerRssKbPeak: rssPeak,
    };
  } finally {
    await attack?.stop().catch(() => {});
    await front.stop();
    await new Promise((r) => upstream.close(r));
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: {
    "no-connlimit": { type: "boolean", default: false }, "nginx-default-timeouts": { type: "boolean", default: false },
    connections: { type: "string", default: "600" }, seconds: { type: "string", default: "30" },
    "probe-interval": { type: "string", default: "100" }, json: { type: "boolean", default: false },
    probes: { type: "string", default: "0" }, "hold-at-least": { type: "string", default: "1" }, "probe-timeout": { type: "string", default: "5000" },
  } });
  const n = (k: "connections" | "seconds" | "probe-interval" | "probes" | "hold-at-least" | "probe-timeout", min: number, max: number) => {
    const v = Number(values[k]);
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${k} must be a whole number from ${min} to ${max} (got ${values[k]})`);
    return v;
  };
  const report = await runAttack({
    connlimit: !values["no-connlimit"], nginxDefaultTimeouts: values["nginx-default-timeouts"],
    connections: n("connections", 1, 5000), seconds: n("seconds", 5, 600), probeIntervalMs: n("probe-interval", 0, 10_000),
    probes: n("probes", 0, 10_000), holdAtLeast: n("hold-at-least", 1, 5000), probeTimeoutMs: n("probe-timeout", 100, 120_000),
  });
  console.log(values.json ? JSON.stringify(report) : JSON.stringify(report, null, 2));
}
