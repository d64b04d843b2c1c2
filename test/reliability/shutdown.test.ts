// SIGTERM under a bounded load: 8 workers stream save_note writes (unique request_ids) and 4 workers call
// get_forecast against a slow upstream (1.2 s per answer), each over its own keep-alive connection. SIGTERM
// arrives mid-load and the workers keep going until the server is gone. Then:
//  - every response that started arrived complete (no truncated body, no reset after the status line);
//  - the process exited 0 after draining;
//  - calls in flight at SIGTERM (the slow forecasts) were answered with full results;
//  - nothing was lost between "accepted" and "answered": the set of writes in the database equals the set of
//    acknowledged writes, and the upstream saw exactly one request per answered get_forecast. So a request that got
//    no response at all (refused, or reset before any response byte — the keep-alive race: the server closes an idle
//    connection while the client's next request is on its way) provably never reached a tool.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { closedLoop, answer, storedNotes, type CallRecord } from "./load.ts";

let server: RunningServer | undefined, stub: UpstreamStub | undefined;
after(async () => {
  await server?.stop("SIGKILL");
  await stub?.stop();
});

const SLOW_MS = 1200;

test("SIGTERM during load: complete answers only, in-flight calls finish, no accepted write goes unanswered", { timeout: 120_000 }, async () => {
  stub = await startUpstreamStub({ slowMs: SLOW_MS });
  stub.setMode("slow");
  server = await startServer({ UPSTREAM_URL: stub.url, UPSTREAM_TIMEOUT_MS: "5000", UPSTREAM_RETRIES: "0", SHUTDOWN_TIMEOUT_MS: "10000", LOG_LEVEL: "warn" }, { keepDataDir: true });
  const { port, pid, dataDir } = server;
  let answered = 0;
  let termAt = 0;
  const records = await closedLoop({
    port, workers: 12, deadlineMs: 30_000, stop: () => false,
    next: (w, seq) => w < 8
      ? { tool: "save_note", requestId: `term-${w}-${seq}`, args: { request_id: `term-${w}-${seq}`, title: `t${seq}`, body: `worker ${w} call ${seq}` } }
      : { tool: "get_forecast", args: { latitude: w, longitude: seq % 90, days: 2 } },
    // SIGTERM once the load is well under way and the slow forecasts of the first wave are in flight.
    onRecord: () => { if (++answered === 60) { termAt = Date.now(); process.kill(pid, "SIGTERM"); } },
  });
  const exit = await server.exited;
  assert.ok(termAt > 0, "SIGTERM was sent during the load");
  assert.deepEqual(exit, { code: 0, signal: null }, `graceful exit 0\n${server.logs().slice(-2000)}`);

  const kinds = new Map<string, number>();
  const count = (k: string) => kinds.set(k, (kinds.get(k) ?? 0) + 1);
  const cutOff: CallRecord[] = [];
  const acked = new Set<string>();
  for (const r of records) {
    if (r.outcome.kind === "no-response") { count(`no response: ${r.outcome.code}`); cutOff.push(r); continue; }
    const { res } = r.outcome;
    assert.ok(res.complete, `truncated response (HTTP ${res.status}, ${res.body.length} bytes) for ${r.tool} sent ${r.sentAt - termAt} ms after SIGTERM`);
    if (res.status === 503) {
      assert.match(res.body.toString(), /shutting down/, "503 while draining says why");
      count("503 shutting down");
      cutOff.push(r);
      continue;
    }
    const m = answer(r);
    assert.ok(m?.result && m.result.isError !== true, `${r.tool}: HTTP ${res.status} ${res.body.toString().slice(0, 300)}`);
    count(`answered ${r.tool}`);
    if (r.requestId) acked.add(r.requestId);
  }
  console.log(`# outcomes: ${JSON.stringify(Object.fromEntries(kinds))}`);
  const lateForecasts = records.filter((r) => r.tool === "get_forecast" && r.sentAt < termAt && r.doneAt > termAt && answer(r));
  assert.ok(lateForecasts.length >= 1, "slow calls in flight at SIGTERM were answered in full");
  for (const r of cutOff) {
    if (r.outcome.kind === "no-response") assert.match(r.outcome.code, /^(ECONNREFUSED|ECONNRESET|EPIPE)$/, `cut-off ${r.tool} (sent ${r.sentAt - termAt} ms after SIGTERM) failed with ${r.outcome.code}`);
  }

  // Reads: every call that reached the tool made exactly one upstream request (UPSTREAM_RETRIES=0), and each was answered.
  const answeredForecasts = records.filter((r) => r.tool === "get_forecast" && answer(r)).length;
  assert.equal(stub.requests(), answeredForecasts, "every get_forecast that reached the upstream was answered");
  // Writes: the database holds exactly the acknowledged ones.
  const stored = new Set(storedNotes(dataDir).keys());
  for (const rid of acked) assert.ok(stored.has(rid), `acknowledged ${rid} is stored`);
  for (const rid of stored) assert.ok(acked.has(rid), `stored ${rid} was answered (accepted but never answered otherwise)`);
  assert.ok(acked.size >= 20, `${acked.size} writes acknowledged`);
});
