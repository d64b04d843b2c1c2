// Memory of the server as deployed: the image under the run contract with the deployment's memory limit
// (the deployment's memoryMb, default 256; --memory takes docker's sizes in MB), loaded by wrk with tools/call search_notes + tools/list for --duration seconds.
// Reports the server's peak RSS (VmHWM of PID 1), the container's peak cgroup charge, throughput, and whether it was
// OOM-killed or restarted. V8 sizes its heap from the container's limit (Node reads the cgroup), not from the host's
// RAM as in `npm run bench`, whose RSS column is therefore no guide to a container's memory.
// Usage: node bench/container-memory.ts [--memory 256m,512m] [--duration 60] [--connections 50] [--json FILE]
import { parseArgs } from "node:util";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { runOk } from "../test/support/proc.ts";
import { ensureBaseImage } from "../test/support/base-image.ts";
import { buildServerImage, inspect, removeContainers, startContainer, uniqueName } from "../test/support/server-image.ts";
import { runWrk } from "./wrk.ts";
import { cgroupPeak } from "./cgroup.ts";

const { values } = parseArgs({ options: {
  memory: { type: "string", default: "256m,512m" }, duration: { type: "string", default: "60" },
  connections: { type: "string", default: "50" }, json: { type: "string" },
} });
const limits = values.memory.split(",");
const [durationS, connections] = [Number(values.duration), Number(values.connections)];
if (!limits.every((m) => /^[1-9][0-9]*m$/.test(m)) || !(durationS >= 1 && durationS <= 3600) || !(connections >= 1 && connections <= 1000)) {
  throw new Error('--memory takes sizes in MB like "256m,512m"; --duration 1-3600 s; --connections 1-1000');
}

const KEY = `bench-memory-key-${process.pid}-0123456789`;
await ensureBaseImage();
const image = await buildServerImage();
const work = mkdtempSync(join(tmpdir(), "bench-memory-"));
const body = join(work, "body.jsonl");
writeFileSync(body, [
  { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "search_notes", arguments: { query: "bench", limit: 20 } } },
  { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} },
].map((b) => JSON.stringify(b)).join("\n") + "\n");


const rows: Record<string, unknown>[] = [];
try {
  for (const memory of limits) {
    const name = uniqueName("bench-memory");
    const c = await startContainer(image, { dir: work, name, env: { AUTH_MODE: "api-key", API_KEYS: KEY, LOG_LEVEL: "warn" }, spec: { memoryMb: Number(memory.slice(0, -1)) } });
    try {
      const auth = { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${KEY}` };
      for (let i = 0; i < 20; i++) {
        const r = await fetch(`${c.url}/mcp`, { method: "POST", headers: auth, body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call",
          params: { name: "save_note", arguments: { request_id: `bench-memory-${i}`, title: `bench ${i}`, body: "x".repeat(2000), tags: ["bench"] } } }) });
        const text = await r.text();
        if (r.status !== 200 || !text.includes('"replayed"')) throw new Error(`seeding save_note ${i} failed: HTTP ${r.status} ${text.slice(0, 300)}`);
      }
      const wrk = await runWrk({ url: `${c.url}/mcp`, bodyFile: body, connections, durationS, token: KEY });
      const info = await inspect<{ Id: string; State: { Running: boolean; OOMKilled: boolean }; RestartCount: number }>(name);
      const hwm = /VmHWM:\s+(\d+) kB/.exec((await runOk("docker", ["exec", name, "cat", "/proc/1/status"])).stdout)?.[1];
      const peak = cgroupPeak(info.Id);
      rows.push({ memory, rps: Math.round(wrk.rps), bad: wrk.bad + wrk.errors.status + wrk.errors.timeout, p99_ms: Math.round(wrk.latency_us.p99 / 1000),
        vmhwm_mb: hwm ? Math.round(Number(hwm) / 1024) : undefined, cgroup_peak_mb: peak ? Math.round(peak / 1048576) : undefined,
        running: info.State.Running, oom_killed: info.State.OOMKilled, restarts: info.RestartCount });
    } finally {
      await removeContainers([name], [c.volume]);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}; ${connections} connections, ${durationS} s per limit`);
console.log("| --memory | ok req/s | bad | p99 ms | server peak RSS (VmHWM) | container peak (cgroup) | OOM-killed | restarts |");
console.log("|---|---:|---:|---:|---:|---:|---|---:|");
for (const r of rows) console.log(`| ${r.memory} | ${r.rps} | ${r.bad} | ${r.p99_ms} | ${r.vmhwm_mb} MB | ${r.cgroup_peak_mb} MB | ${r.oom_killed} | ${r.restarts} |`);
if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
