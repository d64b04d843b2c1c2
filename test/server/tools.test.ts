// Every tool driven by the SDK's Client over HTTP against the real server, with the upstream stub in all four modes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { connect, call, text } from "./mcp-client.ts";

let server: RunningServer;
let stub: UpstreamStub;
let client: Client;

before(async () => {
  stub = await startUpstreamStub({ slowMs: 3000 });
  server = await startServer({ UPSTREAM_URL: stub.url, UPSTREAM_TIMEOUT_MS: "400", UPSTREAM_RETRIES: "2" });
  client = await connect(server.mcpUrl);
});
after(async () => {
  await client?.close();
  await server?.stop();
  await stub?.stop();
});

const metric = async (line: RegExp): Promise<number> => {
  const body = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
  const m = body.split("\n").find((l) => line.test(l));
  return m ? Number(m.split(" ").pop()) : 0;
};

test("tools/list: every tool has a title, description, bounded described params, annotations and an outputSchema", async () => {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), ["get_forecast", "get_note", "save_note", "search_notes"]);
  for (const t of tools) {
    assert.ok(t.title, `${t.name} title`);
    assert.ok((t.description ?? "").length > 60, `${t.name} description`);
    assert.ok(t.annotations && typeof t.annotations.readOnlyHint === "boolean", `${t.name} annotations`);
    assert.equal(t.outputSchema?.type, "object", `${t.name} outputSchema`);
    for (const [k, p] of Object.entries(t.inputSchema.properties ?? {})) assert.ok((p as { description?: string }).description, `${t.name}.${k} described`);
  }
  const f = tools.find((t) => t.name === "get_forecast")!;
  const props = f.inputSchema.properties as Record<string, { minimum?: number; maximum?: number }>;
  assert.deepEqual([props.latitude!.minimum, props.latitude!.maximum], [-90, 90]);
  assert.deepEqual([props.longitude!.minimum, props.longitude!.maximum], [-180, 180]);
  assert.deepEqual([props.days!.minimum, props.days!.maximum], [1, 16]);
  assert.equal(f.annotations?.readOnlyHint, true);
  assert.equal(f.annotations?.openWorldHint, true);
  const save = tools.find((t) => t.name === "save_note")!;
  assert.equal(save.annotations?.readOnlyHint, false);
  assert.equal(save.annotations?.idempotentHint, true);
  assert.equal((save.inputSchema.properties as Record<string, { maxItems?: number }>).tags!.maxItems, 10);
  const search = tools.find((t) => t.name === "search_notes")!;
  assert.equal((search.inputSchema.properties as Record<string, { maximum?: number }>).limit!.maximum, 50);
});

test("get_forecast (normal upstream): structuredContent matches the stub's data", async () => {
  stub.setMode("normal");
  const r = await call(client, "get_forecast", { latitude: 52.52, longitude: 13.41, days: 4 });
  assert.equal(r.isError, undefined);
  const s = r.structuredContent as { latitude: number; days: Array<{ date: string; temperature_max_c: number; precipitation_mm: number }> };
  assert.equal(s.latitude, 52.52);
  assert.equal(s.days.length, 4);
  assert.deepEqual(s.days[1], { date: "2026-01-02", temperature_max_c: 11, temperature_min_c: 3, precipitation_mm: 0.5 });
  assert.deepEqual(JSON.parse(text(r)), s);
});

test("get_forecast (drifted upstream): clear tool error, schema-error metric, no half-parsed data", async () => {
  stub.setMode("drifted");
  const before = await metric(/^mcp_upstream_schema_errors_total /);
  const r = await call(client, "get_forecast", { latitude: 1, longitude: 2 });
  assert.equal(r.isError, true);
  assert.match(text(r), /upstream response format changed/);
  assert.match(text(r), /\(daily: invalid_type\)/, "names the field that drifted");
  assert.equal(r.structuredContent, undefined);
  assert.equal(await metric(/^mcp_upstream_schema_errors_total /), before + 1);
  assert.ok(await metric(/^mcp_tool_calls_total\{tool="get_forecast",status="error"\}/) >= 1);
});

test("get_forecast (slow upstream): times out per attempt, retries a bounded number of times, answers an error fast", async () => {
  stub.setMode("slow");
  stub.resetRequests();
  const t = performance.now();
  const r = await call(client, "get_forecast", { latitude: 1, longitude: 2 });
  const ms = performance.now() - t;
  assert.equal(r.isError, true);
  assert.match(text(r), /did not answer within 400 ms \(after 3 attempts\)/);
  assert.equal(stub.requests(), 3, "1 try + UPSTREAM_RETRIES=2");
  // 3×400 ms + backoff ≈ 1.6 s; one attempt that waited for the slow stub (3 s) would make it ≥ 4.4 s, all three ≥ 9 s.
  // < 4 s proves the per-attempt timeout and leaves a loaded host 2.4 s.
  assert.ok(ms < 4000, `bounded: 3×400 ms + backoff, took ${ms} ms`);
});

test("get_forecast (down upstream): retried, then a clear unavailable error", async () => {
  stub.setMode("down");
  stub.resetRequests();
  const r = await call(client, "get_forecast", { latitude: 1, longitude: 2 });
  assert.equal(r.isError, true);
  assert.match(text(r), /upstream unreachable.*after 3 attempts/);
  assert.equal(stub.requests(), 3);
  stub.setMode("normal");
  const ok = await call(client, "get_forecast", { latitude: 1, longitude: 2 });
  assert.equal(ok.isError, undefined, "recovers when the upstream is back");
});

test("out-of-range and wrongly typed arguments are invalid-params tool errors naming the parameter", async () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["get_forecast", { latitude: 91, longitude: 0 }, /latitude/],
    ["get_forecast", { latitude: 0, longitude: -181 }, /longitude/],
    ["get_forecast", { latitude: 0, longitude: 0, days: 17 }, /days/],
    ["get_forecast", { latitude: "north", longitude: 0 }, /latitude/],
    ["save_note", { request_id: "short", title: "t", body: "b" }, /request_id/],
    ["save_note", { request_id: randomUUID(), title: "t", body: "b", tags: Array(11).fill("x") }, /tags/],
    ["get_note", { id: "not-a-uuid" }, /id/],
    ["search_notes", { query: "x", limit: 51 }, /limit/],
    ["search_notes", { query: "x", limit: 1.5 }, /limit/],
  ];
  for (const [tool, args, re] of cases) {
    const r = await call(client, tool, args);
    assert.equal(r.isError, true, `${tool} ${JSON.stringify(args)}`);
    assert.match(text(r), /Invalid arguments|validation/i);
    assert.match(text(r), re);
  }
  // An unknown tool is a protocol error, not a tool result: MCP 2025-11-25 server/tools "Error Handling" lists
  // "Unknown tools" under protocol errors (JSON-RPC -32602 Invalid params), answered before any tool handler runs.
  await assert.rejects(call(client, "no_such_tool", {}), (e: { code?: number; message?: string }) =>
    e.code === -32602 && /unknown tool "no_such_tool"/.test(e.message ?? ""));
});

test("save_note is idempotent by request_id; a conflicting reuse is an error; get_note and search_notes read it back", async () => {
  const rid = randomUUID();
  const args = { request_id: rid, title: "Packing list", body: "umbrella, boots", tags: ["trip"] };
  const first = await call(client, "save_note", args);
  assert.equal(first.isError, undefined);
  const a = first.structuredContent as { note: { id: string; created_at: string }; replayed: boolean };
  assert.equal(a.replayed, false);
  const again = await call(client, "save_note", args);
  const b = again.structuredContent as typeof a;
  assert.equal(b.replayed, true);
  assert.deepEqual(b.note, a.note, "the stored result, not a second write");
  const conflict = await call(client, "save_note", { ...args, body: "something else" });
  assert.equal(conflict.isError, true);
  assert.match(text(conflict), /already used with different arguments/);

  const got = await call(client, "get_note", { id: a.note.id });
  assert.deepEqual((got.structuredContent as { note: unknown }).note, a.note);
  const missing = await call(client, "get_note", { id: randomUUID() });
  assert.equal(missing.isError, true);
  assert.match(text(missing), /no note with id/);

  const found = await call(client, "search_notes", { query: "UMBRELLA" });
  const notes = (found.structuredContent as { notes: Array<{ id: string }>; count: number });
  assert.equal(notes.count, 1);
  assert.equal(notes.notes[0]!.id, a.note.id);
  // LIKE wildcards in the query are literal text.
  assert.equal((await call(client, "search_notes", { query: "%" })).structuredContent!.count, 0);
});

test("search_notes honours limit", async () => {
  for (let i = 0; i < 5; i++) await call(client, "save_note", { request_id: `limit-test-${i}-${randomUUID()}`, title: `bulk ${i}`, body: "bulk note" });
  const r = await call(client, "search_notes", { query: "bulk", limit: 3 });
  assert.equal((r.structuredContent as { count: number }).count, 3);
});

test("metrics and one log entry per tool call (tool, ids, duration, outcome, error type; never results)", async () => {
  const body = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
  assert.match(body, /^mcp_tool_calls_total\{tool="save_note",status="ok"\} \d+/m);
  assert.match(body, /^mcp_tool_duration_seconds_bucket\{le="0.005",tool="save_note"\} \d+/m);
  assert.match(body, /^mcp_upstream_request_duration_seconds_count\{outcome="timeout"\} 3/m);
  assert.match(body, /^process_resident_memory_bytes \d+/m);
  await server.waitForLog((e) => e.event === "tool_call" && e.tool === "search_notes" && e.outcome === "ok");
  const calls = server.logEntries().filter((e) => e.event === "tool_call");
  const conflict = calls.find((e) => e.tool === "save_note" && e.error_type === "idempotency_conflict");
  assert.ok(conflict, "conflict logged with its error type");
  assert.equal(conflict.outcome, "error");
  assert.equal(typeof conflict.duration_ms, "number");
  assert.ok(conflict.rpc_id !== undefined && typeof conflict.request_id === "string");
  assert.ok(calls.some((e) => e.error_type === "upstream_schema"));
  assert.ok(calls.some((e) => e.tool === "get_forecast" && e.error_type === "invalid_params"), "SDK-rejected arguments are logged too");
  // An unknown tool never reaches a tool (a -32602 protocol error, MCP 2025-11-25 server/tools "Error Handling"):
  // it is no tool call, and its name becomes no label value and no log field.
  assert.ok(!calls.some((e) => e.tool === "no_such_tool" || e.tool === "unknown"), "an unknown tool is not logged as a tool call");
  assert.doesNotMatch(body, /^mcp_tool_calls_total\{tool="unknown"/m);
  assert.doesNotMatch(body, /no_such_tool/);
  assert.ok(calls.some((e) => e.error_type === "upstream_timeout"));
  assert.doesNotMatch(server.logs(), /umbrella|Packing list|temperature_max/, "no arguments or results in logs");
});

test("before any call every tool's series are exposed at 0 (so rate() counts a first burst of errors)", async () => {
  const fresh = await startServer({ UPSTREAM_URL: stub.url });
  try {
    const body = await (await fetch(`http://127.0.0.1:${fresh.metricsPort}/metrics`)).text();
    for (const tool of ["get_forecast", "save_note", "get_note", "search_notes"]) {
      for (const status of ["ok", "error"]) assert.match(body, new RegExp(`^mcp_tool_calls_total\\{tool="${tool}",status="${status}"\\} 0$`, "m"), `${tool} ${status}`);
      assert.match(body, new RegExp(`^mcp_tool_duration_seconds_count\\{tool="${tool}"\\} 0$`, "m"), `${tool} duration`);
    }
    assert.doesNotMatch(body, /tool="unknown"/, "no series for tools that do not exist");
  } finally { await fresh.stop(); }
});
