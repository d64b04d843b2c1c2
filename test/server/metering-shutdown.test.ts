// SIGTERM during billable calls (the pattern of test/reliability/shutdown.test.ts): the ledger afterwards holds
// exactly the calls whose responses were written — no half row (a row for a call the client never got, or a torn
// write) and no lost one (a delivered call missing because the ledger closed before its response finished).
//  1. calls in flight finish within the drain → every one answered and recorded once, exit 0;
//  2. calls in flight outlive the drain timeout → their connections are cut, nothing recorded for them, exit 0.
// Either way the ledger file passes SQLite's integrity check.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { sleep, waitFor } from "../support/proc.ts";
import { call } from "./mcp-client.ts";
import { ledgerRows, taggedClient } from "./metering-support.ts";
import { LEDGER_FILE } from "../../contract/usage-ledger.ts";

const stubs: UpstreamStub[] = [];
const servers: RunningServer[] = [];
after(async () => {
  for (const s of servers) { await s.stop("SIGKILL"); rmSync(s.dataDir, { recursive: true, force: true }); }
  for (const s of stubs) await s.stop();
});

function integrity(dataDir: string): string {
  const db = new DatabaseSync(join(dataDir, LEDGER_FILE), { readOnly: true });
  try { return (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check; } finally { db.close(); }
}

/** Starts `n` slow billable calls (each on its own client), sends SIGTERM once the upstream has all of them. */
async function termDuringCalls(slowMs: number, shutdownMs: number, n: number) {
  const stub = await startUpstreamStub({ slowMs });
  stubs.push(stub);
  stub.setMode("slow");
  const server = await startServer({ UPSTREAM_URL: stub.url, UPSTREAM_TIMEOUT_MS: "10000", UPSTREAM_RETRIES: "0", SHUTDOWN_TIMEOUT_MS: String(shutdownMs) }, { keepDataDir: true });
  servers.push(server);
  const clients = await Promise.all(Array.from({ length: n }, () => taggedClient(server.mcpUrl)));
  const outcomes = clients.map((c, i) => {
    c.tag(`term-${i}`);
    return call(c.client, "get_forecast", { latitude: i, longitude: i, days: 2 }, 20_000).then((r) => (r.isError ? "error" : "answered"), () => "failed");
  });
  await waitFor("all calls at the upstream", () => stub.requests() === n, { timeoutMs: 5000, intervalMs: 10 });
  await sleep(100);
  process.kill(server.pid, "SIGTERM");
  const results = await Promise.all(outcomes);
  const exit = await server.exited;
  await Promise.all(clients.map((c) => c.client.close().catch(() => {})));
  return { server, results, exit };
}

test("SIGTERM, calls finish within the drain: each answered call recorded exactly once, exit 0", { timeout: 60_000 }, async () => {
  const { server, results, exit } = await termDuringCalls(1200, 10_000, 3);
  assert.deepEqual(exit, { code: 0, signal: null }, server.logs().slice(-2000));
  assert.deepEqual(results, ["answered", "answered", "answered"]);
  const rows = ledgerRows(server.dataDir);
  assert.deepEqual(rows.map((r) => r.request_id).sort(), ["term-0", "term-1", "term-2"], "one row per answered call");
  assert.equal(integrity(server.dataDir), "ok");
});

test("SIGTERM, calls outlive the drain timeout: connections cut, no row for them, exit 0", { timeout: 60_000 }, async () => {
  const { server, results, exit } = await termDuringCalls(5000, 300, 2);
  assert.deepEqual(exit, { code: 0, signal: null }, server.logs().slice(-2000));
  assert.deepEqual(results, ["failed", "failed"], "no answer reached the clients");
  assert.deepEqual(ledgerRows(server.dataDir), [], "nothing billed for undelivered calls");
  assert.equal(integrity(server.dataDir), "ok");
});
