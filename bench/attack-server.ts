// Attack benchmark for the server half of issue 13: (1) loop stall — crafted substring searches over ~30 MB of notes
// while the server's event-loop delay is read from /metrics; (2) session flood — one key opens N sessions with 1 MB
// capabilities (refused above MAX_SESSION_INIT_BYTES) and RSS is read before/after; (3) eviction — another key's
// session must survive the flood. Prints one JSON line; numbers go to BENCHMARKS.md ("Attack: server").
//   node bench/attack-server.ts [--sessions 1000]
import { mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../test/support/server.ts";
import { seedCraftedNotes, CRAFTED_QUERIES } from "../test/support/crafted-notes.ts";

const N = Number(process.argv[process.argv.indexOf("--sessions") + 1] || 1000);
const A = "bench-key-a-0123456789abcdef", B = "bench-key-b-0123456789abcdef";
const H = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
const lagMs = async (port: number) => Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())![1]) * 1000;

const dir = mkdtempSync(join(tmpdir(), "attack-"));
seedCraftedNotes(dir, 3000);
const s = await startServer({ DATA_DIR: dir, AUTH_MODE: "api-key", API_KEYS: `${A},${B}`, MCP_SESSIONS: "stateful" }, { keepDataDir: false });
try {
  const init = (key: string, pad: number) => fetch(s.mcpUrl, { method: "POST", headers: { ...H, authorization: `Bearer ${key}` }, body: JSON.stringify({
    jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: pad ? { experimental: { x: { d: "x".repeat(pad) } } } : {}, clientInfo: { name: "b", version: "1" } } }) });
  const victim = await init(B, 0);
  const sid = victim.headers.get("mcp-session-id")!;
  await victim.body?.cancel();
  const sessionHeaders = (key: string, id: string) => ({ ...H, authorization: `Bearer ${key}`, "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" });

  // (1) loop stall under crafted searches (one session of key B, 4 concurrent callers, 20 calls each)
  await lagMs(s.metricsPort);
  const t0 = performance.now();
  const outcomes: Record<string, number> = {};
  await Promise.all([0, 1, 2, 3].map(async (k) => {
    for (let i = 0; i < 20; i++) {
      // One session: every caller's ids are distinct (a request id must not be reused within a session, request-ids.ts).
      const r = await fetch(s.mcpUrl, { method: "POST", headers: sessionHeaders(B, sid), body: JSON.stringify({ jsonrpc: "2.0", id: 1000 * (k + 1) + i, method: "tools/call", params: { name: "search_notes", arguments: { query: CRAFTED_QUERIES[(i + k) % CRAFTED_QUERIES.length], limit: 50 } } }) });
      const text = await r.text();
      const kind = /REQUEST_TIMEOUT_MS/.test(text) ? "deadline" : /"isError":true/.test(text) ? (/SEARCH_TIMEOUT_MS/.test(text) ? "timeout" : "busy/other") : "ok";
      outcomes[kind] = (outcomes[kind] ?? 0) + 1;
    }
  }));
  const stall = { worst_loop_delay_ms: Math.round(await lagMs(s.metricsPort)), searches: outcomes, seconds: Math.round((performance.now() - t0) / 100) / 10 };

  // (1b) what a large result costs the main thread (serialising and validating up to 50 × 10 KB notes): main-thread
  // CPU per call (/proc/PID/task/PID/stat utime + stime, 10 ms ticks) over 10 calls, limit 1 vs limit 50
  const mainCpuMs = () => { const f = readFileSync(`/proc/${s.pid}/task/${s.pid}/stat`, "utf8").split(") ")[1]!.split(" "); return (Number(f[11]) + Number(f[12])) * 10; };
  const results: Record<string, unknown> = {};
  for (const limit of [1, 50]) {
    await lagMs(s.metricsPort);
    const c0 = mainCpuMs();
    let bytes = 0;
    for (let i = 0; i < 10; i++) {
      const r = await fetch(s.mcpUrl, { method: "POST", headers: sessionHeaders(B, sid), body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "search_notes", arguments: { query: "ab", limit } } }) });
      bytes += (await r.arrayBuffer()).byteLength;
    }
    results[`limit_${limit}`] = { response_kb: Math.round(bytes / 10240), main_thread_cpu_ms_per_call: (mainCpuMs() - c0) / 10, worst_loop_delay_ms: Math.round(await lagMs(s.metricsPort)) };
  }
  console.error(JSON.stringify({ stall, results })); // progress: the flood below takes minutes on a busy machine

  // (2) session flood with 1 MB capabilities, then with small ones
  const rss0 = rssMb(s.pid);
  let refused = 0;
  for (let i = 0; i < N; i++) { const r = await init(A, 1024 * 1024); if (r.status === 413) refused++; await r.body?.cancel(); }
  const rssBig = rssMb(s.pid);
  for (let i = 0; i < N; i++) { const r = await init(A, 0); await r.body?.cancel(); }
  const rssFlood = rssMb(s.pid);
  const ping = await fetch(s.mcpUrl, { method: "POST", headers: sessionHeaders(B, sid), body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "ping" }) });
  console.log(JSON.stringify({ notes_mb: 30, stall, results, flood: { sessions: N, init_1mb_refused: refused, rss_mb_before: Math.round(rss0), rss_mb_after_1mb_inits: Math.round(rssBig), rss_mb_after_small_flood: Math.round(rssFlood), other_key_session_alive: ping.status === 200 } }));
} finally { await s.stop(); rmSync(dir, { recursive: true, force: true }); }
