// HTTP-level behaviour against the real server: bad input never yields a 500, Host/Origin validation, stateless
// method rules, stateful sessions (404 unknown, DELETE), deep /health vs shallow /livez.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import fc from "fast-check";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { startAll, waitFor } from "../support/proc.ts";
import { connect, call, initializeBody, MCP_HEADERS } from "./mcp-client.ts";

let stateless: RunningServer;
let stateful: RunningServer;
let stub: UpstreamStub;

before(async () => {
  stub = await startUpstreamStub({ slowMs: 3000 });
  [stateless, stateful] = await startAll([
    () => startServer({ UPSTREAM_URL: stub.url, HEALTH_CACHE_MS: "300", HEALTH_UPSTREAM_TIMEOUT_MS: "300", MAX_BODY_BYTES: "65536" }),
    () => startServer({ UPSTREAM_URL: stub.url, MCP_SESSIONS: "stateful", METRICS_EVENT_LOOP_RESOLUTION_MS: "200" }),
  ]);
});
after(async () => {
  await Promise.all([stateless?.stop(), stateful?.stop()]);
  await stub?.stop();
});

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { ...MCP_HEADERS, ...headers }, body });

/** A raw request (fetch cannot set Host). */
function rawPost(port: number, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/mcp", method: "POST", headers: { ...MCP_HEADERS, ...headers } }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () => resolve({ status: res.statusCode!, body: b }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

// JSON-RPC 2.0 §5.1: -32700 Parse error = "Invalid JSON was received"; -32600 Invalid Request = "The JSON sent is
// not a valid Request object" — so a body that parses as JSON (a number, an object without `jsonrpc`) is -32600.
test("a body that is not JSON → 400 -32700; JSON that is not a JSON-RPC message → 400 -32600 (JSON-RPC 2.0 §5.1)", async () => {
  for (const [body, code] of [["{bad json", -32700], ['{"jsonrpc":"2.0",', -32700], ["42", -32600], ['{"id":1,"method":"ping"}', -32600]] as const) {
    const r = await post(stateless.mcpUrl, body);
    assert.equal(r.status, 400, body);
    const j = await r.json() as { jsonrpc: string; error: { code: number; message: string } };
    assert.equal(j.jsonrpc, "2.0", body);
    assert.equal(j.error.code, code, body);
  }
});

test("body over the limit → 413 (declared length and chunked)", async () => {
  const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(70_000) } });
  const r = await post(stateless.mcpUrl, big);
  assert.equal(r.status, 413);
  assert.equal((await r.json() as { error: { code: number } }).error.code, -32600);
  const chunked = await fetch(stateless.mcpUrl, {
    method: "POST", headers: MCP_HEADERS, duplex: "half",
    body: new ReadableStream({ start(c) { for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode("x".repeat(10_000))); c.close(); } }),
  } as RequestInit);
  assert.equal(chunked.status, 413);
  assert.equal((await fetch(`${stateless.url}/livez`)).status, 200, "still alive");
});

test("non-JSON-RPC payloads and wrong content type are 4xx, never 500", async () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['{"hello":"world"}', {}],
    ["[]", {}],
    ['{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"nope"}', {}],
    [initializeBody, { "content-type": "text/plain" }],
    [initializeBody, { accept: "text/html" }],
  ];
  for (const [body, headers] of cases) {
    const r = await post(stateless.mcpUrl, body, headers);
    assert.ok(r.status < 500, `${body} ${JSON.stringify(headers)} → ${r.status}`);
  }
});

test("malformed params of a request the server handles → -32602 naming the field, never -32603 with a zod dump", async () => {
  const rpc = (id: number, method: string, params: unknown) => ({ jsonrpc: "2.0", id, method, params });
  type Answer = { id: number; error?: { code: number; message: string }; result?: unknown };
  const expectInvalid = (a: Answer | undefined, id: number, re: RegExp) => {
    assert.equal(a?.id, id);
    assert.equal(a?.error?.code, -32602, JSON.stringify(a));
    assert.match(a!.error!.message, re);
    assert.doesNotMatch(a!.error!.message, /[[{\n]/, "a readable message, not a JSON dump");
  };
  const cases: Array<[string, unknown, RegExp]> = [
    ["tools/call", { name: 5 }, /^Invalid params for tools\/call: params\.name: expected string, received number$/],
    ["tools/call", { name: "get_note", arguments: "x" }, /^Invalid params for tools\/call: params\.arguments: expected object, received string$/],
    ["tools/call", { arguments: {} }, /params\.name: expected string, received undefined/],
    ["tools/list", { cursor: 5 }, /^Invalid params for tools\/list: params\.cursor: expected string/],
    ["initialize", {}, /^Invalid params for initialize: params\.protocolVersion: expected string/],
  ];
  for (const [method, params, re] of cases) {
    const r = await post(stateless.mcpUrl, JSON.stringify(rpc(7, method, params)));
    assert.equal(r.status, 200);
    expectInvalid(await r.json() as Answer, 7, re);
  }
  // A batch, where the protocol has batches (2025-03-26, basic/transports "Sending Messages to the Server": the body
  // MAY be an array; removed in 2025-06-18): the well-formed request is still answered normally, each answer under
  // its own id. The refusal of batches elsewhere is its own test (http-hardening.test.ts).
  const batchBody = JSON.stringify([rpc(1, "ping", {}), rpc(2, "tools/call", { name: 5 })]);
  const batched = await post(stateless.mcpUrl, batchBody, { "mcp-protocol-version": "2025-03-26" });
  assert.equal(batched.status, 200);
  const batch = await batched.json() as Answer[];
  assert.ok(Array.isArray(batch), JSON.stringify(batch));
  assert.deepEqual(batch.find((a) => a.id === 1)?.result, {});
  expectInvalid(batch.find((a) => a.id === 2), 2, /params\.name/);
  // A call asking for progress is answered as SSE: the error arrives there.
  const sse = await post(stateless.mcpUrl, JSON.stringify(rpc(3, "tools/call", { name: 5, _meta: { progressToken: "p" } })));
  assert.match(sse.headers.get("content-type") ?? "", /^text\/event-stream/);
  const event = (body: string) => JSON.parse(/^data: (.*)$/m.exec(body)?.[1] ?? "null") as Answer;
  expectInvalid(event(await sse.text()), 3, /params\.name/);
  // Methods the server has no handler for stay "method not found", whatever their params.
  const unknown = await (await post(stateless.mcpUrl, JSON.stringify(rpc(4, "resources/read", { uri: 5 })))).json() as Answer;
  assert.equal(unknown.error?.code, -32601);
  // Stateful: the session's transport answers it too (as SSE), after its own session checks.
  const client = await connect(stateful.mcpUrl);
  const sid = (client.transport as unknown as { sessionId: string }).sessionId;
  const inSession = await post(stateful.mcpUrl, JSON.stringify(rpc(5, "tools/call", { name: "get_note", arguments: "x" })), { "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" });
  expectInvalid(event(await inSession.text()), 5, /params\.arguments/);
  assert.deepEqual(await client.ping(), {}, "the session still works");
  await client.close();
});

test("Host and Origin validation: foreign Host → 403, foreign Origin → 403, own origin accepted", async () => {
  const evilHost = await rawPost(stateless.port, { host: "evil.example.com" }, initializeBody);
  assert.equal(evilHost.status, 403);
  const evilOrigin = await rawPost(stateless.port, { origin: "http://evil.example.com" }, initializeBody);
  assert.equal(evilOrigin.status, 403);
  assert.match(evilOrigin.body, /Origin not allowed/);
  const nullOrigin = await rawPost(stateless.port, { origin: "null" }, initializeBody);
  assert.equal(nullOrigin.status, 403);
  const own = await rawPost(stateless.port, { origin: `http://127.0.0.1:${stateless.port}` }, initializeBody);
  assert.equal(own.status, 200);
  const noOrigin = await rawPost(stateless.port, {}, initializeBody);
  assert.equal(noOrigin.status, 200, "non-browser clients send no Origin");
});

test("stateless: GET and DELETE /mcp → 405; unknown path → 404", async () => {
  for (const method of ["GET", "DELETE"]) {
    const r = await fetch(stateless.mcpUrl, { method, headers: MCP_HEADERS });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.get("allow"), "POST");
  }
  assert.equal((await fetch(`${stateless.url}/nope`)).status, 404);
  assert.equal((await fetch(`${stateless.url}/metrics`)).status, 404, "metrics only on METRICS_PORT");
});

test("stateless: no session id is issued and the SDK client works", async () => {
  const r = await post(stateless.mcpUrl, initializeBody);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("mcp-session-id"), null);
  const client = await connect(stateless.mcpUrl);
  assert.deepEqual(await client.ping(), {});
  await client.close();
});

test("stateless: a multiplexed JSON answer carries its Content-Length (not chunked: nginx relays it in one record)", async () => {
  const r = await post(stateless.mcpUrl, JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/list" }), { "mcp-protocol-version": "2025-11-25" });
  const body = await r.text();
  assert.equal(r.status, 200, body);
  assert.equal(r.headers.get("content-length"), String(Buffer.byteLength(body)));
  assert.equal(r.headers.get("transfer-encoding"), null);
  assert.equal((JSON.parse(body) as { id: number }).id, 7);
});

test("stateful: SDK client keeps a session; unknown session → 404; DELETE ends it", async () => {
  const client = await connect(stateful.mcpUrl);
  const transport = client.transport as unknown as { sessionId?: string; terminateSession(): Promise<void> };
  const sid = transport.sessionId;
  assert.match(sid ?? "", /^[0-9a-f-]{36}$/);
  const r = await call(client, "search_notes", { query: "anything" });
  assert.equal(r.isError, undefined);

  const unknown = await post(stateful.mcpUrl, JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }), { "mcp-session-id": "00000000-0000-0000-0000-000000000000", "mcp-protocol-version": "2025-11-25" });
  assert.equal(unknown.status, 404);
  const noSession = await post(stateful.mcpUrl, JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }));
  assert.equal(noSession.status, 400);

  await transport.terminateSession();
  const after = await post(stateful.mcpUrl, JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ping" }), { "mcp-session-id": sid!, "mcp-protocol-version": "2025-11-25" });
  assert.equal(after.status, 404, "a deleted session is gone");
  const del = await fetch(stateful.mcpUrl, { method: "DELETE", headers: { "mcp-session-id": sid! } });
  assert.equal(del.status, 404);
  await client.close();
});

test("/health is deep (store + cached upstream with timeout), /livez stays shallow", async () => {
  stub.setMode("normal");
  const ok = await fetch(`${stateless.url}/health`);
  assert.equal(ok.status, 200);
  const body = await ok.json() as { status: string; checks: { store: { status: string }; upstream: { status: string } } };
  assert.equal(body.status, "healthy");
  assert.equal(body.checks.store.status, "ok");
  assert.equal(body.checks.upstream.status, "ok");

  // The store check is a real write: each /health call leaves a new probe value in the database.
  const probe = () => {
    const db = new DatabaseSync(join(stateless.dataDir, "notes.sqlite"), { readOnly: true });
    try { return (db.prepare("SELECT v FROM health_probe WHERE k = 'probe'").get() as { v: string }).v; } finally { db.close(); }
  };
  const v1 = probe();
  stub.resetRequests();
  const cached = await (await fetch(`${stateless.url}/health`)).json() as { checks: { upstream: { cached: boolean } } };
  assert.equal(cached.checks.upstream.cached, true);
  assert.equal(stub.requests(), 0, "upstream check is cached");
  assert.notEqual(probe(), v1, "store written on every /health call");

  for (const mode of ["down", "slow", "drifted"] as const) {
    stub.setMode(mode);
    // The condition, not a pause: poll until an answer comes from a fresh upstream check (the cache expired).
    const { status, j, ms } = await waitFor(`${mode}: /health from a fresh upstream check`, async () => {
      const t = performance.now();
      const r = await fetch(`${stateless.url}/health`);
      const body = await r.json() as { status: string; checks: { store: { status: string }; upstream: { status: string; error: string; cached: boolean } } };
      return body.checks.upstream.cached ? undefined : { status: r.status, j: body, ms: performance.now() - t };
    }, { timeoutMs: 10_000, intervalMs: 50 });
    // Bounded by HEALTH_UPSTREAM_TIMEOUT_MS (300 ms), not by the slow stub (3 s): < 2.5 s leaves a loaded host 2.2 s.
    assert.ok(ms < 2500, `${mode}: health check bounded by its timeout, took ${ms} ms`);
    assert.equal(status, 503, mode);
    assert.equal(j.status, "degraded");
    assert.equal(j.checks.store.status, "ok");
    assert.equal(j.checks.upstream.status, "fail");
    assert.equal((await fetch(`${stateless.url}/livez`)).status, 200, `${mode}: livez unaffected`);
  }
  stub.setMode("normal");
});

test("property: arbitrary request bodies never produce a 5xx or kill the server", { timeout: 120_000 }, async () => {
  const methods = fc.constantFrom("initialize", "ping", "tools/list", "tools/call", "notifications/initialized", "resources/list", "x");
  const rpc = fc.record({
    jsonrpc: fc.oneof(fc.constant("2.0"), fc.string()),
    id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.object()),
    method: fc.oneof(methods, fc.string()),
    params: fc.oneof(fc.object(), fc.jsonValue(), fc.record({ name: fc.constantFrom("get_forecast", "save_note", "get_note", "search_notes"), arguments: fc.jsonValue() })),
  }, { requiredKeys: [] });
  const body = fc.oneof(rpc.map((r) => JSON.stringify(r)), fc.array(rpc, { maxLength: 3 }).map((a) => JSON.stringify(a)), fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)));
  for (const server of [stateless, stateful]) {
    await fc.assert(fc.asyncProperty(body, async (b) => {
      const r = await post(server.mcpUrl, b);
      await r.arrayBuffer();
      return r.status < 500;
    }), { numRuns: 120, seed: 4242 });
    assert.equal((await fetch(`${server.url}/livez`)).status, 200);
    assert.ok(!server.logs().includes('"level":"error"'), "no unexpected errors logged");
  }
});

/** The smallest event-loop delay sample since the last scrape (prom-client resets it per scrape), once there is one. */
async function eventLoopLagMin(s: RunningServer): Promise<number> {
  for (let i = 0; i < 40; i++) {
    const text = await (await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`)).text();
    const v = Number(/^nodejs_eventloop_lag_min_seconds (\S+)$/m.exec(text)?.[1]);
    if (Number.isFinite(v) && v > 0 && v < 60) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no event-loop delay sample on :${s.metricsPort} within 20 s`);
}

test("METRICS_EVENT_LOOP_RESOLUTION_MS sets the event-loop delay timer: each sample is at least its period (default 10 ms)", async () => {
  const [byDefault, coarse] = await Promise.all([eventLoopLagMin(stateless), eventLoopLagMin(stateful)]);
  assert.ok(byDefault >= 0.009 && byDefault < 0.1, `default resolution: smallest sample ${byDefault} s`);
  assert.ok(coarse >= 0.19, `METRICS_EVENT_LOOP_RESOLUTION_MS=200: smallest sample ${coarse} s`);
});
