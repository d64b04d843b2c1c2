// Metering on success only, against the real server (API-key auth) and the upstream stub, driven by the SDK client:
// a successful call → exactly one ledger row, written after the response; a replay with the same request_id → no
// new row; a tool error, an upstream failure, invalid arguments, a client that aborted → no row; a ledger write
// failure → the client still gets its answer, and the failure is logged with the event and counted.
// "No row" is only asserted after a later successful call's row has appeared (the first call's response `finish`
// had every chance to run by then), so the absence is observed, not assumed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { call, text } from "./mcp-client.ts";
import { ledgerRows, rowsFor, waitForRows, metric, taggedClient, type TaggedClient } from "./metering-support.ts";
import { apiKeyId } from "../../server/src/metering/credential-id.ts";
import { LEDGER_FILE } from "../../contract/usage-ledger.ts";

const KEY = "metering-test-key-0123456789abcdef";
let server: RunningServer;
let stub: UpstreamStub;
let c: TaggedClient;

before(async () => {
  stub = await startUpstreamStub({ slowMs: 1500 });
  server = await startServer({ AUTH_MODE: "api-key", API_KEYS: KEY, UPSTREAM_URL: stub.url, UPSTREAM_TIMEOUT_MS: "3000", UPSTREAM_RETRIES: "1" });
  c = await taggedClient(server.mcpUrl, KEY);
});
after(async () => {
  await c?.client.close();
  await server?.stop();
  await stub?.stop();
});

/** Makes a successful billable call and waits for its row: after it, earlier calls' rows (if any) are in place. */
async function barrier(): Promise<void> {
  const id = `barrier-${randomUUID()}`;
  c.tag(id);
  stub.setMode("normal");
  const r = await call(c.client, "get_forecast", { latitude: 1, longitude: 2, days: 1 });
  assert.equal(r.isError, undefined, text(r));
  await waitForRows(server.dataDir, id, 1);
}

test("a successful call → exactly one row: credential id (never the key), tool, request id, units, time", async () => {
  stub.setMode("normal");
  const before = Date.now();
  c.tag("ok-forecast-1");
  const r = await call(c.client, "get_forecast", { latitude: 52.5, longitude: 13.4, days: 2 });
  assert.equal(r.isError, undefined, text(r));
  const [row] = await waitForRows(server.dataDir, "ok-forecast-1", 1);
  assert.equal(row!.credential, apiKeyId(KEY));
  assert.match(row!.credential, /^key:[0-9a-f]{16}$/);
  assert.equal(row!.tool, "get_forecast");
  assert.equal(row!.units, 2, "get_forecast bills one unit per day delivered");
  assert.ok(Date.parse(row!.at) >= before && Date.parse(row!.at) <= Date.now(), `time ${row!.at}`);
  assert.equal(row!.delivered_at, null, "no webhook sink: nothing delivered");
  const all = JSON.stringify(ledgerRows(server.dataDir));
  assert.ok(!all.includes(KEY), "the API key never reaches the ledger");
  assert.ok(!all.includes("52.5"), "no arguments in the ledger");
  assert.ok(await metric(server.metricsPort, /^mcp_meter_events_total\{outcome="recorded"\}/) >= 1);
});

test("the same save_note replayed with its request_id → no new row; get_note (not metered) → no row", async () => {
  const rid = `note-${randomUUID()}`;
  const args = { request_id: rid, title: "metered", body: "billed once" };
  c.tag("save-1");
  const first = await call(c.client, "save_note", args);
  assert.equal(first.isError, undefined, text(first));
  await waitForRows(server.dataDir, "save-1", 1);
  const duplicatesBefore = await metric(server.metricsPort, /^mcp_meter_events_total\{outcome="duplicate"\}/);
  c.tag("save-2-replay");
  const replay = await call(c.client, "save_note", args);
  assert.equal((replay.structuredContent as { replayed: boolean }).replayed, true);
  c.tag("get-note");
  const id = (first.structuredContent as { note: { id: string } }).note.id;
  assert.equal((await call(c.client, "get_note", { id })).isError, undefined);
  await barrier();
  assert.equal(rowsFor(server.dataDir, "save-2-replay").length, 0, "the replay recorded nothing new");
  assert.equal(rowsFor(server.dataDir, "get-note").length, 0, "get_note declares no billing");
  assert.equal(ledgerRows(server.dataDir).filter((r) => r.tool === "save_note" && r.request_id.startsWith("save-")).length, 1);
  assert.equal(await metric(server.metricsPort, /^mcp_meter_events_total\{outcome="duplicate"\}/), duplicatesBefore + 1, "the replay was seen as a duplicate");
});

test("a tool error, an upstream failure, a drifted upstream and invalid arguments → no row", async () => {
  c.tag("conflict");
  const conflict = await call(c.client, "save_note", { request_id: `conf-${randomUUID()}`, title: "a", body: "a" });
  assert.equal(conflict.isError, undefined);
  const again = await call(c.client, "save_note", { request_id: (conflict.structuredContent as { note: { request_id: string } }).note.request_id, title: "a", body: "different" });
  assert.equal(again.isError, true, "idempotency conflict is a tool error");
  await waitForRows(server.dataDir, "conflict", 1); // the first, successful call
  stub.setMode("down");
  c.tag("upstream-down");
  assert.equal((await call(c.client, "get_forecast", { latitude: 1, longitude: 1, days: 2 })).isError, true);
  stub.setMode("drifted");
  c.tag("upstream-drifted");
  assert.equal((await call(c.client, "get_forecast", { latitude: 1, longitude: 1, days: 2 })).isError, true);
  c.tag("invalid-args");
  assert.equal((await call(c.client, "get_forecast", { latitude: 1, longitude: 1, days: 99 })).isError, true);
  await barrier();
  for (const id of ["upstream-down", "upstream-drifted", "invalid-args"]) assert.deepEqual(rowsFor(server.dataDir, id), [], `${id}: no row`);
  assert.equal(rowsFor(server.dataDir, "conflict").length, 1, "only the successful save_note of that request");
});

test("a client that aborts before the response → no row (and it is counted as client_gone)", async () => {
  stub.setMode("slow"); // the upstream answers after 1.5 s; the client drops the connection after 300 ms
  const gone = await metric(server.metricsPort, /^mcp_meter_events_total\{outcome="client_gone"\}/);
  c.tag("aborted");
  c.dropNextAfter(300);
  await assert.rejects(call(c.client, "get_forecast", { latitude: 3, longitude: 3, days: 2 }));
  // The tool still completes on the server (the upstream answers); its response has nowhere to go.
  await server.waitForLog((e) => e.event === "meter_not_billed", 5000);
  assert.equal(await metric(server.metricsPort, /^mcp_meter_events_total\{outcome="client_gone"\}/), gone + 1);
  await barrier();
  assert.deepEqual(rowsFor(server.dataDir, "aborted"), []);
});

test("progress (SSE response) → one row once the stream's final event is written", async () => {
  stub.setMode("normal");
  c.tag("sse-call");
  const steps: unknown[] = [];
  const r = await c.client.callTool({ name: "get_forecast", arguments: { latitude: 5, longitude: 5, days: 3 } }, undefined, { onprogress: (p) => steps.push(p), timeout: 10_000 });
  assert.equal(r.isError, undefined);
  assert.ok(steps.length > 0, "answered as an SSE stream with progress");
  const [row] = await waitForRows(server.dataDir, "sse-call", 1);
  assert.equal(row!.units, 3);
});

test("a ledger write failure: the client still gets its answer; the failure is logged with the event and counted", async () => {
  // A real SQLite failure, from outside the server process: a trigger that aborts every insert.
  const db = new DatabaseSync(join(server.dataDir, LEDGER_FILE));
  db.exec("CREATE TRIGGER refuse BEFORE INSERT ON usage_events BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
  try {
    stub.setMode("normal");
    c.tag("write-fails");
    const before = await metric(server.metricsPort, /^mcp_meter_write_failures_total /);
    const r = await call(c.client, "get_forecast", { latitude: 7, longitude: 7, days: 1 });
    assert.equal(r.isError, undefined, "billing trouble never turns a delivered answer into an error");
    const log = await server.waitForLog((e) => e.event === "meter_write_failed");
    assert.equal(log.level, "error");
    const usage = log.usage as Record<string, unknown>;
    assert.deepEqual([usage.tool, usage.request_id, usage.units, usage.credential], ["get_forecast", "write-fails", 1, apiKeyId(KEY)], "the log carries the event for reconciliation");
    assert.match(String((log.err as { message: string }).message), /disk says no/);
    assert.equal(await metric(server.metricsPort, /^mcp_meter_write_failures_total /), before + 1);
  } finally {
    db.exec("DROP TRIGGER refuse");
    db.close();
  }
  assert.deepEqual(rowsFor(server.dataDir, "write-fails"), []);
});

test("stateful session, call cancelled by the client (notifications/cancelled): the tool finishes, no response is sent → no row", { timeout: 30_000 }, async () => {
  const stateful = await startServer({ MCP_SESSIONS: "stateful", UPSTREAM_URL: stub.url, UPSTREAM_TIMEOUT_MS: "3000" });
  const s = await taggedClient(stateful.mcpUrl);
  try {
    stub.setMode("slow");
    s.tag("cancelled");
    // The SDK client's abort sends notifications/cancelled on the session; the server's Protocol then drops the result.
    await assert.rejects(s.client.callTool({ name: "get_forecast", arguments: { latitude: 4, longitude: 4, days: 2 } }, undefined, { signal: AbortSignal.timeout(300) }));
    await stateful.waitForLog((e) => e.event === "tool_call" && e.request_id === "cancelled" && e.outcome === "ok", 5000);
    stub.setMode("normal");
    s.tag("after-cancel");
    assert.equal((await call(s.client, "get_forecast", { latitude: 4, longitude: 4, days: 1 })).isError, undefined);
    await waitForRows(stateful.dataDir, "after-cancel", 1);
    await s.client.close(); // closes the cancelled call's still-open SSE stream
    await stateful.waitForLog((e) => e.event === "meter_not_billed", 5000);
    assert.deepEqual(rowsFor(stateful.dataDir, "cancelled"), []);
  } finally {
    await s.client.close();
    await stateful.stop();
  }
});
