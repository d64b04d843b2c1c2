// The gateway (gateway/src/main.ts, a real process) in front of three real reference servers (server/src/main.ts:
// alpha, beta with its own API key, gamma) and a tiny SDK server in this process (tiny: a tool named like the
// reference server's, progress + cancellation, a JSON-RPC error, list_changed, a long tool name, a prompt, a resource).
// A real SDK client talks to the gateway. Servers start once for the file; the last test stops beta.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { McpError, ToolListChangedNotificationSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startServer, type RunningServer } from "../support/server.ts";
import { assertCallRefusedLikeUnknown, startGateway } from "../support/gateway.ts";
import { startAll, waitFor } from "../support/proc.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { LONG_TOOL, REFUSAL, SLOW_STEPS, startTinyServer, type TinyServer } from "../support/tiny-mcp-server.ts";
import { connect, call, text } from "../server/mcp-client.ts";
import { gatewayName } from "../../gateway/src/names.ts";

const FULL_KEY = "gw-full-key-0123456789abcdef";
const LIMITED_KEY = "gw-limited-key-0123456789abcd";
const BETA_KEY = "beta-upstream-key-0123456789ab";
const REFERENCE_TOOLS = ["get_forecast", "save_note", "get_note", "search_notes"];
const REFERENCE = ["alpha", "beta", "gamma"] as const;

let stub: UpstreamStub;
let tiny: TinyServer;
let alpha: RunningServer, beta: RunningServer, gamma: RunningServer, gw: RunningServer;
const clients: Client[] = [];
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
async function client(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const c = await connect(url, headers);
  clients.push(c);
  return c;
}

before(async () => {
  stub = await startUpstreamStub();
  tiny = await startTinyServer();
  const ref = { UPSTREAM_URL: stub.url };
  [alpha, beta, gamma] = await startAll([
    () => startServer(ref),
    () => startServer({ ...ref, AUTH_MODE: "api-key", API_KEYS: BETA_KEY }),
    () => startServer(ref),
  ] as const);
  gw = await startGateway({ alpha: alpha.mcpUrl, beta: beta.mcpUrl, gamma: gamma.mcpUrl, tiny: tiny.url }, {
    UPSTREAM_BETA_TOKEN: BETA_KEY,
    AUTH_MODE: "api-key",
    API_KEYS: `${FULL_KEY},${LIMITED_KEY}:alpha+gamma+tiny`,
    // Long enough that only notifications/tools/list_changed can refresh a list during this file.
    LIST_TTL_MS: "600000",
    HEALTH_CACHE_MS: "1",
    UPSTREAM_TIMEOUT_MS: "20000",
  });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled([gw?.stop(), alpha?.stop(), beta?.stop(), gamma?.stop(), tiny?.stop(), stub?.stop()]);
});

test("lists every upstream's tools as <server>__<tool>: 17 distinct names, the same tools the upstreams list", async () => {
  const c = await client(gw.mcpUrl, bearer(FULL_KEY));
  const { tools } = await c.listTools();
  const names = tools.map((t) => t.name);
  const expected = [
    ...REFERENCE.flatMap((s) => REFERENCE_TOOLS.map((t) => `${s}__${t}`)),
    "tiny__get_forecast", "tiny__slow", "tiny__refuse", "tiny__grow", "tiny__big", gatewayName("tiny", LONG_TOOL, 64),
  ];
  assert.deepEqual([...names].sort(), [...expected].sort());
  assert.equal(new Set(names).size, names.length, "no two tools share a name");
  for (const n of names) assert.match(n, /^[A-Za-z0-9_-]{1,64}$/, `${n}: client-safe characters, at most TOOL_NAME_MAX`);
  // Everything but the name is the upstream's own.
  const direct = await client(alpha.mcpUrl);
  const own = (await direct.listTools()).tools.find((t) => t.name === "get_forecast")!;
  assert.deepEqual(tools.find((t) => t.name === "alpha__get_forecast"), { ...own, name: "alpha__get_forecast" });
});

test("calls a tool on each server and each call reaches its own server", async () => {
  const c = await client(gw.mcpUrl, bearer(FULL_KEY));
  const marker = `routed-${randomUUID()}`;
  const saved = await call(c, "beta__save_note", { request_id: randomUUID(), title: marker, body: "saved through the gateway" });
  assert.equal(saved.isError, undefined, text(saved));
  const onBeta = await client(beta.mcpUrl, bearer(BETA_KEY));
  assert.equal((await call(onBeta, "search_notes", { query: marker })).structuredContent?.count, 1, "the note is on beta");
  assert.equal((await call(c, "alpha__search_notes", { query: marker })).structuredContent?.count, 0, "and not on alpha");
  const forecast = await call(c, "gamma__get_forecast", { latitude: 52.52, longitude: 13.41, days: 2 });
  assert.equal((forecast.structuredContent as { days: unknown[] }).days.length, 2);
  assert.equal(text(await call(c, "tiny__get_forecast", {})), "tiny get_forecast", "the colliding name reaches tiny's own tool");
  assert.equal(text(await call(c, gatewayName("tiny", LONG_TOOL, 64), {})), `called ${LONG_TOOL}`, "a shortened name maps back");
});

test("progress notifications pass through: the same steps as calling the server directly", async () => {
  const steps = async (c: Client, name: string) => {
    const seen: string[] = [];
    await c.callTool({ name, arguments: { latitude: 1, longitude: 2, days: 1 } }, undefined, { onprogress: (p) => seen.push(`${p.progress} ${p.message}`), timeout: 15_000 });
    return seen;
  };
  const direct = await steps(await client(gamma.mcpUrl), "get_forecast");
  assert.ok(direct.length >= 2, `the reference server reports steps: ${JSON.stringify(direct)}`);
  assert.deepEqual(await steps(await client(gw.mcpUrl, bearer(FULL_KEY)), "gamma__get_forecast"), direct);
});

test("cancellation passes through: the upstream's handler sees its call cancelled", async () => {
  const c = await client(gw.mcpUrl, bearer(FULL_KEY));
  const abort = new AbortController();
  const progress: number[] = [];
  const before = tiny.cancelled.length;
  const pending = c.callTool({ name: "tiny__slow", arguments: {} }, undefined, {
    signal: abort.signal, timeout: 60_000,
    onprogress: (p) => { progress.push(p.progress); if (progress.length === SLOW_STEPS) abort.abort("user pressed stop"); },
  });
  await assert.rejects(pending);
  assert.deepEqual(progress, [1, 2, 3], "tiny's progress arrived under the client's token");
  await waitFor("tiny's slow call to be cancelled", () => tiny.cancelled.length > before, { timeoutMs: 10_000, intervalMs: 50 });
  // The gateway still serves this session.
  assert.equal(text(await call(c, "tiny__get_forecast", {})), "tiny get_forecast");
});

test("an upstream's JSON-RPC error and its isError result arrive as the upstream sent them", async () => {
  const viaGateway = await client(gw.mcpUrl, bearer(FULL_KEY));
  const rejection = (p: Promise<unknown>) => p.then(() => assert.fail("expected an error"), (e: unknown) => e as McpError);
  const direct = await rejection((await client(tiny.url)).callTool({ name: "refuse", arguments: {} }));
  const through = await rejection(viaGateway.callTool({ name: "tiny__refuse", arguments: {} }));
  assert.ok(through instanceof McpError);
  assert.deepEqual({ code: through.code, message: through.message, data: through.data }, { code: direct.code, message: direct.message, data: direct.data });
  assert.deepEqual({ code: through.code, message: through.message, data: through.data }, { ...REFUSAL, message: `MCP error ${REFUSAL.code}: ${REFUSAL.message}` });

  const id = randomUUID();
  const own = await call(await client(alpha.mcpUrl), "get_note", { id });
  assert.equal(own.isError, true);
  assert.deepEqual(await call(viaGateway, "alpha__get_note", { id }), own);
});

test("a key not granted beta can neither list nor call beta's tools; granted upstreams work", async () => {
  const limited = await client(gw.mcpUrl, bearer(LIMITED_KEY));
  const names = (await limited.listTools()).tools.map((t) => t.name);
  assert.equal(names.filter((n) => n.startsWith("beta__")).length, 0);
  assert.equal(names.filter((n) => n.startsWith("alpha__")).length, 4);
  await assertCallRefusedLikeUnknown(limited, "beta", beta);
  assert.equal((await call(limited, "alpha__search_notes", { query: "x" })).isError, undefined);
  const noKey = await fetch(gw.mcpUrl, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
  assert.equal(noKey.status, 401);
});

test("notifications/tools/list_changed from an upstream refreshes the gateway's cached list and reaches clients", async () => {
  const c = await client(gw.mcpUrl, bearer(FULL_KEY));
  const before = (await c.listTools()).tools.length;
  let changed = 0;
  c.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed++; });
  await call(c, "tiny__grow", {});
  await waitFor("tools/list_changed from the gateway", () => changed > 0, { timeoutMs: 10_000, intervalMs: 50 });
  const after = (await c.listTools()).tools.map((t) => t.name);
  assert.equal(after.length, before + 1);
  assert.ok(after.some((n) => /^tiny__grown_\d+$/.test(n)), JSON.stringify(after));
});

test("a stateful upstream that forgot the gateway's session (a restart): the next call opens a new session and succeeds", async () => {
  const c = await client(gw.mcpUrl, bearer(FULL_KEY));
  assert.equal(text(await call(c, "tiny__get_forecast", {})), "tiny get_forecast");
  assert.ok(await tiny.forgetSessions() >= 1, "the gateway had a session on tiny");
  assert.equal(text(await call(c, "tiny__get_forecast", {})), "tiny get_forecast");
});

test("prompts and resources of the upstreams are listed and served", async () => {
  const c = await client(gw.mcpUrl, bearer(LIMITED_KEY));
  assert.deepEqual((await c.listPrompts()).prompts.map((p) => p.name), ["tiny__greet"]);
  const prompt = await c.getPrompt({ name: "tiny__greet", arguments: { who: "gateway" } });
  assert.deepEqual(prompt.messages[0]?.content, { type: "text", text: "Hello, gateway!" });
  assert.deepEqual((await c.listResources()).resources.map((r) => r.uri), ["tiny://readme"]);
  assert.deepEqual((await c.readResource({ uri: "tiny://readme" })).contents, [{ uri: "tiny://readme", mimeType: "text/plain", text: "tiny readme" }]);
  await assert.rejects(c.readResource({ uri: "nowhere://x" }), (e: McpError) => e.code === -32002);
});

test("metrics per upstream and tool; one JSON log stream naming the upstream on every tool call", async () => {
  const metrics = await (await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`)).text();
  assert.match(metrics, /mcp_gateway_tool_calls_total\{upstream="beta",tool="save_note",outcome="ok"\} 1/);
  assert.match(metrics, /mcp_gateway_tool_calls_total\{upstream="tiny",tool="refuse",outcome="rpc_error"\} 1/);
  assert.match(metrics, /mcp_gateway_tool_calls_total\{upstream="alpha",tool="get_note",outcome="tool_error"\} 1/);
  assert.match(metrics, /mcp_gateway_tool_calls_total\{upstream="tiny",tool="slow",outcome="cancelled"\} 1/);
  assert.match(metrics, /mcp_gateway_upstream_up\{upstream="gamma"\} 1/);
  const lines = gw.logs().split("\n").filter(Boolean);
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not JSON: ${l}`);
  const toolCalls = gw.logEntries().filter((e) => e.event === "tool_call");
  assert.ok(toolCalls.length >= 10);
  for (const e of toolCalls) assert.ok(typeof e.upstream === "string" && typeof e.tool === "string" && e.service === "selfhosted-mcp-gateway", JSON.stringify(e));
  assert.ok(!gw.logs().includes(FULL_KEY) && !gw.logs().includes(BETA_KEY), "no key in the logs");
});

test("numbers: added latency per call and the gateway's memory (diagnostics)", async (t) => {
  const direct = await client(alpha.mcpUrl);
  const through = await client(gw.mcpUrl, bearer(FULL_KEY));
  const median = async (c: Client, name: string) => {
    const times: number[] = [];
    for (let i = 0; i < 30; i++) { const s = performance.now(); await call(c, name, { query: "x" }); times.push(performance.now() - s); }
    return times.sort((a, b) => a - b)[15]!;
  };
  const d = await median(direct, "search_notes");
  const g = await median(through, "alpha__search_notes");
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gw.pid}/status`, "utf8"))?.[1]);
  t.diagnostic(`search_notes median: direct ${d.toFixed(1)} ms, through the gateway ${g.toFixed(1)} ms (+${(g - d).toFixed(1)} ms); gateway RSS ${(rssKiB / 1024).toFixed(0)} MiB`);
  assert.ok(rssKiB > 0);
});

test("stopping one upstream degrades only its health and its tools; a client loop on the others sees no failure", async () => {
  const c = await client(gw.mcpUrl, bearer(FULL_KEY));
  // Every upstream up: healthy, once the gateway's upstream probes answered (one probe of a loaded machine can time out).
  await waitFor("the gateway's /health healthy before the stop", async () =>
    ((await (await fetch(`${gw.url}/health`)).json()) as { status: string }).status === "healthy", { timeoutMs: 30_000, intervalMs: 500 });
  let calls = 0;
  const failures: string[] = [];
  let stop = false;
  const loop = (async () => {
    for (let i = 0; i < 2000 && !stop; i++) {
      for (const name of ["alpha__search_notes", "gamma__search_notes", "tiny__get_forecast"]) {
        const r: CallToolResult | Error = await call(c, name, { query: "x" }).catch((e: Error) => e);
        calls++;
        if (r instanceof Error || r.isError) failures.push(`${name}: ${r instanceof Error ? r.message : text(r)}`);
      }
    }
  })();
  await waitFor("some calls before the stop", () => calls >= 15, { timeoutMs: 30_000, intervalMs: 20 });
  await beta.stop();
  const down = await call(c, "beta__search_notes", { query: "x" });
  assert.equal(down.isError, true);
  assert.match(text(down), /"beta" behind this gateway is unavailable/);
  const atStop = calls;
  await waitFor("calls after the stop", () => calls >= atStop + 15, { timeoutMs: 30_000, intervalMs: 20 });
  stop = true;
  await loop;
  assert.deepEqual(failures, [], `${calls} calls on alpha, gamma and tiny`);

  assert.ok((await c.listTools()).tools.some((t) => t.name === "beta__search_notes"), "beta's tools stay listed (calls answer isError)");
  const health = await fetch(`${gw.url}/health`);
  const body = await health.json() as { status: string; upstreams: Record<string, { status: string }> };
  assert.equal(health.status, 200);
  assert.equal(body.status, "degraded");
  assert.deepEqual(Object.fromEntries(Object.entries(body.upstreams).map(([k, v]) => [k, v.status])), { alpha: "ok", beta: "fail", gamma: "ok", tiny: "ok" });
  assert.equal((await fetch(`${gw.url}/health/beta`)).status, 503);
  assert.equal((await fetch(`${gw.url}/health/alpha`)).status, 200);
  const metrics = await (await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`)).text();
  assert.match(metrics, /mcp_gateway_upstream_up\{upstream="beta"\} 0/);
  assert.match(metrics, /mcp_gateway_upstream_up\{upstream="alpha"\} 1/);
});
