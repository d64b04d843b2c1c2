// Streaming: a tools/call that carries params._meta.progressToken is answered as an SSE stream whose
// notifications/progress (get_forecast's real upstream steps) arrive before the result; an ordinary call keeps the
// JSON answer in stateless mode. Driven by the SDK Client (onprogress) and by a raw POST, in both session modes,
// including metrics/logs for streamed calls and a SIGTERM drain that lets a streamed call finish.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { startAll, waitFor } from "../support/proc.ts";
import { connect, MCP_HEADERS } from "./mcp-client.ts";
import { wantsEventStream } from "../../server/src/streaming.ts";

const MODES = ["stateless", "stateful"] as const;
const ARGS = { latitude: 52.52, longitude: 13.41, days: 2 };

let stub: UpstreamStub;
const servers = {} as Record<(typeof MODES)[number], RunningServer>;

before(async () => {
  stub = await startUpstreamStub({ slowMs: 1500 });
  const start = (m: (typeof MODES)[number]) => startServer({ UPSTREAM_URL: stub.url, MCP_SESSIONS: m });
  [servers.stateless, servers.stateful] = await startAll([() => start("stateless"), () => start("stateful")]);
});
after(async () => {
  await Promise.all(MODES.map((m) => servers[m]?.stop()));
  await stub?.stop();
});

/** A fetch for the SDK client that records the Content-Type the server chose for each POSTed tools/call. */
function recordingFetch(): { fetch: FetchLike; callTypes: Array<{ progress: boolean; contentType: string | null }> } {
  const callTypes: Array<{ progress: boolean; contentType: string | null }> = [];
  const fetchLike: FetchLike = async (url, init) => {
    const res = await fetch(url, init);
    const msg = init?.method === "POST" && typeof init.body === "string" ? JSON.parse(init.body) as { method?: string; params?: { _meta?: object } } : undefined;
    if (msg?.method === "tools/call") callTypes.push({ progress: msg.params?._meta !== undefined && "progressToken" in msg.params._meta, contentType: res.headers.get("content-type") });
    return res;
  };
  return { fetch: fetchLike, callTypes };
}

/** Calls a tool with an onprogress callback; returns the result and the order in which progress and result arrived. */
async function callWithProgress(client: Client, name: string, args: Record<string, unknown>, onEach?: (p: Progress) => void) {
  const order: string[] = [];
  const progress: Progress[] = [];
  const result = await client.callTool({ name, arguments: args }, undefined, {
    timeout: 15_000,
    onprogress: (p) => { progress.push(p); order.push(`progress ${p.progress}`); onEach?.(p); },
  }) as CallToolResult;
  order.push("result");
  return { result, progress, order };
}

const messages = (progress: Progress[]) => progress.map((p) => p.message ?? "");

for (const mode of MODES) {
  test(`${mode}: get_forecast with a progressToken streams its upstream steps before the result`, async () => {
    stub.setMode("normal");
    const rec = recordingFetch();
    const client = await connect(servers[mode].mcpUrl, {}, rec.fetch);
    try {
      const { result, progress, order } = await callWithProgress(client, "get_forecast", ARGS);
      assert.equal(result.isError, undefined);
      assert.equal((result.structuredContent as { days: unknown[] }).days.length, 2);
      assert.deepEqual(order, ["progress 1", "progress 2", "progress 3", "result"]);
      assert.match(messages(progress)[0]!, /^requesting the forecast from the upstream API \(attempt 1 of 3\)$/);
      assert.match(messages(progress)[1]!, /^upstream answered HTTP 200 \(\d+ characters\); validating the response format$/);
      assert.equal(messages(progress)[2], "response valid: 2 day(s) for the grid cell at 52.52, 13.41");

      const plain = await client.callTool({ name: "get_forecast", arguments: ARGS }) as CallToolResult;
      assert.equal(plain.isError, undefined);
      // Stateless chooses per request; a stateful session's transport is SSE for every request (sessions.ts).
      assert.deepEqual(rec.callTypes, [
        { progress: true, contentType: "text/event-stream" },
        { progress: false, contentType: mode === "stateless" ? "application/json" : "text/event-stream" },
      ]);
    } finally { await client.close(); }
  });
}

test("stateless: retries are reported as progress, and the failed call still ends with its tool error", async () => {
  stub.setMode("down");
  const client = await connect(servers.stateless.mcpUrl);
  try {
    const { result, progress, order } = await callWithProgress(client, "get_forecast", ARGS);
    assert.equal(result.isError, true);
    assert.match(JSON.stringify(result.content), /upstream unreachable .*after 3 attempts/);
    assert.deepEqual(messages(progress), [
      "requesting the forecast from the upstream API (attempt 1 of 3)",
      "upstream unreachable or sent an unreadable response; retrying in 200 ms (attempt 2 of 3)",
      "upstream unreachable or sent an unreadable response; retrying in 400 ms (attempt 3 of 3)",
    ]);
    assert.equal(order.at(-1), "result");
  } finally { await client.close(); }
});

test("stateless: a raw POST with _meta.progressToken (no initialize needed) gets progress events, then the result, as SSE", async () => {
  stub.setMode("normal");
  const res = await fetch(servers.stateless.mcpUrl, {
    method: "POST", headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "get_forecast", arguments: ARGS, _meta: { progressToken: "p-7" } } }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  assert.equal(res.headers.get("x-accel-buffering"), "no");
  const events = (await res.text()).split("\n\n").filter((e) => e.trim()).map((e) => {
    assert.match(e, /^event: message\ndata: /);
    return JSON.parse(e.slice(e.indexOf("data: ") + 6)) as { method?: string; id?: number; params?: { progressToken: string; progress: number }; result?: { structuredContent: { days: unknown[] } } };
  });
  assert.deepEqual(events.map((e) => e.method ?? `result ${e.id}`), ["notifications/progress", "notifications/progress", "notifications/progress", "result 7"]);
  assert.deepEqual(events.slice(0, 3).map((e) => [e.params!.progressToken, e.params!.progress]), [["p-7", 1], ["p-7", 2], ["p-7", 3]]);
  assert.equal(events[3]!.result!.structuredContent.days.length, 2);

  const plain = await fetch(servers.stateless.mcpUrl, {
    method: "POST", headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: "get_forecast", arguments: ARGS } }),
  });
  assert.match(plain.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(((await plain.json()) as { id: number }).id, 8);

  // A client that does not accept SSE never gets a stream: the SDK's transport refuses the POST (406).
  const noSse = await fetch(servers.stateless.mcpUrl, {
    method: "POST", headers: { ...MCP_HEADERS, accept: "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "get_forecast", arguments: ARGS, _meta: { progressToken: "p-9" } } }),
  });
  assert.equal(noSse.status, 406);
  assert.doesNotMatch(noSse.headers.get("content-type") ?? "", /event-stream/);
});

test("stateless: each event is written when its step happens, not buffered until the result (slow upstream)", async () => {
  stub.setMode("slow"); // the stub answers after 1500 ms
  const started = performance.now();
  const res = await fetch(servers.stateless.mcpUrl, {
    method: "POST", headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "get_forecast", arguments: ARGS, _meta: { progressToken: 9 } } }),
  });
  const arrivals: Array<{ ms: number; text: string }> = [];
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) arrivals.push({ ms: performance.now() - started, text: decoder.decode(chunk as Uint8Array, { stream: true }) });
  const at = (re: RegExp) => arrivals.find((a) => re.test(a.text))?.ms ?? Number.NaN;
  const first = at(/"progress":1,"message":"requesting the forecast/);
  const result = at(/"id":9/);
  assert.ok(result - first >= 1000, `first progress at ${first} ms, result at ${result} ms: the first event must not wait for the upstream`);
});

test("streamed calls are logged and counted like JSON calls", async () => {
  stub.setMode("normal");
  const server = servers.stateless;
  const okCalls = async () => {
    const body = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    return Number(/^mcp_tool_calls_total\{tool="get_forecast",status="ok"\} (\d+)$/m.exec(body)?.[1] ?? 0);
  };
  const before = await okCalls();
  const client = await connect(server.mcpUrl, { "x-request-id": "streamed-call-1" });
  try {
    const { result } = await callWithProgress(client, "get_forecast", ARGS);
    assert.equal(result.isError, undefined);
  } finally { await client.close(); }
  assert.equal(await okCalls(), before + 1);
  const entry = await server.waitForLog((e) => e.event === "tool_call" && e.request_id === "streamed-call-1");
  assert.equal(entry.tool, "get_forecast");
  assert.equal(entry.outcome, "ok");
  assert.equal(typeof entry.duration_ms, "number");
});

for (const mode of MODES) {
  test(`${mode}: SIGTERM lets an in-flight streamed call finish streaming, then exits 0`, { timeout: 60_000 }, async () => {
    const slow = await startUpstreamStub({ slowMs: 1500 });
    slow.setMode("slow");
    const server = await startServer({ UPSTREAM_URL: slow.url, MCP_SESSIONS: mode, UPSTREAM_RETRIES: "0", SHUTDOWN_TIMEOUT_MS: "10000" });
    try {
      const client = await connect(server.mcpUrl);
      let stopping: ReturnType<RunningServer["stop"]> | undefined;
      let received = 0;
      const afterShutdown: string[] = [];
      const inflight = callWithProgress(client, "get_forecast", ARGS, (p) => { received++; if (stopping) afterShutdown.push(p.message ?? ""); });
      await waitFor("the first progress event and the upstream request", () => received === 1 && slow.requests() === 1, { timeoutMs: 5000, intervalMs: 10 });
      stopping = server.stop("SIGTERM");
      await server.waitForLog((e) => e.event === "shutdown");
      const { result, order } = await inflight;
      assert.equal(result.isError, undefined, "the streamed call completed with data");
      assert.deepEqual(order, ["progress 1", "progress 2", "progress 3", "result"]);
      assert.equal(afterShutdown.length, 2, "progress kept streaming while the server drained");
      assert.deepEqual(await stopping, { code: 0, signal: null });
      assert.equal(server.logEntries().find((e) => e.event === "shutdown")?.inflight, 1);
      assert.equal(server.logEntries().find((e) => e.event === "stopped")?.drained, true);
      await client.close().catch(() => {});
    } finally {
      await server.stop();
      await slow.stop();
    }
  });
}

test("wantsEventStream: only a tools/call with a progressToken (alone or in a batch)", () => {
  const call = (meta?: object) => ({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_forecast", arguments: {}, _meta: meta } });
  assert.equal(wantsEventStream(call({ progressToken: "a" })), true);
  assert.equal(wantsEventStream(call({ progressToken: 0 })), true);
  assert.equal(wantsEventStream([{ jsonrpc: "2.0", id: 2, method: "ping" }, call({ progressToken: 3 })]), true);
  assert.equal(wantsEventStream(call()), false);
  assert.equal(wantsEventStream(call({ progressToken: { not: "a token" } })), false);
  assert.equal(wantsEventStream({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: { progressToken: "a" } } }), false);
  assert.equal(wantsEventStream(null), false);
});
