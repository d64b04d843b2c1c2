// The shared test helpers other areas depend on: startServer() and startUpstreamStub() in all four modes.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../support/server.ts";
import { startUpstreamStub } from "../support/upstream-stub.ts";

test("upstream stub answers in normal, drifted, slow and down modes", { timeout: 30_000 }, async () => {
  const stub = await startUpstreamStub({ slowMs: 700 });
  after(() => stub.stop());
  const u = `${stub.url}/v1/forecast?latitude=1&longitude=2&forecast_days=2`;
  const normal = await (await fetch(u)).json() as { daily: { time: string[] } };
  assert.equal(normal.daily.time.length, 2);
  stub.setMode("drifted");
  const drifted = await (await fetch(u)).json() as Record<string, unknown>;
  assert.equal(drifted.daily, undefined);
  assert.ok(drifted.daily_data);
  stub.setMode("slow");
  const t = performance.now();
  await (await fetch(u)).json();
  assert.ok(performance.now() - t >= 650, "slow mode delays the answer");
  stub.setMode("down");
  await assert.rejects(fetch(u));
  assert.equal(stub.requests(), 4);
});

test("startServer starts on free ports, serves /livez, captures logs and stops with exit 0", { timeout: 30_000 }, async () => {
  const s = await startServer();
  after(() => s.stop());
  assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(s.mcpUrl, `${s.url}/mcp`);
  const live = await fetch(`${s.url}/livez`);
  assert.equal(live.status, 200);
  const metrics = await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`);
  assert.equal(metrics.status, 200);
  assert.ok(s.logEntries().some((e) => e.event === "started"));
  const exit = await s.stop();
  assert.deepEqual(exit, { code: 0, signal: null });
});

test("startServer rejects with the server's output when start-up fails", { timeout: 30_000 }, async () => {
  await assert.rejects(startServer({ AUTH_MODE: "bogus" }), /AUTH_MODE/);
});
