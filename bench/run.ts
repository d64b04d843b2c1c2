// `npm run bench`: tools/call throughput and latency of the reference server against the bare SDK, in one run.
// Contenders are measured alternately (round-robin, order rotated every round) at each concurrency, so slow drift
// in machine load spreads over all of them; the reported numbers are medians over the rounds.
// Options: --rounds N (3) --duration S per cell (5) --concurrency 1,10,50 --warmup S (2) --profile DIR --json FILE
import { parseArgs } from "node:util";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { run } from "../test/support/proc.ts";
import { runWrk, type WrkResult } from "./wrk.ts";
import { startContenders, type Contender } from "./contenders.ts";
import { summarize, markdownReport } from "./report.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    concurrency: { type: "string", default: "1,10,50" },
    warmup: { type: "string", default: "2" },
    profile: { type: "string" },
    json: { type: "string" },
  },
});
const rounds = Number(values.rounds);
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const concurrencies = values.concurrency.split(",").map(Number);
if (![rounds, durationS, warmupS, ...concurrencies].every((n) => Number.isInteger(n) && n >= 0) || rounds < 1 || durationS < 1) {
  throw new Error("--rounds, --duration, --warmup and --concurrency take positive whole numbers (e.g. --concurrency 1,10,50)");
}

const work = mkdtempSync(join(tmpdir(), "bench-"));
if (values.profile) mkdirSync(values.profile, { recursive: true });
const machine = {
  cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memGb: Math.round(totalmem() / 2 ** 30),
  node: process.version, nginx: (await run("nginx", ["-v"])).stderr.trim(), wrk: (await run("wrk", ["--version"])).stdout.split("\n")[0]!.trim(),
  loadBefore: loadavg().map((l) => l.toFixed(2)).join(" "), loadAfter: "",
};
const contenders = await startContenders(work, { profileDir: values.profile });
const results = new Map<string, WrkResult[]>();
const cell = (c: Contender, conc: number) => `${c.id}@${conc}`;
try {
  for (const c of contenders) await runWrk({ url: c.url, bodyFile: c.bodyFile, token: c.token, host: c.host, connections: 10, durationS: Math.max(1, warmupS) });
  for (let r = 0; r < rounds; r++) {
    for (const conc of concurrencies) {
      const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]!);
      for (const c of order) {
        const res = await runWrk({ url: c.url, bodyFile: c.bodyFile, token: c.token, host: c.host, connections: conc, durationS });
        if (res.bad > 0 || Object.values(res.errors).some((n) => n > 0)) {
          console.error(`! ${c.id} c=${conc}: ${res.bad} bad answers, errors ${JSON.stringify(res.errors)}; first bad: ${res.first_bad}`);
        }
        results.set(cell(c, conc), [...(results.get(cell(c, conc)) ?? []), res]);
        console.error(`round ${r + 1}/${rounds} c=${conc} ${c.id}: ${res.rps.toFixed(0)} ok/s p99 ${(res.latency_us.p99 / 1000).toFixed(2)} ms`);
      }
    }
  }
  machine.loadAfter = loadavg().map((l) => l.toFixed(2)).join(" ");
  const summary = summarize(contenders, concurrencies, (c, conc) => results.get(cell(c, conc)) ?? []);
  const report = markdownReport(summary, { machine, rounds, durationS, concurrencies });
  process.stdout.write(report);
  if (values.json) writeFileSync(values.json, JSON.stringify({ machine, rounds, durationS, concurrencies, summary, raw: Object.fromEntries(results) }, null, 2));
} finally {
  for (const c of contenders) await c.stop();
  rmSync(work, { recursive: true, force: true });
}
