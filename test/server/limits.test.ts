// Memory and disk bounds per credential (issue 13 items 3 and 4): one key opening sessions in a loop closes only
// its own (never another key's), a session-opening initialize is size-bounded, and stored notes count against a
// per-credential and a total quota with a clear tool error.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../support/server.ts";
import { MCP_HEADERS } from "./mcp-client.ts";

const A = "limits-key-a-0123456789abcdef";
const B = "limits-key-b-0123456789abcdef";
const init = (capabilities: Record<string, unknown> = {}) => JSON.stringify({
  jsonrpc: "2.0", id: 1, method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities, clientInfo: { name: "limits", version: "1" } },
});
const headers = (key: string, sid?: string) => ({ ...MCP_HEADERS, authorization: `Bearer ${key}`, ...(sid ? { "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" } : {}) });

test("sessions: one key's flood evicts only its own sessions; an oversized initialize is refused", { timeout: 120_000 }, async () => {
  const s = await startServer({ AUTH_MODE: "api-key", API_KEYS: `${A},${B}`, MCP_SESSIONS: "stateful", MAX_SESSIONS: "20", MAX_SESSIONS_PER_CREDENTIAL: "5", MAX_SESSION_INIT_BYTES: "4096" });
  after(() => s.stop());
  const open = async (key: string) => {
    const r = await fetch(s.mcpUrl, { method: "POST", headers: headers(key), body: init() });
    assert.equal(r.status, 200);
    await r.body?.cancel();
    return r.headers.get("mcp-session-id")!;
  };
  const alive = async (key: string, sid: string) => {
    const r = await fetch(s.mcpUrl, { method: "POST", headers: headers(key, sid), body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }) });
    await r.body?.cancel();
    return r.status === 200;
  };
  const victim = await open(B);
  const flood: string[] = [];
  for (let i = 0; i < 40; i++) flood.push(await open(A));
  assert.ok(await alive(B, victim), "the other key's session survived 40 sessions opened by one key");
  const live = [];
  for (const sid of flood) live.push(await alive(A, sid));
  assert.deepEqual(live, flood.map((_, i) => i >= 35), "the flooding key keeps only its 5 newest sessions");
  // The mcp_active_sessions gauge (monitoring) counts live sessions, not sessions ever opened: B's 1 + A's 5.
  const scrape = await (await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`)).text();
  assert.match(scrape, /^mcp_active_sessions 6$/m);

  const big = await fetch(s.mcpUrl, { method: "POST", headers: headers(B), body: init({ experimental: { blob: { data: "x".repeat(8192) } } }) });
  assert.equal(big.status, 413);
  const body = await big.json() as { error: { code: number; message: string } };
  assert.equal(body.error.code, -32602);
  assert.match(body.error.message, /at most 4096 bytes \(MAX_SESSION_INIT_BYTES\)/);
});

test("storage: a credential's notes stop at NOTES_QUOTA_BYTES with a quota_exceeded tool error; other keys still write", { timeout: 60_000 }, async () => {
  const s = await startServer({ AUTH_MODE: "api-key", API_KEYS: `${A},${B}`, NOTES_QUOTA_BYTES: "25000", NOTES_TOTAL_QUOTA_BYTES: "35000" });
  after(() => s.stop());
  const save = async (key: string, n: number) => {
    const r = await fetch(s.mcpUrl, { method: "POST", headers: headers(key), body: JSON.stringify({
      jsonrpc: "2.0", id: n, method: "tools/call",
      params: { name: "save_note", arguments: { request_id: `quota-${key.slice(11, 12)}-${n}`, title: "t", body: "b".repeat(9_990) } },
    }) });
    return (await r.json() as { result: { isError?: boolean; content: Array<{ text: string }> } }).result;
  };
  assert.equal((await save(A, 1)).isError, undefined);
  assert.equal((await save(A, 2)).isError, undefined);
  const third = await save(A, 3);
  assert.equal(third.isError, true);
  assert.match(third.content[0]!.text, /storage quota exceeded: this credential stores 19986 of 25000 bytes \(NOTES_QUOTA_BYTES\)/);
  assert.equal((await save(A, 1)).isError, undefined, "an idempotent replay needs no new space");
  assert.equal((await save(B, 1)).isError, undefined, "another key has its own quota");
  const full = await save(B, 2);
  assert.match(full.content[0]!.text, /the server's note store is full \(NOTES_TOTAL_QUOTA_BYTES = 35000 bytes\)/);
});
