// Turns per-round measurements into medians, ratios to the bare-SDK baseline and target checks, as Markdown.
// Two views of throughput: the measured ok req/s (sensitive to whatever else runs on the machine) and the server's
// CPU time per call from /proc (robust to contention): on a dedicated core, a single-threaded Node server's
// throughput is 1 / (CPU per call), so baseline CPU ÷ contender CPU is the throughput ratio without the noise.
import type { WrkResult } from "./wrk.ts";
import type { Contender } from "./contenders.ts";
import type { Memory } from "./processes.ts";

export const TARGETS = { directThroughput: 0.9, proxiedThroughput: 0.7, p99Ratio: 2, rssMb: 120 };

export type Measured = WrkResult & { serverCpuMs: number; proxyCpuMs: number };

export interface CellSummary {
  rps: number; p50: number; p95: number; p99: number; bad: number; errors: number; runs: number;
  /** Server CPU µs per ok call, pooled over the rounds; proxy = nginx master + workers. */
  cpuUs: number; proxyCpuUs: number;
}
export interface Summary {
  contenders: Array<{
    id: string; label: string; peakRssMb: number; nginxRssMb?: number; logBytes: number; cells: Record<number, CellSummary>;
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

export function summarize(contenders: Contender[], concurrencies: number[], get: (c: Contender, conc: number) => Measured[],
  sampled: (c: Contender) => Memory | undefined): Summary {
  return {
    contenders: contenders.map((c) => {
      const rss = c.peakRss();
      const cells: Record<number, CellSummary> = {};
      for (const conc of concurrencies) {
        const rs = get(c, conc);
        const ok = Math.max(1, sum(rs.map((r) => r.ok)));
        cells[conc] = {
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

export function markdownReport(s: Summary, meta: { machine: Record<string, string | number>; rounds: number; durationS: number; concurrencies: number[]; nodeOptions: string; compiled: boolean }): string {
  const base = s.contenders.find((c) => c.id === "a")!;
  const out: string[] = [];
  out.push(`Machine: ${meta.machine.cpus} × ${meta.machine.cpuModel}, ${meta.machine.memGb} GB; Node ${meta.machine.node}; ${meta.machine.nginx}; ${meta.machine.wrk}.`);
  out.push(`Load average (1/5/15 min) before: ${meta.machine.loadBefore}, after: ${meta.machine.loadAfter}.`);
  out.push(`${meta.rounds} rounds × ${meta.durationS} s per cell, contenders alternated; medians over rounds. NODE_OPTIONS: ${meta.nodeOptions ? `\`${meta.nodeOptions}\`` : "(none)"}. Reference server run as ${meta.compiled ? "tsc output (as in the image)" : "type-stripped server/src/*.ts"}.`, "");
  out.push("| contender | conc. | ok req/s | ×baseline | p50 ms | p95 ms | p99 ms | p99 ×baseline | server CPU µs/call | CPU-equivalent ×baseline | nginx CPU µs/call | bad/errors |");
  out.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const c of s.contenders) {
    for (const conc of meta.concurrencies) {
      const x = c.cells[conc]!;
      const b = base.cells[conc]!;
      out.push(`| ${c.label} | ${conc} | ${f(x.rps)} | ${f(x.rps / b.rps, 2)} | ${f(x.p50, 2)} | ${f(x.p95, 2)} | ${f(x.p99, 2)} | ${f(x.p99 / b.p99, 2)} | ${f(x.cpuUs)} | ${f(b.cpuUs / x.cpuUs, 2)} | ${x.proxyCpuUs ? f(x.proxyCpuUs) : "—"} | ${x.bad}/${x.errors} |`);
    }
  }
  out.push("", "| contender | peak RSS (VmHWM) | of which anon / file-backed (at max anon) | nginx master+workers | log output |", "|---|---:|---:|---:|---:|");
  for (const c of s.contenders) out.push(`| ${c.label} | ${f(c.peakRssMb, 1)} MB | ${f(c.anonMb, 1)} / ${f(c.fileMb, 1)} MB | ${c.nginxRssMb !== undefined ? `${f(c.nginxRssMb, 1)} MB` : "—"} | ${f(c.logBytes / 1024)} KiB |`);
  out.push("", "Targets (measured throughput ratio / CPU-equivalent ratio):");
  for (const [id, min] of [["b", TARGETS.directThroughput], ["c", TARGETS.proxiedThroughput]] as const) {
    const c = s.contenders.find((x) => x.id === id)!;
    for (const conc of meta.concurrencies) {
      const x = c.cells[conc]!;
      const b = base.cells[conc]!;
      const tr = x.rps / b.rps;
      const cr = b.cpuUs / x.cpuUs;
      const pr = x.p99 / b.p99;
      out.push(`- ${id} c=${conc}: throughput ${f(tr, 2)}× / ${f(cr, 2)}× (target ≥ ${min}×) ${mark(tr >= min)} / ${mark(cr >= min)}; p99 ${f(pr, 2)}× (target ≤ ${TARGETS.p99Ratio}×) ${mark(pr <= TARGETS.p99Ratio)}`);
    }
    out.push(`- ${id} peak RSS ${f(c.peakRssMb, 1)} MB (target ≤ ${TARGETS.rssMb} MB) ${mark(c.peakRssMb <= TARGETS.rssMb)}`);
  }
  return out.join("\n") + "\n";
}
