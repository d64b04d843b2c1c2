// Every request in a stateful session gets an answer, also when a client reuses a JSON-RPC id that is still in flight
// (server/src/request-ids.ts). Before the fix the SDK's session transport (1.32) keyed its request → HTTP-stream map by
// id alone: a second POST with the same id took over the first one's entry, got the first answer — and the first
// POST was never answered (bench/attack-server.ts stalled after 23 of 80 searches this way). Now the second POST is
// refused at once (HTTP 400, JSON-RPC -32600) and the first one gets its own answer; once answered, an id is free.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../support/server.ts";
import { seedCraftedNotes, CRAFTED_QUERIES } from "../support/crafted-notes.ts";
import { initializeBody, MCP_HEADERS } from "./mcp-client.ts";

/** Bound on every request: an answer arrives within seconds, a lost one fails the test instead of hanging it. */
const REQUEST_TIMEOUT_MS = 20_000;

test("a request id still in flight in the session is refused with -32600; the first request keeps its answer", { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "request-ids-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  seedCraftedNotes(dir, 1000); // a crafted search runs until SEARCH_TIMEOUT_MS: long enough to still be in flight
  const s = await startServer({ DATA_DIR: dir, MCP_SESSIONS: "stateful", SEARCH_TIMEOUT_MS: "1500" });
  after(() => s.stop());

  const init = await fetch(s.mcpUrl, { method: "POST", headers: MCP_HEADERS, body: initializeBody, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const sid = init.headers.get("mcp-session-id")!;
  await init.text();
  const headers = { ...MCP_HEADERS, "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" };
  const post = async (body: unknown) => {
    const r = await fetch(s.mcpUrl, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    return { status: r.status, text: await r.text() };
  };

  const slow = post({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "search_notes", arguments: { query: CRAFTED_QUERIES[2], limit: 50 } } });
  await new Promise((r) => setTimeout(r, 300)); // the search has reached the server and is running
  const reused = await post({ jsonrpc: "2.0", id: 7, method: "ping" });
  // Before the fix: the ping's POST carried the search's answer and this one was never answered (TimeoutError here).
  const first = await slow;
  assert.equal(first.status, 200);
  assert.match(first.text, /"id":7/);
  assert.match(first.text, /SEARCH_TIMEOUT_MS|"count":0/); // its own answer: the timeout error or no match
  assert.equal(reused.status, 400, reused.text);
  const refusal = JSON.parse(reused.text) as { id: unknown; error: { code: number; message: string } };
  assert.equal(refusal.id, 7);
  assert.equal(refusal.error.code, -32600);
  assert.match(refusal.error.message, /request id 7 is already in use by a request in progress in this session/);

  // Answered ids are free again (a sequential reuse is the client's business, not a lost answer).
  const again = await post({ jsonrpc: "2.0", id: 7, method: "ping" });
  assert.equal(again.status, 200, again.text);
  assert.match(again.text, /"result":\{\}/);
});
