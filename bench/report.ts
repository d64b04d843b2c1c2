// Turns per-round measurements into medians, ratios to the bare-SDK baseline and target checks, as Markdown.
// Two views of throughput: the measured ok req/s (sensitive to whatever else runs on the machine) and the server's
// CPU time per call from /proc (robust to contention): on a dedicated core, a single-threaded Node server's
// throughput is 1 / (CPU per call), so baseline CPU ÷ contender CPU is the throughput ratio without the noise.
import type { WrkResult } from "./wrk.ts";
import type { Contender, Method } from "./contenders.ts";
import type { Memory } from "./processes.ts";

/**
 * Issue 18's goals, as ratios to the bare SDK (a) in the same run: (b) direct at most half its CPU per call on every
 * method and concurrency, and at least twice its measured throughput at c ≥ 10; (c) via nginx + TLS at least 1.5×
 * its measured throughput; p99 at most 1× for (b) and (c) everywhere. RSS: issue 8's bound on peak RSS.
 */
export const TARGETS = { directCpuRatio: 0.5, directThroughput: 2, directThroughputFromConc: 10, proxiedThroughput: 1.5, p99Ratio: 1, rssMb: 120 };

const METHOD_NAMES: Record<Method, string> = { list: "tools/list", call: "tools/call" };

export type Measured = WrkResult & { serverCpuMs: number; proxyCpuMs: number };

export interface CellSummary {
  rps: number; p50: number; p95: number; p99: number; bad: number; errors: number; runs: number;
  /** Server CPU µs per ok call, pooled over the rounds; proxy = nginx master + workers. */
  cpuUs: number; proxyCpuUs: number;
}
export interface Summary {
  contenders: Array<{
    id: string; label: string; peakRssMb: number; nginxRssMb?: number; logBytes: number;
    /** Per method, per concurrency. */
    cells: Partial<Record<Method, Record<number, CellSummary>>>;
    /** The largest private (anonymous) RSS seen after a cell, and the file-backed RSS (mapped node binary) then. */
    anonMb: number; fileMb: number;
  }>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function cellOf(rs: Measured[]): CellSummary {
  const ok = Math.max(1, sum(rs.map((r) => r.ok)));
  return {
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.latency_us.p50)) / 1000,
    p95: median(rs.map((r) => r.latency_us.p95)) / 1000,
    p99: median(rs.map((r) => r.latency_us.p99)) / 1000,
    bad: sum(rs.map((r) => r.bad)),
    errors: sum(rs.map((r) => sum(Object.values(r.errors)))),
    runs: rs.length,
    cpuUs: (1000 * sum(rs.map((r) => r.serverCpuMs))) / ok,
    proxyCpuUs: (1000 * sum(rs.map((r) => r.proxyCpuMs))) / ok,
  };
}

export function summarize(contenders: Contender[], methods: Method[], concurrencies: number[], get: (c: Contender, m: Method, conc: number) => Measured[],
  sampled: (c: Contender) => Memory | undefined): Summary {
  return {
    contenders: contenders.map((c) => {
      const rss = c.peakRss();
      const cells: Summary["contenders"][number]["cells"] = {};
      for (const m of methods) cells[m] = Object.fromEntries(concurrencies.map((conc) => [conc, cellOf(get(c, m, conc))]));
      return {
        id: c.id, label: c.label, peakRssMb: rss.serverKb / 1024, logBytes: c.logBytes(), cells,
        anonMb: (sampled(c)?.anonKb ?? NaN) / 1024, fileMb: (sampled(c)?.fileKb ?? NaN) / 1024,
        ...(rss.nginxKb !== undefined ? { nginxRssMb: rss.nginxKb / 1024 } : {}),
      };
    }),
  };
}

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");
const mark = (ok: boolean) => (ok ? "met" : "**MISSED**");

type ReportMeta = { machine: Record<string, string | number>; rounds: number; durationS: number; methods: Method[]; concurrencies: number[]; nodeOptions: string; compiled: boolean };

export function markdownReport(s: Summary, meta: ReportMeta): string {
  const base = s.contenders.find((c) => c.id === "a")!;
  const out: string[] = [];
  out.push(`Machine: ${meta.machine.cpus} × ${meta.machine.cpuModel}, ${meta.machine.memGb} GB; Node ${meta.machine.node}; ${meta.machine.nginx}; ${meta.machine.wrk}.`);
  out.push(`CPU pinning: ${meta.machine.pinning}.`);
  out.push(`Load average (1/5/15 min) before: ${meta.machine.loadBefore}, after: ${meta.machine.loadAfter}.`);
  out.push(`${meta.rounds} rounds × ${meta.durationS} s per cell, contenders alternated; medians over rounds. NODE_OPTIONS: ${meta.nodeOptions ? `\`${meta.nodeOptions}\`` : "(none)"}. Reference server run as ${meta.compiled ? "tsc output (as in the image)" : "type-stripped server/src/*.ts"}.`, "");
  out.push("| contender | method | conc. | ok req/s | ×baseline | p50 ms | p95 ms | p99 ms | p99 ×baseline | server CPU µs/call | CPU ×baseline | nginx CPU µs/call | bad/errors |");
  out.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const m of meta.methods) {
    for (const c of s.contenders) {
      for (const conc of meta.concurrencies) {
        const x = c.cells[m]![conc]!;
        const b = base.cells[m]![conc]!;
        out.push(`| ${c.label} | ${METHOD_NAMES[m]} | ${conc} | ${f(x.rps)} | ${f(x.rps / b.rps, 2)} | ${f(x.p50, 2)} | ${f(x.p95, 2)} | ${f(x.p99, 2)} | ${f(x.p99 / b.p99, 2)} | ${f(x.cpuUs)} | ${f(x.cpuUs / b.cpuUs, 2)} | ${x.proxyCpuUs ? f(x.proxyCpuUs) : "—"} | ${x.bad}/${x.errors} |`);
      }
    }
  }
  out.push("", "| contender | peak RSS (VmHWM) | of which anon / file-backed (at max anon) | nginx master+workers | log output |", "|---|---:|---:|---:|---:|");
  for (const c of s.contenders) out.push(`| ${c.label} | ${f(c.peakRssMb, 1)} MB | ${f(c.anonMb, 1)} / ${f(c.fileMb, 1)} MB | ${c.nginxRssMb !== undefined ? `${f(c.nginxRssMb, 1)} MB` : "—"} | ${f(c.logBytes / 1024)} KiB |`);
  out.push("", ...goalLines(s, meta));
  return out.join("\n") + "\n";
}

/** The regression guard: every goal ratio of TARGETS, one line each, met or MISSED (never a timed test). */
export function goalLines(s: Summary, meta: Pick<ReportMeta, "methods" | "concurrencies">): string[] {
  const base = s.contenders.find((c) => c.id === "a")!;
  const out = ["Goals (issue 18; ratios to (a) in this run):"];
  let missed = 0;
  const check = (ok: boolean) => { if (!ok) missed++; return mark(ok); };
  for (const m of meta.methods) {
    for (const conc of meta.concurrencies) {
      const b = base.cells[m]![conc]!;
      const direct = s.contenders.find((c) => c.id === "b")?.cells[m]?.[conc];
      const proxied = s.contenders.find((c) => c.id === "c")?.cells[m]?.[conc];
      const at = `${METHOD_NAMES[m]} c=${conc}`;
      if (direct) {
        const cpu = direct.cpuUs / b.cpuUs;
        const tr = direct.rps / b.rps;
        const thr = conc >= TARGETS.directThroughputFromConc ? `, throughput ${f(tr, 2)}× (≥ ${TARGETS.directThroughput}×) ${check(tr >= TARGETS.directThroughput)}` : `, throughput ${f(tr, 2)}×`;
        out.push(`- b ${at}: CPU/call ${f(cpu, 2)}× (≤ ${TARGETS.directCpuRatio}×) ${check(cpu <= TARGETS.directCpuRatio)}${thr}; p99 ${f(direct.p99 / b.p99, 2)}× (≤ ${TARGETS.p99Ratio}×) ${check(direct.p99 / b.p99 <= TARGETS.p99Ratio)}`);
      }
      if (proxied) {
        const tr = proxied.rps / b.rps;
        out.push(`- c ${at}: throughput ${f(tr, 2)}× (≥ ${TARGETS.proxiedThroughput}×) ${check(tr >= TARGETS.proxiedThroughput)}, CPU/call server ${f(proxied.cpuUs / b.cpuUs, 2)}× + nginx ${f(proxied.proxyCpuUs / b.cpuUs, 2)}×; p99 ${f(proxied.p99 / b.p99, 2)}× (≤ ${TARGETS.p99Ratio}×) ${check(proxied.p99 / b.p99 <= TARGETS.p99Ratio)}`);
      }
    }
  }
  for (const id of ["b", "c"]) {
    const c = s.contenders.find((x) => x.id === id);
    if (c) out.push(`- ${id} peak RSS ${f(c.peakRssMb, 1)} MB (≤ ${TARGETS.rssMb} MB, issue 8; not counted below) ${mark(c.peakRssMb <= TARGETS.rssMb)}`);
  }
  out.push(`Issue 18 goal checks missed: ${missed}.`);
  return out;
}
