// The webhook sink against a real local HTTP receiver: at-least-once with the ledger as the outbox.
//  - a receiver that fails twice (HTTP 500) then accepts: every event is accepted exactly once, the failed attempts
//    carried the same event ids, every ledger row ends delivered, and every request is signed;
//  - a receiver that is down while calls are billed and the server is restarted: nothing is lost — the events wait
//    in the ledger and are delivered after the restart, once.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { freePort, waitFor } from "../support/proc.ts";
import { call } from "./mcp-client.ts";
import { ledgerRows, metric, taggedClient } from "./metering-support.ts";
import { signature, SIGNATURE_HEADER } from "../../server/src/metering/webhook-sink.ts";

const SECRET = "webhook-secret-0123456789abcdef";

interface Attempt { status: number; ids: string[]; signed: boolean }

/** A receiver answering the n-th POST with statuses[n] (200 once the list is used up); records every attempt. */
async function startReceiver(port: number, statuses: number[]): Promise<{ attempts: Attempt[]; accepted: () => string[]; stop(): Promise<void> }> {
  const attempts: Attempt[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const sig = String(req.headers[SIGNATURE_HEADER] ?? "");
      const t = Number(/^t=(\d+),/.exec(sig)?.[1]);
      const status = statuses[attempts.length] ?? 200;
      attempts.push({ status, ids: (JSON.parse(body) as { events: { id: string }[] }).events.map((e) => e.id), signed: sig === signature(SECRET, body, t) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return {
    attempts,
    accepted: () => attempts.filter((a) => a.status === 200).flatMap((a) => a.ids),
    stop: async () => { server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

let stub: UpstreamStub | undefined;
const servers: RunningServer[] = [];
const receivers: Array<{ stop(): Promise<void> }> = [];
const dirs: string[] = [];
after(async () => {
  for (const s of servers) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const r of receivers) await r.stop();
  await stub?.stop();
});

const webhookEnv = (port: number) => ({
  METER: "webhook", METER_WEBHOOK_URL: `http://127.0.0.1:${port}/usage`, METER_WEBHOOK_SECRET: SECRET,
  METER_WEBHOOK_BACKOFF_MS: "50", METER_WEBHOOK_MAX_BACKOFF_MS: "200", METER_WEBHOOK_BATCH: "2",
});

async function billedCalls(server: RunningServer, n: number): Promise<void> {
  const c = await taggedClient(server.mcpUrl);
  try {
    for (let i = 0; i < n; i++) {
      c.tag(`wh-${randomUUID()}`);
      const r = await call(c.client, "save_note", { request_id: `wh-note-${randomUUID()}`, title: "t", body: `call ${i}` });
      assert.equal(r.isError, undefined);
    }
  } finally { await c.client.close(); }
}

test("receiver fails twice, then accepts: exactly one accepted delivery per event, same ids on every attempt, signed", { timeout: 60_000 }, async () => {
  stub = await startUpstreamStub();
  const port = await freePort();
  const receiver = await startReceiver(port, [500, 500]);
  receivers.push(receiver);
  const server = await startServer({ UPSTREAM_URL: stub.url, ...webhookEnv(port) });
  servers.push(server);
  await billedCalls(server, 3);
  await waitFor("every row delivered", () => { const rows = ledgerRows(server.dataDir); return rows.length === 3 && rows.every((r) => r.delivered_at); }, { timeoutMs: 10_000, intervalMs: 50 });
  const ids = ledgerRows(server.dataDir).map((r) => r.id).sort();
  const accepted = receiver.accepted();
  assert.deepEqual([...accepted].sort(), ids, "each event accepted exactly once");
  assert.deepEqual(receiver.attempts.slice(0, 3).map((a) => a.status), [500, 500, 200]);
  for (const [i, failed] of receiver.attempts.slice(0, 2).entries()) {
    for (const id of failed.ids) assert.ok(receiver.attempts[i + 1]!.ids.includes(id), `the retry after failure ${i + 1} resends event ${id} (same id)`);
  }
  assert.ok(receiver.attempts.every((a) => a.signed), "every request carries a valid signature");
  assert.ok(receiver.attempts.every((a) => a.ids.length <= 2), "batches hold at most METER_WEBHOOK_BATCH events");
  assert.equal(await metric(server.metricsPort, /^mcp_meter_webhook_deliveries_total\{outcome="error"\}/), 2);
  assert.equal(await metric(server.metricsPort, /^mcp_meter_undelivered_events /), 0);
});

test("receiver down across a restart: events wait in the ledger and are delivered once after it", { timeout: 60_000 }, async () => {
  stub ??= await startUpstreamStub();
  const port = await freePort(); // nothing listens yet: connection refused
  const first = await startServer({ UPSTREAM_URL: stub.url, ...webhookEnv(port) }, { keepDataDir: true });
  dirs.push(first.dataDir);
  servers.push(first);
  await billedCalls(first, 3);
  await waitFor("failed delivery attempts", async () => await metric(first.metricsPort, /^mcp_meter_webhook_deliveries_total\{outcome="error"\}/) >= 2, { timeoutMs: 10_000, intervalMs: 50 });
  assert.equal(await metric(first.metricsPort, /^mcp_meter_undelivered_events /), 3, "the backlog is visible");
  assert.deepEqual(await first.stop(), { code: 0, signal: null });
  assert.equal(ledgerRows(first.dataDir).filter((r) => !r.delivered_at).length, 3, "undelivered events survive the stop");

  const receiver = await startReceiver(port, []);
  receivers.push(receiver);
  const second = await startServer({ UPSTREAM_URL: stub.url, DATA_DIR: first.dataDir, ...webhookEnv(port) });
  servers.push(second);
  await waitFor("backlog delivered", () => ledgerRows(second.dataDir).every((r) => r.delivered_at), { timeoutMs: 10_000, intervalMs: 50 });
  assert.deepEqual(receiver.accepted().sort(), ledgerRows(second.dataDir).map((r) => r.id).sort(), "each event delivered once");
});
