// No request may stall the event loop (issue 13 item 2): with ~30 MB of notes crafted so that a substring search is
// as expensive as it gets (every note holds each trigram of the query thousands of times, never the phrase), a
// stream of such searches runs while /livez is polled; the worst /livez latency must stay near the ~100 ms budget
// (before: one search held the loop for seconds), and every search answers — a result or a clear timeout error.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Store } from "../../server/src/store.ts";
import { startServer } from "../support/server.ts";
import { MCP_HEADERS } from "../server/mcp-client.ts";

export const NOTES = 3000;
/** One note's body: ~10 KB in which "abcx" and "bcdx" recur but "abcd" never occurs. */
export const CRAFTED_BODY = "abcx bcdx ".repeat(999);
export const CRAFTED_QUERIES = ["x bcdx abcd", "abcd", `${"abcx bcdx ".repeat(19)}abcd`, "ab"];
/** Worst /livez latency allowed (the issue's ~100 ms, plus scheduling slack on a shared 2-core machine). */
const BUDGET_MS = 150;

/** Seeds `dir` with NOTES crafted notes: the store creates its schema, then one transaction inserts them all. */
export function seed(dir: string): void {
  const store = new Store(dir);
  store.close();
  const db = new DatabaseSync(join(dir, "notes.sqlite"));
  try {
    const insert = db.prepare("INSERT INTO notes (id, request_id, args_hash, title, body, tags, created_at, owner) VALUES (?, ?, '', ?, ?, '[\"crafted\"]', ?, 'seed')");
    db.exec("BEGIN");
    for (let i = 0; i < NOTES; i++) insert.run(crypto.randomUUID(), `seed-note-${i}`, `note ${i}`, CRAFTED_BODY, new Date().toISOString());
    db.exec("COMMIT");
  } finally { db.close(); }
}

/** The server's worst event-loop delay since the last scrape (prom-client's nodejs_eventloop_lag_max_seconds), ms. */
async function loopLagMaxMs(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1]) * 1000;
}

test("crafted searches over ~30 MB of notes never stall /livez", { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "loop-stall-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  seed(dir);
  const s = await startServer({ DATA_DIR: dir, SEARCH_TIMEOUT_MS: "1000" });
  after(() => s.stop());
  await loopLagMaxMs(s.metricsPort); // resets the maximum: what follows is measured under attack only

  let searching = true;
  const outcomes: string[] = [];
  const searcher = async (k: number) => {
    for (let i = 0; searching && i < 200; i++) {
      const query = CRAFTED_QUERIES[(i + k) % CRAFTED_QUERIES.length];
      const r = await fetch(s.mcpUrl, { method: "POST", headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "search_notes", arguments: { query, limit: 50 } } }) });
      const result = (await r.json() as { result: { isError?: boolean; content: Array<{ text: string }> } }).result;
      outcomes.push(result.isError ? result.content[0]!.text.replace(/\d+/g, "N") : "ok");
    }
  };
  const searchers = [0, 1, 2, 3].map(searcher);
  const latencies: number[] = [];
  const end = Date.now() + 8000;
  while (Date.now() < end) {
    const t = performance.now();
    const r = await fetch(`${s.url}/livez`);
    await r.arrayBuffer();
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  searching = false;
  await Promise.all(searchers);
  const lagMs = await loopLagMaxMs(s.metricsPort);
  const worst = Math.max(...latencies);
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(`event loop: worst delay ${lagMs.toFixed(1)} ms; livez: ${latencies.length} probes, p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, worst ${worst.toFixed(1)} ms; searches: ${outcomes.length}, ${JSON.stringify(Object.fromEntries([...new Set(outcomes)].map((o) => [o, outcomes.filter((x) => x === o).length])))}`);
  assert.ok(outcomes.length >= 8, "searches ran");
  for (const o of outcomes) assert.ok(o === "ok" || /SEARCH_TIMEOUT_MS|too many searches are waiting/.test(o), o);
  assert.ok(lagMs < BUDGET_MS, `worst event-loop delay ${lagMs.toFixed(1)} ms ≥ ${BUDGET_MS} ms`);
  // The HTTP round trip adds the test process's own scheduling on a shared machine: a looser bound, still far
  // below the seconds one search held the loop for before.
  assert.ok(worst < 2 * BUDGET_MS + 200, `worst /livez latency ${worst.toFixed(1)} ms`);
});
