// Image numbers: size (total / base / app layers) and start-up under the run contract, median of several runs:
// `docker run` → /livez answers (the server is ready) and → docker reports `healthy` (bounded below by the
// first health probe, one --health-interval after start), plus the health probe's own duration, idle memory
// and `docker stop` time. Not a test: prints a table (and --json FILE).
// Usage: node bench/image.ts [--runs 7] [--health-interval 1s] [--json FILE]
import { parseArgs } from "node:util";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { run, runOk, sleep } from "../test/support/proc.ts";
import { ensureBaseImage } from "../test/support/base-image.ts";
import {
  buildServerImage, imageSizes, removeContainers, startContainer, uniqueName, type ContainerState,
} from "../test/support/server-image.ts";

const { values } = parseArgs({ options: {
  runs: { type: "string", default: "7" }, "health-interval": { type: "string", default: "1s" }, json: { type: "string" },
} });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error("--runs takes a whole number from 1 to 50");

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const mb = (n: number) => Number((n / 1e6).toFixed(1));

/** Polls until check() is true (bounded); returns ms since t0. */
async function timeUntil(t0: number, check: () => Promise<boolean>, intervalMs: number, timeoutMs = 60_000): Promise<number> {
  while (performance.now() - t0 < timeoutMs) {
    if (await check().catch(() => false)) return performance.now() - t0;
    await sleep(intervalMs);
  }
  throw new Error(`not reached within ${timeoutMs} ms`);
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
const loadBefore = load();
const base = await ensureBaseImage();
const image = await buildServerImage();
const sizes = await imageSizes(image, base);
const work = mkdtempSync(join(tmpdir(), "bench-image-"));
const samples: { started: number; ready: number; healthy: number; cpuMs: number; stop: number; probeMs: number; memMb: number }[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const c = await startContainer(image, {
      dir: work, wait: false, name: uniqueName("bench-img"),
      env: { AUTH_MODE: "api-key", API_KEYS: `bench-key-${process.pid}-${Date.now()}`, UPSTREAM_URL: "http://127.0.0.1:9" },
      spec: { healthInterval: values["health-interval"] },
    });
    const started = performance.now() - t0;
    try {
      const [ready, healthy] = await Promise.all([
        timeUntil(t0, async () => (await fetch(`${c.url}/livez`)).ok, 5),
        timeUntil(t0, async () => {
          const r = await run("docker", ["inspect", "--format", "{{json .State}}", c.name]);
          return (JSON.parse(r.stdout) as ContainerState).Health?.Status === "healthy";
        }, 20),
      ]);
      // CPU the server process used to get ready (load-independent, unlike the wall-clock times above): utime+stime
      // of PID 1 in clock ticks (USER_HZ 100), read right after the first /livez answered.
      const stat = (await runOk("docker", ["exec", c.name, "cat", "/proc/1/stat"])).stdout;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cpuMs = (Number(fields[11]) + Number(fields[12])) * 10;
      const health = JSON.parse((await runOk("docker", ["inspect", "--format", "{{json .State.Health.Log}}", c.name])).stdout) as { Start: string; End: string }[];
      const probeMs = median(health.map((h) => Date.parse(h.End) - Date.parse(h.Start)));
      const mem = (await runOk("docker", ["stats", "--no-stream", "--format", "{{.MemUsage}}", c.name])).stdout;
      const memMb = Number(/^([\d.]+)MiB/.exec(mem.trim())?.[1] ?? NaN);
      const s0 = performance.now();
      await runOk("docker", ["stop", c.name]);
      samples.push({ started, ready, healthy, cpuMs, stop: performance.now() - s0, probeMs, memMb });
    } finally {
      await removeContainers([c.name], [c.volume]);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const result = {
  image, base, runs, healthInterval: values["health-interval"],
  machine: { cpus: cpus().length, loadBefore, loadAfter: load() },
  sizeMb: { total: mb(sizes.total), base: mb(sizes.base), app: mb(sizes.app),
    appLayers: sizes.appLayers.map((l) => ({ mb: mb(l.size), step: l.createdBy.replace(/^\/bin\/sh -c (#\(nop\) )?/, "").slice(0, 60) })) },
  medianMs: {
    dockerRunReturns: Math.round(median(samples.map((s) => s.started))),
    runToReady: Math.round(median(samples.map((s) => s.ready))),
    runToHealthy: Math.round(median(samples.map((s) => s.healthy))),
    serverCpuToReady: Math.round(median(samples.map((s) => s.cpuMs))),
    healthProbe: Math.round(median(samples.map((s) => s.probeMs))),
    stop: Math.round(median(samples.map((s) => s.stop))),
  },
  idleMemoryMb: median(samples.map((s) => s.memMb)),
  samplesMs: samples.map((s) => ({ started: Math.round(s.started), ready: Math.round(s.ready), healthy: Math.round(s.healthy), stop: Math.round(s.stop) })),
};
const rows: [string, string][] = [
  ["image size", `${result.sizeMb.total} MB (base ${result.sizeMb.base} MB + app layers ${result.sizeMb.app} MB)`],
  ...result.sizeMb.appLayers.map((l): [string, string] => [`  app layer`, `${l.mb} MB  ${l.step}`]),
  [`docker run -d returns (median of ${runs})`, `${result.medianMs.dockerRunReturns} ms`],
  [`docker run → /livez 200 (median of ${runs})`, `${result.medianMs.runToReady} ms`],
  [`docker run → healthy (--health-interval ${result.healthInterval})`, `${result.medianMs.runToHealthy} ms`],
  ["server CPU time to ready (user+sys)", `${result.medianMs.serverCpuToReady} ms`],
  ["health probe (node -e fetch /livez)", `${result.medianMs.healthProbe} ms`],
  ["docker stop → exited", `${result.medianMs.stop} ms`],
  ["idle memory", `${result.idleMemoryMb} MiB`],
  ["machine", `${result.machine.cpus} CPUs, load ${result.machine.loadBefore} → ${result.machine.loadAfter}`],
];
process.stdout.write(rows.map(([k, v]) => `${k.padEnd(48)} ${v}`).join("\n") + "\n");
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
