// The shared test helpers other areas depend on: startServer() and startUpstreamStub() in all five modes.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { startServer } from "../support/server.ts";
import { freePort } from "../support/proc.ts";
import { startUpstreamStub, modeUrl } from "../support/upstream-stub.ts";

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

test("upstream stub prefixes: each has its own mode (set here or over HTTP); the others keep the global one (also set over HTTP)", { timeout: 30_000 }, async () => {
  const stub = await startUpstreamStub();
  after(() => stub.stop());
  const at = (prefix: string) => `${stub.url}${prefix}/v1/forecast?latitude=1&longitude=2&forecast_days=1`;
  const ok = async (u: string) => (await fetch(u)).status === 200;
  assert.ok(await ok(at("/alpha")) && await ok(at("/gamma")) && await ok(at("")), "every prefix answers in the global mode");
  assert.equal((await fetch(modeUrl(stub.url, "gamma", "down"), { method: "POST" })).status, 204);
  await assert.rejects(fetch(at("/gamma")), "gamma is down");
  assert.ok(await ok(at("/alpha")) && await ok(at("")), "alpha and the bare URL still answer");
  stub.setMode("drifted");
  assert.ok((await (await fetch(at("/alpha"))).json() as Record<string, unknown>).daily_data, "the global mode reaches alpha");
  await assert.rejects(fetch(at("/gamma")), "gamma's own mode wins over the global one");
  stub.setMode("normal", "gamma");
  assert.ok(await ok(at("/gamma")));
  for (const bad of [modeUrl(stub.url, "Gamma", "down"), modeUrl(stub.url, "gamma", "off" as never)]) {
    assert.equal((await fetch(bad, { method: "POST" })).status, 400, bad);
  }
  assert.equal((await fetch(`${stub.url}/gamma/v2/forecast`)).status, 404);
  // Without a prefix, over HTTP: the global mode (what a single server at the bare URL sees).
  assert.equal((await fetch(modeUrl(stub.url, undefined, "down"), { method: "POST" })).status, 204);
  await assert.rejects(fetch(at("")), "the bare URL follows the global mode");
  assert.ok(await ok(at("/gamma")), "gamma keeps its own mode");
  assert.equal((await fetch(modeUrl(stub.url, undefined, "normal"), { method: "POST" })).status, 204);
  assert.ok(await ok(at("")));
});

test("upstream stub sparse mode: the normal format, but every temperature after the first day is null", { timeout: 30_000 }, async () => {
  const stub = await startUpstreamStub();
  after(() => stub.stop());
  type Daily = { time: string[]; temperature_2m_max: Array<number | null>; temperature_2m_min: Array<number | null>; precipitation_sum: Array<number | null> };
  const get = async () => (await (await fetch(`${stub.url}/v1/forecast?latitude=1&longitude=2&forecast_days=5`)).json() as { daily: Daily }).daily;
  const normal = await get();
  stub.setMode("sparse");
  const sparse = await get();
  assert.deepEqual(sparse.time, normal.time, "same days");
  for (const key of ["temperature_2m_max", "temperature_2m_min"] as const) {
    assert.equal(sparse[key].length, 5, `${key} keeps one value per day`);
    assert.equal(sparse[key][0], normal[key][0], `${key}: the first day keeps its value`);
    assert.deepEqual(sparse[key].slice(1), [null, null, null, null], `${key}: the other days are null`);
    assert.ok(normal[key].every((v) => typeof v === "number"), `${key}: normal mode has no holes`);
  }
  assert.deepEqual(sparse.precipitation_sum, normal.precipitation_sum);
  assert.equal(stub.requests(), 2);
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

test("startServer starts again on fresh ports when a port it picked was taken before the server bound it (3 tries)", { timeout: 60_000 }, async () => {
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", r));
  after(() => squatter.close());
  const taken = (squatter.address() as { port: number }).port;
  let picks = 0;
  const s = await startServer({}, { pickPort: async () => (++picks === 2 ? taken : freePort()) }); // METRICS_PORT taken once
  after(() => s.stop());
  assert.equal(picks, 4, "two ports for the first try, two fresh ones for the second");
  assert.notEqual(s.metricsPort, taken);
  assert.equal((await fetch(`${s.url}/livez`)).status, 200);
  // A taken port given by the caller is the caller's error: no retry.
  await assert.rejects(startServer({ PORT: String(taken) }), /EADDRINUSE/);
  // Always taken: gives up after 3 tries with the server's output.
  let always = 0;
  await assert.rejects(startServer({}, { pickPort: async () => (always++, taken) }), /EADDRINUSE/);
  assert.equal(always, 6, "3 tries of 2 ports each");
});
