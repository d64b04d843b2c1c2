// No request may stall the event loop (issue 13 item 2). This test proves the *kind* of the fix, not a speed: a
// search runs off the main thread and is bounded by SEARCH_TIMEOUT_MS. Before the fix, search_notes ran its SQLite
// scan on the main thread, so while one expensive search ran, /livez (and every other request) waited for it.
// Here one search is crafted to cost far more than SEARCH_TIMEOUT_MS = 100 ms (≈ 1.5 s of CPU on this project's
// 2-core machine; ≥ 0.3 s on any plausible CI core) over 1,000 crafted notes: it must end with the timeout error,
// and /livez must keep answering within a generous 1 s (on the main thread it would wait for the whole scan). The
// strict "≤ ~100 ms of event-loop delay" is a speed goal and is measured by bench/attack-server.ts
// (BENCHMARKS.md "Attack: server"), not asserted here: a timed test would flake on a busy CI machine.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../support/server.ts";
import { seedCraftedNotes } from "../support/crafted-notes.ts";
import { MCP_HEADERS } from "../server/mcp-client.ts";

/** A phrase whose every trigram is in every crafted note thousands of times, and which no note contains. */
const SLOW_QUERY = `${"abcx bcdx ".repeat(9)}abcd`;
const LIVEZ_BOUND_MS = 1000;

type ToolAnswer = { result?: { isError?: boolean; content: Array<{ text: string }>; structuredContent?: { count: number } }; error?: unknown };
const search = async (s: RunningServer, query: string, limit = 10) => {
  const r = await fetch(s.mcpUrl, { method: "POST", headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "search_notes", arguments: { query, limit } } }) });
  const body = await r.json() as ToolAnswer;
  assert.ok(body.result, `search_notes answered without a result: ${JSON.stringify(body).slice(0, 500)}`);
  return body.result;
};

test("a search that cannot finish within SEARCH_TIMEOUT_MS ends with the timeout error while /livez keeps answering", { timeout: 420_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "loop-stall-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  seedCraftedNotes(dir, 1000); // before the server opens the store: one transaction, no HTTP
  // REQUEST_TIMEOUT_MS well above the default: the next search waits for the stopped worker to exit, and that
  // worker (nice 19, inside one SQLite step that cannot be interrupted) finishes its ≈ 1.5 s of CPU only when the
  // machine gives it time — measured 30 s in CI beside the VM lane, 60-80 s with both cores saturated at nice 0.
  const s = await startServer({ DATA_DIR: dir, SEARCH_TIMEOUT_MS: "100", REQUEST_TIMEOUT_MS: "300000" });
  after(() => s.stop());

  let searching = true;
  const answer = search(s, SLOW_QUERY).finally(() => { searching = false; });
  const latencies: number[] = [];
  // Probe while the search is in flight, and for a while after its answer (the stopped worker may still be
  // finishing its SQLite step in the background: that must not hold up the main thread either).
  let afterAnswer = 0;
  for (let i = 0; i < 400 && (searching || afterAnswer++ < 20); i++) {
    const t = performance.now();
    const r = await fetch(`${s.url}/livez`);
    await r.arrayBuffer();
    assert.equal(r.status, 200);
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 25));
  }
  const result = await answer;
  const worst = Math.max(...latencies);
  console.log(`livez: ${latencies.length} probes during and after the search, worst ${worst.toFixed(1)} ms; search: ${result.content[0]!.text}`);
  assert.equal(result.isError, true, "the crafted search cannot finish within 100 ms");
  assert.match(result.content[0]!.text, /^search took longer than 100 ms \(SEARCH_TIMEOUT_MS\) and was stopped/);
  assert.ok(worst < LIVEZ_BOUND_MS, `worst /livez latency ${worst.toFixed(1)} ms while a search ran`);

  // The search service recovers: a cheap indexed search answers (after the stopped worker has exited). The fresh
  // worker runs at nice 19 (search.ts), so on a machine whose cores are all busy (CI runs the VM lane's qemu beside
  // this) even a ~1 ms query can miss a 100 ms wall-clock budget: an attempt may time out again, but the service
  // must not stay broken — a bounded number of attempts, each failure only ever the timeout, and one answers.
  const misses: string[] = [];
  let cheap = await search(s, "note 999");
  for (let attempt = 1; attempt < 10 && cheap.isError; attempt++) {
    misses.push(cheap.content[0]!.text);
    assert.match(cheap.content[0]!.text, /^search took longer than 100 ms/, "a recovery attempt may only fail by the timeout");
    await new Promise((r) => setTimeout(r, 200 * attempt));
    cheap = await search(s, "note 999");
  }
  if (misses.length) console.log(`cheap search answered after ${misses.length} timed-out attempt(s) (busy machine)`);
  assert.equal(cheap.isError, undefined, cheap.content[0]?.text);
  assert.equal(cheap.structuredContent?.count, 1);
});
