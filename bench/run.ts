// `npm run bench`: tools/list and tools/call throughput, latency and CPU per call of the reference server against the
// bare SDK, in one run; the report ends with the issue-18 goal ratios (met / MISSED) — the regression guard.
// Contenders are measured alternately (round-robin, order rotated every round) at each concurrency, so slow drift
// in machine load spreads over all of them; the reported numbers are medians over the rounds.
// Options: --rounds N (3) --duration S per cell (5) --concurrency 1,10,50 --methods list,call --warmup S (2) --json FILE
//          --profile DIR (CPU profiles of the baseline and reference servers: summarize with bench/profile-summary.ts)
//          --node-options=... (NODE_OPTIONS for every Node contender alike, e.g. --node-options=--max-old-space-size=96)
//          --compiled (run (b) and (c) from tsc output, as the image does, instead of type-stripped server/src/*.ts)
//          --upstream socket|tcp (how nginx reaches (c); default socket, as deployed)
//          --contenders echo,a,b,c,b2 (measure only these; (a) is always measured: the ratios need it)
//          --pin auto|off (auto: contenders on the last CPU, wrk on the others, when there are 2+; bench/cpu-pin.ts)
//          --candidate PATH (another server main.ts, e.g. a patched copy, measured direct as (b′): before/after)
import { parseArgs } from "node:util";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { run } from "../test/support/proc.ts";
import { runWrk } from "./wrk.ts";
import { cpuMs, type Memory } from "./processes.ts";
import { startContenders, compileServer, METHODS, type Contender, type Method } from "./contenders.ts";
import { planPinning, pinProcesses } from "./cpu-pin.ts";
import { summarize, markdownReport, type Measured } from "./report.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    concurrency: { type: "string", default: "1,10,50" },
    methods: { type: "string", default: METHODS.join(",") },
    contenders: { type: "string" },
    warmup: { type: "string", default: "2" },
    profile: { type: "string" },
    json: { type: "string" },
    "node-options": { type: "string" },
    upstream: { type: "string", default: "socket" },
    candidate: { type: "string" },
    compiled: { type: "boolean", default: false },
    pin: { type: "string", default: "auto" },
  },
});
const rounds = Number(values.rounds);
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const concurrencies = values.concurrency.split(",").map(Number);
const methods = values.methods.split(",") as Method[];
if (methods.length === 0 || !methods.every((m) => METHODS.includes(m))) throw new Error(`--methods takes a comma-separated subset of ${METHODS.join(",")} (list = tools/list, call = tools/call)`);
if (![rounds, durationS, warmupS, ...concurrencies].every((n) => Number.isInteger(n) && n >= 0) || rounds < 1 || durationS < 1) {
  throw new Error("--rounds, --duration, --warmup and --concurrency take positive whole numbers (e.g. --concurrency 1,10,50)");
}

const pinning = planPinning(values.pin);
const work = mkdtempSync(join(tmpdir(), "bench-"));
if (values.profile) mkdirSync(values.profile, { recursive: true });
const machine = {
  cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memGb: Math.round(totalmem() / 2 ** 30),
  node: process.version, nginx: (await run("nginx", ["-v"])).stderr.trim(), wrk: (await run("wrk", ["--version"])).stdout.split("\n")[0]!.trim(),
  pinning: pinning ? `contenders (server, nginx) on CPU ${pinning.server}, wrk on CPU ${pinning.load}` : "none (wrk and the contenders share every CPU)",
  loadBefore: loadavg().map((l) => l.toFixed(2)).join(" "), loadAfter: "",
};
const referenceMain = values.compiled ? await compileServer(join(work, "dist")) : undefined;
if (values.upstream !== "socket" && values.upstream !== "tcp") throw new Error("--upstream takes socket or tcp");
const only = values.contenders?.split(",");
const started = await startContenders(work, { profileDir: values.profile, nodeOptions: values["node-options"], candidateMain: values.candidate, referenceMain, upstream: values.upstream });
const measured = (c: Contender) => !only || c.id === "a" || only.includes(c.id);
for (const c of started) if (!measured(c)) await c.stop();
const contenders = started.filter(measured);
if (pinning) for (const c of contenders) { const p = c.cpuPids(); await pinProcesses([p.server, ...p.proxy], pinning.server); }
const results = new Map<string, Measured[]>();
const cell = (c: Contender, method: Method, conc: number) => `${c.id}@${method}@${conc}`;
const maxAnon = new Map<string, Memory>();
try {
  for (const c of contenders) for (const m of methods) await runWrk({ url: c.url, bodyFile: c.bodies[m], token: c.token, host: c.host, connections: 10, durationS: Math.max(1, warmupS), cpus: pinning?.load });
  for (let r = 0; r < rounds; r++) {
    for (const conc of concurrencies) for (const method of methods) {
      const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]!);
      for (const c of order) {
        const pids = c.cpuPids();
        const cpu0 = [cpuMs(pids.server), pids.proxy.reduce((s, p) => s + cpuMs(p), 0)];
        const wrk = await runWrk({ url: c.url, bodyFile: c.bodies[method], token: c.token, host: c.host, connections: conc, durationS, cpus: pinning?.load });
        const res: Measured = { ...wrk, serverCpuMs: cpuMs(pids.server) - cpu0[0]!, proxyCpuMs: pids.proxy.reduce((s, p) => s + cpuMs(p), 0) - cpu0[1]! };
        if (res.bad > 0 || Object.values(res.errors).some((n) => n > 0)) {
          console.error(`! ${c.id} ${method} c=${conc}: ${res.bad} bad answers, errors ${JSON.stringify(res.errors)}; first bad: ${res.first_bad}`);
        }
        results.set(cell(c, method, conc), [...(results.get(cell(c, method, conc)) ?? []), res]);
        const m = c.memoryNow();
        const prev = maxAnon.get(c.id);
        if (!prev || m.anonKb > prev.anonKb) maxAnon.set(c.id, m);
        console.error(`round ${r + 1}/${rounds} c=${conc} ${method} ${c.id}: ${res.rps.toFixed(0)} ok/s p99 ${(res.latency_us.p99 / 1000).toFixed(2)} ms, server CPU ${(1000 * res.serverCpuMs / Math.max(1, res.ok)).toFixed(0)} µs/call`);
      }
    }
  }
  machine.loadAfter = loadavg().map((l) => l.toFixed(2)).join(" ");
  const summary = summarize(contenders, methods, concurrencies, (c, m, conc) => results.get(cell(c, m, conc)) ?? [], (c) => maxAnon.get(c.id));
  const report = markdownReport(summary, { machine, rounds, durationS, methods, concurrencies, nodeOptions: values["node-options"] ?? "", compiled: values.compiled });
  process.stdout.write(report);
  if (values.json) writeFileSync(values.json, JSON.stringify({ machine, rounds, durationS, methods, concurrencies, summary, raw: Object.fromEntries(results) }, null, 2));
} finally {
  for (const c of contenders) await c.stop();
  rmSync(work, { recursive: true, force: true });
}
