// Every request to /mcp is answered within REQUEST_TIMEOUT_MS, also when the search worker is stuck
// (server/src/request-deadline.ts). node:sqlite cannot interrupt a statement, so a search stopped by SEARCH_TIMEOUT_MS
// leaves its thread finishing the query (seconds over 3,000 crafted notes, at the lowest CPU priority), and the next
// search waits for that thread to exit — before the fix with no bound at all (bench/attack-server.ts with unique ids:
// POSTs unanswered after 30 s). Now that search is answered with JSON-RPC -32603 naming REQUEST_TIMEOUT_MS in time.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../support/server.ts";
import { seedCraftedNotes, CRAFTED_QUERIES } from "../support/crafted-notes.ts";
import { initializeBody, MCP_HEADERS } from "./mcp-client.ts";

const DEADLINE_MS = 1000;
/** Client-side bound on every request: a lost answer fails the test instead of hanging it. */
const CLIENT_TIMEOUT_MS = 15_000;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "request-deadline-"));
  seedCraftedNotes(dir, 3000); // the longest crafted phrase costs its (uninterruptible) thread seconds here
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The JSON-RPC message of a JSON or SSE answer. */
const message = (text: string) => JSON.parse(text.startsWith("{") ? text : /^data: (.*)$/m.exec(text)![1]!) as { id: number; result?: { isError?: boolean; content: Array<{ text: string }> }; error?: { code: number; message: string } };

for (const mode of ["stateless", "stateful"] as const) {
  test(`${mode}: a search queued behind a stopped, still-running search thread is answered by REQUEST_TIMEOUT_MS`, { timeout: 60_000 }, async () => {
    const s = await startServer({ DATA_DIR: dir, MCP_SESSIONS: mode, SEARCH_TIMEOUT_MS: "100", REQUEST_TIMEOUT_MS: String(DEADLINE_MS) });
    after(() => s.stop());
    let headers: Record<string, string> = MCP_HEADERS;
    if (mode === "stateful") {
      const init = await fetch(s.mcpUrl, { method: "POST", headers, body: initializeBody, signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
      headers = { ...headers, "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-11-25" };
      await init.text();
    }
    const search = async (id: number, query: string) => {
      const t = performance.now();
      const r = await fetch(s.mcpUrl, { method: "POST", headers, signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
        body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "search_notes", arguments: { query, limit: 5 } } }) });
      const text = await r.text(); // an SSE answer's headers come at once; its message, with the body
      return { status: r.status, ms: performance.now() - t, msg: message(text) };
    };

    const stopped = await search(2, CRAFTED_QUERIES[2]!);
    console.log(`${mode}: stopped search answered after ${stopped.ms.toFixed(0)} ms`);
    assert.match(stopped.msg.result!.content[0]!.text, /SEARCH_TIMEOUT_MS/, "the crafted search is stopped after 100 ms");
    // Its thread is still finishing the query: this search waits for it, and is answered by the deadline.
    const queued = await search(3, "note 1");
    console.log(`${mode}: queued search answered after ${queued.ms.toFixed(0)} ms: ${JSON.stringify(queued.msg.error ?? queued.msg.result)}`);
    assert.equal(queued.status, 200);
    assert.equal(queued.msg.id, 3);
    assert.equal(queued.msg.error?.code, -32603);
    assert.match(queued.msg.error.message, /did not complete within 1000 ms \(REQUEST_TIMEOUT_MS\)/);
    assert.ok(queued.ms >= DEADLINE_MS - 50 && queued.ms < DEADLINE_MS + 5000, `answered after ${queued.ms.toFixed(0)} ms`);
  });
}
