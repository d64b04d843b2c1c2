// `node bench/switch.ts`: what a blue/green switch costs a client that keeps calling through nginx. Two ways to switch:
//   reload — rewrite the upstream include to the other slot's TCP port, `nginx -s reload`;
//   socket — re-point a live.sock symlink at the other slot's unix socket (what McpDeployment does; no reload;
//            upstream connections reused for at most 1 s, so --drain must exceed 1 s).
// Both keep up to 16 upstream connections per worker.
// Per mode: two upstream processes (blue, green), C client loops with keep-alive POSTing back to back (a pause of
// --gap ms), N switches --every ms apart; each switch also stops and restarts the slot it left, as a deploy does.
// Reports requests, failed requests (transport errors and non-200s) and which slot answered.
// Options: --switches N (20) --every MS (300) --gap MS (2) --clients C (2) --drain MS (2000: how long the left slot
//          keeps running after the switch; the deploy's drainSeconds) --json FILE
import { parseArgs } from "node:util";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync, symlinkSync, renameSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, fetch } from "undici";
import { renderUpstreamInclude } from "../nginx/index.ts";
import { UPSTREAM_REUSE_SECONDS } from "../infra/render/deployment-plan.ts";
import { run, runOk, startDaemon, sleep, waitFor, freePort } from "../test/support/proc.ts";

const { values } = parseArgs({ options: {
  switches: { type: "string", default: "20" }, every: { type: "string", default: "300" }, gap: { type: "string", default: "2" },
  clients: { type: "string", default: "2" }, drain: { type: "string", default: "2000" }, json: { type: "string" },
} });
const [switches, everyMs, gapMs, clients, drainMs] = [values.switches, values.every, values.gap, values.clients, values.drain]
  .map(Number) as [number, number, number, number, number];
if (![switches, everyMs, gapMs, clients, drainMs].every((n) => Number.isInteger(n) && n >= 0) || switches < 1 || clients < 1) {
  throw new Error("--switches, --every, --gap, --clients and --drain take whole numbers (switches and clients at least 1)");
}

const UPSTREAM = `
const http = require("node:http"), fs = require("node:fs");
const [where, name] = process.argv.slice(1);
const s = http.createServer((req, res) => { req.resume(); req.on("end", () => res.end(name)); });
s.keepAliveTimeout = 65000;
if (where.startsWith("/")) { try { fs.unlinkSync(where); } catch {} s.listen(where, () => fs.chmodSync(where, 0o666)); }
else s.listen(Number(where), "127.0.0.1");
process.on("SIGTERM", () => { s.close(() => process.exit(0)); s.closeIdleConnections(); });`;

type Mode = "reload" | "socket";
interface Result { mode: Mode; switches: number; requests: number; failed: number; errors: Record<string, number>; answeredBy: Record<string, number> }

async function measure(mode: Mode): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), `bench-switch-${mode}-`));
  chmodSync(dir, 0o755); // nginx's workers (nobody) traverse it to the sockets
  const sockets = join(dir, "sockets");
  mkdirSync(sockets, { mode: 0o755 });
  const [port, bluePort, greenPort] = [await freePort(), await freePort(), await freePort()];
  const slot = { blue: mode === "socket" ? join(sockets, "blue.sock") : String(bluePort), green: mode === "socket" ? join(sockets, "green.sock") : String(greenPort) };
  const include = join(dir, "upstream.conf");
  const point = (s: "blue" | "green") => {
    if (mode === "socket") { symlinkSync(`${s}.sock`, join(sockets, "live.tmp")); renameSync(join(sockets, "live.tmp"), join(sockets, "live.sock")); return; }
    writeFileSync(include, renderUpstreamInclude({ port: s === "blue" ? bluePort : greenPort }));
  };
  if (mode === "socket") writeFileSync(include, renderUpstreamInclude({ socket: join(sockets, "live.sock") }));
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, `worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log notice;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  upstream up { include ${include}; keepalive 16; ${mode === "socket" ? `keepalive_time ${UPSTREAM_REUSE_SECONDS}s; keepalive_timeout ${UPSTREAM_REUSE_SECONDS}s;` : ""} }
  server { listen 127.0.0.1:${port}; keepalive_timeout 75s;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
`);
  const procs: Record<string, ChildProcess> = {};
  const startSlot = async (s: "blue" | "green") => {
    procs[s] = spawn(process.execPath, ["-e", UPSTREAM, slot[s], s], { stdio: "ignore" });
    await waitFor(`${s} upstream`, async () => mode === "socket" ? existsSync(slot[s])
      : (await run("curl", ["-fsS", "-o", "/dev/null", `http://127.0.0.1:${slot[s]}/`])).code === 0, { timeoutMs: 10_000, intervalMs: 20 });
  };
  const stopSlot = (s: "blue" | "green") => new Promise<void>((r) => { const p = procs[s]!; p.once("exit", () => r()); p.kill("SIGTERM"); });
  let nginx: ReturnType<typeof startDaemon> | undefined;
  let running = true;
  try {
    await startSlot("blue");
    point("blue");
    nginx = startDaemon("nginx", ["-p", dir, "-c", conf, "-g", "daemon off;"], join(dir, "nginx.out"));
    await waitFor("nginx", async () => (await run("curl", ["-fsS", "-o", "/dev/null", "-X", "POST", `http://127.0.0.1:${port}/`])).code === 0, { timeoutMs: 10_000, intervalMs: 50 });

    const result: Result = { mode, switches, requests: 0, failed: 0, errors: {}, answeredBy: {} };
    const loops = Array.from({ length: clients }, async () => {
      const agent = new Agent({ keepAliveTimeout: 60_000 });
      // Bounded; `running` ends the loops once the switches are done (each takes every + start-up + drain).
      const deadline = Date.now() + switches * (everyMs + drainMs + 10_000) + 60_000;
      while (running && Date.now() < deadline) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}", dispatcher: agent });
          const text = await r.text();
          if (r.status === 200) result.answeredBy[text] = (result.answeredBy[text] ?? 0) + 1;
          else { result.failed++; result.errors[`HTTP ${r.status}`] = (result.errors[`HTTP ${r.status}`] ?? 0) + 1; }
        } catch (e) {
          const code = String((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);
          result.failed++; result.errors[code] = (result.errors[code] ?? 0) + 1;
        }
        result.requests++;
        if (gapMs) await sleep(gapMs);
      }
      await agent.close();
    });

    let live: "blue" | "green" = "blue";
    for (let i = 0; i < switches; i++) {
      await sleep(everyMs);
      const next: "blue" | "green" = live === "blue" ? "green" : "blue";
      await startSlot(next);
      point(next);
      if (mode === "reload") await runOk("nginx", ["-p", dir, "-c", conf, "-s", "reload"]);
      await sleep(drainMs);
      await stopSlot(live);
      live = next;
    }
    running = false;
    await Promise.all(loops);
    return result;
  } finally {
    // Also on failure: nothing of this run stays behind (client loops, nginx, upstream processes, the temp directory).
    running = false;
    await nginx?.stop();
    for (const p of Object.values(procs)) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
for (const mode of ["reload", "socket"] as const) {
  const r = await measure(mode);
  results.push(r);
  console.log(`${mode.padEnd(6)}  ${r.switches} switches  ${r.requests} requests  ${r.failed} failed  ${JSON.stringify(r.errors)}  answered by ${JSON.stringify(r.answeredBy)}`);
}
if (values.json) writeFileSync(values.json, JSON.stringify({ switches, everyMs, gapMs, clients, drainMs, results }, null, 2));
