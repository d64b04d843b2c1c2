// Soak (bench only, not CI): the reference server as deployed (api-key auth, metrics, info logs to a file) under
// 50 concurrent keep-alive clients for 10 minutes, a round-robin mix of get_note, search_notes, get_forecast
// (against the local upstream stub) and save_note with a fresh request_id each time. Pass criteria: zero
// unexpected errors (every answer HTTP 200 with a non-error result, no socket errors or timeouts) and RSS growth
// under 10 % from the end of the first minute (warm-up) to the end.
// Options: --minutes N (10) --connections N (50) --node-options "..." (NODE_OPTIONS for the server)
import { parseArgs } from "node:util";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { startUpstreamStub } from "../test/support/upstream-stub.ts";
import { runWrk } from "./wrk.ts";
import { referenceServer, toolsCall, BENCH_KEY } from "./contenders.ts";
import { memory } from "./processes.ts";

const { values } = parseArgs({ options: {
  minutes: { type: "string", default: "10" }, connections: { type: "string", default: "50" }, "node-options": { type: "string" },
} });
const minutes = Number(values.minutes);
const connections = Number(values.connections);
if (!(minutes > 0) || !Number.isInteger(connections) || connections < 1) throw new Error("--minutes takes a positive number, --connections a positive whole number");
const durationS = Math.round(minutes * 60);
const warmupS = Math.min(60, Math.round(durationS / 10));
const SAMPLE_MS = 5000;

const work = mkdtempSync(join(tmpdir(), "soak-"));
const stub = await startUpstreamStub();
const ref = await referenceServer("soak", work, { nodeOptions: values["node-options"] }, { UPSTREAM_URL: stub.url });
try {
  const mix = join(work, "mix.jsonl");
  writeFileSync(mix, [
    toolsCall("get_note", { id: ref.noteId }),
    toolsCall("search_notes", { query: "seed-only-term", limit: 10 }),
    toolsCall("get_forecast", { latitude: 52.52, longitude: 13.41, days: 3 }),
    toolsCall("save_note", { request_id: "REQ_ID", title: "soak", body: "written by the soak test" }),
  ].join("\n") + "\n");
  const samples: Array<{ t: number; rssMb: number }> = [];
  const t0 = Date.now();
  const sample = () => samples.push({ t: (Date.now() - t0) / 1000, rssMb: memory(ref.proc.pid).rssKb / 1024 });
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  console.error(`soak: ${connections} connections for ${durationS} s against pid ${ref.proc.pid} (RSS sampled every ${SAMPLE_MS / 1000} s)`);
  const res = await runWrk({ url: `http://127.0.0.1:${ref.port}/mcp`, bodyFile: mix, token: BENCH_KEY, connections, durationS, threads: 2, timeoutS: 10 });
  clearInterval(timer);
  sample();
  const peakMb = memory(ref.proc.pid).hwmKb / 1024;
  const afterWarmup = samples.find((s) => s.t >= warmupS) ?? samples[0]!;
  const end = samples.at(-1)!;
  const growth = (end.rssMb - afterWarmup.rssMb) / afterWarmup.rssMb;
  const socketErrors = Object.values(res.errors).reduce((a, b) => a + b, 0);
  const pass = res.bad === 0 && socketErrors === 0 && growth < 0.1;
  const lines = [
    `Soak: ${minutes} min × ${connections} connections, ${cpus().length} CPUs, load average after ${loadavg().map((l) => l.toFixed(2)).join(" ")}; NODE_OPTIONS: ${values["node-options"] ?? "(none)"}`,
    `requests ${res.requests}, ok ${res.ok} (${res.rps.toFixed(0)}/s), bad answers ${res.bad}${res.bad ? ` (first: ${res.first_bad})` : ""}, socket errors ${JSON.stringify(res.errors)}`,
    `latency p50 ${(res.latency_us.p50 / 1000).toFixed(1)} ms, p95 ${(res.latency_us.p95 / 1000).toFixed(1)} ms, p99 ${(res.latency_us.p99 / 1000).toFixed(1)} ms, max ${(res.latency_us.max / 1000).toFixed(0)} ms`,
    `RSS after ${warmupS} s warm-up ${afterWarmup.rssMb.toFixed(1)} MB, at end ${end.rssMb.toFixed(1)} MB (growth ${(growth * 100).toFixed(1)} %, limit 10 %), peak (VmHWM) ${peakMb.toFixed(1)} MB`,
    `RSS samples (s: MB): ${samples.filter((_, i) => i % 6 === 0 || i === samples.length - 1).map((s) => `${s.t.toFixed(0)}: ${s.rssMb.toFixed(0)}`).join(", ")}`,
    `result: ${pass ? "PASS" : "FAIL"}`,
  ];
  console.log(lines.join("\n"));
  process.exitCode = pass ? 0 : 1;
} finally {
  await ref.proc.stop();
  await stub.stop();
  rmSync(work, { recursive: true, force: true });
}
