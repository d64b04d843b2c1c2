// Stateless mode answers single requests on ONE shared McpServer (server/src/stateless-mux.ts), which renumbers every
// request before the SDK's Protocol sees it. These tests catch a broken multiplexer: concurrent clients that all use
// the same JSON-RPC ids must each get their own answer, under their own id; a client's notification must not reach
// another client's request; tools/list answered from the cache equals the server's own answer; log lines carry the
// client's id. (Without the renumbering, Protocol and the mux would key in-flight requests by the clients' ids, and
// the answers of overlapping requests would be crossed or lost.)
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../support/server.ts";
import { seedCraftedNotes, CRAFTED_QUERIES } from "../support/crafted-notes.ts";
import { MCP_HEADERS } from "./mcp-client.ts";

/** Bound on every request: an answer arrives within seconds, a lost one fails the test instead of hanging it. */
const REQUEST_TIMEOUT_MS = 20_000;
const CLIENTS = 6;
const ROUNDS = 5;

interface Answer { status: number; body: { id?: unknown; result?: { structuredContent?: { notes?: Array<{ title: string }>; note?: { title: string } }; tools?: unknown[] }; error?: unknown } }

async function post(s: RunningServer, body: unknown): Promise<Answer> {
  const r = await fetch(s.mcpUrl, { method: "POST", headers: MCP_HEADERS, body: JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) as Answer["body"] : {} };
}

const call = (id: unknown, name: string, args: Record<string, unknown>) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

test("concurrent clients with the same request ids each get their own answer under their own id", { timeout: 120_000 }, async () => {
  const s = await startServer();
  after(() => s.stop());
  const ids: string[] = [];
  for (let k = 0; k < CLIENTS; k++) {
    const saved = await post(s, call(1, "save_note", { request_id: `isolation-${k}-0000`, title: `isolation client ${k}`, body: `marker-${k}-zq` }));
    assert.equal(saved.status, 200);
    ids.push(saved.body.result!.structuredContent!.note!.title);
  }
  const list = await post(s, { jsonrpc: "2.0", id: 1, method: "tools/list" });
  // Every client uses id 1 (a number) or "1" (a string: a different id, RequestIdSchema) and reuses it every round;
  // search_notes runs in a worker thread, so the requests of one wave are in flight in the server at the same time.
  // (Waves one after another: the store queues at most 16 searches.)
  const waves = [];
  for (let round = 0; round < ROUNDS; round++) waves.push(await Promise.all(Array.from({ length: CLIENTS }, async (_, k) => {
    const id = k % 2 === 0 ? 1 : "1";
    const [search, listed] = await Promise.all([
      post(s, call(id, "search_notes", { query: `marker-${k}-zq`, limit: 5 })),
      post(s, { jsonrpc: "2.0", id, method: "tools/list" }),
    ]);
    return { k, id, search, listed };
  })));
  for (const wave of waves) {
    for (const { k, id, search, listed } of wave) {
      assert.equal(search.status, 200);
      assert.deepEqual(search.body.id, id, `client ${k} got an answer under another id`);
      const titles = search.body.result?.structuredContent?.notes?.map((n) => n.title);
      assert.deepEqual(titles, [ids[k]], `client ${k} got another client's search result: ${JSON.stringify(search.body)}`);
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.id, id);
      assert.deepEqual(listed.body.result, list.body.result, "tools/list from the cache differs from the server's own answer");
    }
  }
  // One log line per call, each with the id its client sent (not the server's internal number).
  const searches = () => s.logEntries().filter((e) => e.event === "tool_call" && e.tool === "search_notes");
  for (let i = 0; i < 100 && searches().length < CLIENTS * ROUNDS; i++) await new Promise((r) => setTimeout(r, 50)); // lines come over a pipe
  assert.equal(searches().length, CLIENTS * ROUNDS);
  assert.deepEqual(new Set(searches().map((e) => e.rpc_id)), new Set([1, "1"]));
});

test("a client's notifications/cancelled cannot cancel another client's request; errors keep the client's id", { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "stateless-isolation-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  seedCraftedNotes(dir, 600); // a crafted search runs until SEARCH_TIMEOUT_MS: long enough to be in flight
  const s = await startServer({ DATA_DIR: dir, SEARCH_TIMEOUT_MS: "1500" });
  after(() => s.stop());

  const slow = post(s, call(7, "search_notes", { query: CRAFTED_QUERIES[2], limit: 50 }));
  await new Promise((r) => setTimeout(r, 300)); // the search has reached the server and is running
  // Another client cancels every id the server could have given the search (it has seen only a few requests).
  const cancels = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    post(s, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: i, reason: "not yours" } })));
  for (const c of cancels) assert.equal(c.status, 202);
  const first = await slow; // a cancelled request is never answered: this would time out
  assert.equal(first.status, 200);
  assert.equal(first.body.id, 7);
  assert.ok(first.body.result, JSON.stringify(first.body)); // its own answer: search_timeout or no match

  // Protocol-level errors go back under the client's id too.
  const unknown = await post(s, { jsonrpc: "2.0", id: "abc", method: "no/such/method" });
  assert.equal(unknown.status, 200);
  assert.deepEqual(unknown.body, { jsonrpc: "2.0", id: "abc", error: { code: -32601, message: "Method not found" } });
});
