// Upstream faults with a monitor's view of the server: /health is polled every 50 ms while the upstream stub goes
// down, slow and drifted. For each fault: /health turns 503 within one check interval (HEALTH_CACHE_MS plus the
// probe's own timeout), a burst of concurrent get_forecast calls all answer a clear, fault-specific error within
// the tool's timeout budget (attempts × UPSTREAM_TIMEOUT_MS + backoff), /livez stays 200 — and when the upstream
// is back both /health and the tool recover by themselves within one interval, with no restart.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub, type StubMode } from "../support/upstream-stub.ts";
import { waitFor } from "../support/proc.ts";

const CACHE_MS = 1000;
const HEALTH_TIMEOUT_MS = 300;
const TOOL_TIMEOUT_MS = 500;
const RETRIES = 1;
const BACKOFF_MS = 200; // the server's first retry backoff (server/src/upstream.ts)
// Scheduling slack on a loaded 2-core machine (load average 16). The bounds stay far below a 30 s default cache and
// the slow stub's 20 s answer, so a check or call that waited for the upstream still fails them.
const SLACK_MS = 5000;
const INTERVAL_MS = CACHE_MS + HEALTH_TIMEOUT_MS;
const TOOL_BUDGET_MS = (RETRIES + 1) * TOOL_TIMEOUT_MS + BACKOFF_MS;

const FAULTS: Array<{ mode: StubMode; message: RegExp }> = [
  { mode: "down", message: /upstream unreachable.*after 2 attempts/ },
  { mode: "slow", message: new RegExp(`did not answer within ${TOOL_TIMEOUT_MS} ms \\(after 2 attempts\\)`) },
  { mode: "drifted", message: /upstream response format changed/ },
];

describe("upstream down / slow / drifted: health and tools fail fast and clearly, then recover", { timeout: 180_000 }, () => {
  let server: RunningServer, stub: UpstreamStub;

  before(async () => {
    stub = await startUpstreamStub({ slowMs: 20_000 });
    server = await startServer({
      UPSTREAM_URL: stub.url, HEALTH_CACHE_MS: String(CACHE_MS), HEALTH_UPSTREAM_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS),
      UPSTREAM_TIMEOUT_MS: String(TOOL_TIMEOUT_MS), UPSTREAM_RETRIES: String(RETRIES), LOG_LEVEL: "warn",
    });
  });
  after(async () => {
    await server?.stop();
    await stub?.stop();
  });

  const health = async () => (await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(10_000) })).status;
  /** Polls /health every 50 ms until it answers `status`; returns the time from `since`. */
  const healthTurns = async (status: number, since: number) => {
    await waitFor(`/health ${status}`, async () => (await health()) === status, { timeoutMs: INTERVAL_MS + 10_000, intervalMs: 50 });
    return Date.now() - since;
  };
  const forecast = async (i: number) => {
    const t0 = Date.now();
    const r = await fetch(server.mcpUrl, {
      method: "POST", signal: AbortSignal.timeout(30_000),
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "get_forecast", arguments: { latitude: (10 + i) % 90, longitude: 20, days: 2 } } }),
    });
    assert.equal(r.status, 200);
    const m = await r.json() as { result: { isError?: boolean; content: Array<{ text: string }> } };
    return { ms: Date.now() - t0, isError: m.result.isError === true, text: m.result.content[0]?.text ?? "" };
  };

  for (const { mode, message } of FAULTS) {
    it(`${mode}: 503 within one check interval, clear tool errors within the timeout budget, self-recovery`, async () => {
      stub.setMode("normal");
      await healthTurns(200, Date.now());

      const t0 = Date.now();
      stub.setMode(mode);
      const [toDegraded, calls] = await Promise.all([
        healthTurns(503, t0),
        Promise.all(Array.from({ length: 10 }, (_, i) => forecast(i))),
      ]);
      console.log(`# ${mode}: /health 503 after ${toDegraded} ms (interval ${INTERVAL_MS} ms); tool errors in ${Math.min(...calls.map((c) => c.ms))}-${Math.max(...calls.map((c) => c.ms))} ms (budget ${TOOL_BUDGET_MS} ms)`);
      assert.ok(toDegraded <= INTERVAL_MS + SLACK_MS, `${mode}: /health 503 after ${toDegraded} ms, limit ${INTERVAL_MS} + ${SLACK_MS} ms`);
      for (const c of calls) {
        assert.equal(c.isError, true, `${mode}: tool error, got ${c.text}`);
        assert.match(c.text, message);
        assert.ok(c.ms <= TOOL_BUDGET_MS + SLACK_MS, `${mode}: answered in ${c.ms} ms, budget ${TOOL_BUDGET_MS} + ${SLACK_MS} ms`);
      }
      assert.equal((await fetch(`${server.url}/livez`)).status, 200, "liveness unaffected by the upstream");

      const t1 = Date.now();
      stub.setMode("normal");
      const toHealthy = await healthTurns(200, t1);
      console.log(`# ${mode}: recovered, /health 200 after ${toHealthy} ms`);
      assert.ok(toHealthy <= INTERVAL_MS + SLACK_MS, `${mode}: /health 200 again after ${toHealthy} ms`);
      const ok = await forecast(99);
      assert.equal(ok.isError, false, `tool works again: ${ok.text}`);
    });
  }
});
