// The gateway's bounds on one upstream — UPSTREAM_TIMEOUT_MS, UPSTREAM_MAX_BYTES, UPSTREAM_MAX_INFLIGHT — and
// cancellation of a call on a stateless upstream (one server per POST, like the reference server's default), where
// a notifications/cancelled POST reaches no running call: the gateway must close the call's own POST.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startGateway } from "../support/gateway.ts";
import type { RunningServer } from "../support/server.ts";
import { waitFor } from "../support/proc.ts";
import { startTinyServer, type TinyServer } from "../support/tiny-mcp-server.ts";
import { connect, call, text } from "../server/mcp-client.ts";

const TIMEOUT_MS = 4000;
let tiny: TinyServer;
let gw: RunningServer;
let c: Client;

before(async () => {
  tiny = await startTinyServer({ stateless: true });
  gw = await startGateway({ tiny: tiny.url }, { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), UPSTREAM_MAX_BYTES: "4096", UPSTREAM_MAX_INFLIGHT: "1" });
  c = await connect(gw.mcpUrl);
});

after(async () => {
  await c?.close().catch(() => {});
  await Promise.allSettled([gw?.stop(), tiny?.stop()]);
});

/** Starts tiny__slow and resolves once its first progress arrived (the upstream handler is running). */
function startSlow(signal?: AbortSignal) {
  let started!: () => void;
  const running = new Promise<void>((r) => { started = r; });
  const result = c.callTool({ name: "tiny__slow", arguments: {} }, undefined, { signal, timeout: 60_000, onprogress: () => started() });
  return { running, result };
}

test("cancelling a call on a stateless upstream closes its POST: the upstream handler is aborted before any deadline", async () => {
  const abort = new AbortController();
  const before = tiny.cancelled.length;
  const { running, result } = startSlow(abort.signal);
  await running;
  const at = performance.now();
  abort.abort("stop");
  await assert.rejects(result);
  await waitFor("tiny's call to be aborted", () => tiny.cancelled.length > before, { timeoutMs: TIMEOUT_MS, intervalMs: 20 });
  assert.ok(performance.now() - at < TIMEOUT_MS - 500, "by the cancellation, not by UPSTREAM_TIMEOUT_MS");
});

test("UPSTREAM_TIMEOUT_MS: a call without an answer ends as an isError result, and the upstream's handler is stopped", async () => {
  const before = tiny.cancelled.length;
  const { result } = startSlow();
  const r = await result as { isError?: boolean; content: Array<{ type: string; text?: string }> };
  assert.equal(r.isError, true);
  assert.match(r.content[0]?.text ?? "", /did not answer within 4000 ms \(UPSTREAM_TIMEOUT_MS\)/);
  await waitFor("tiny's call to be aborted", () => tiny.cancelled.length > before, { timeoutMs: 5000, intervalMs: 20 });
});

test("UPSTREAM_MAX_BYTES: an answer over the limit is refused (by Content-Length, or cut off mid-stream); one under it passes", async () => {
  const big = (bytes: number, streamed: boolean) => c.callTool({ name: "tiny__big", arguments: { bytes } }, undefined,
    { timeout: 15_000, ...(streamed ? { onprogress: () => {} } : {}) }) as Promise<CallToolResult>;
  for (const streamed of [false, true]) {
    assert.equal(text(await big(1000, streamed)).length, 1000);
    const r = await big(20_000, streamed);
    assert.equal(r.isError, true, `streamed: ${streamed}`);
    assert.match(text(r), /larger than 4096 bytes \(UPSTREAM_MAX_BYTES\)/);
  }
});

test("UPSTREAM_MAX_INFLIGHT: a call over the cap is refused at once; the upstream serves again when the slot frees", async () => {
  const abort = new AbortController();
  const { running, result } = startSlow(abort.signal);
  await running;
  const refused = await call(c, "tiny__get_forecast", {});
  assert.equal(refused.isError, true);
  assert.match(text(refused), /already has 1 calls in flight \(UPSTREAM_MAX_INFLIGHT\)/);
  abort.abort("done");
  await assert.rejects(result);
  await waitFor("the slot to free", async () => (await call(c, "tiny__get_forecast", {})).isError !== true, { timeoutMs: 5000, intervalMs: 50 });
  const metrics = await (await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`)).text();
  assert.match(metrics, /mcp_gateway_tool_calls_total\{upstream="tiny",tool="get_forecast",outcome="unavailable"\} [1-9]/);
});
