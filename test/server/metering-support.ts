// Helpers for the metering tests: read the server's real usage ledger (DATA_DIR/usage.sqlite) from the test process,
// read one Prometheus sample, and an SDK client whose every POST carries an X-Request-Id the test chose, so a ledger
// row can be matched to the call that produced it.
import { DatabaseSync } from "node:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { LEDGER_FILE } from "../../contract/usage-ledger.ts";
import { waitFor } from "../support/proc.ts";
import { connect } from "./mcp-client.ts";

export interface LedgerRow { id: string; credential: string; tool: string; request_id: string; units: number; at: string; delivered_at: string | null }

/** Every ledger row, oldest first ([] when the ledger file does not exist yet). */
export function ledgerRows(dataDir: string): LedgerRow[] {
  const path = join(dataDir, LEDGER_FILE);
  if (!existsSync(path)) return [];
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare("SELECT * FROM usage_events ORDER BY at, id").all().map((r) => ({ ...r }) as unknown as LedgerRow);
  } finally { db.close(); }
}

/** Rows whose request_id is `requestId`. */
export const rowsFor = (dataDir: string, requestId: string) => ledgerRows(dataDir).filter((r) => r.request_id === requestId);

/** Waits (bounded) until the call sent with `requestId` has exactly `n` rows, and returns them. */
export function waitForRows(dataDir: string, requestId: string, n = 1, timeoutMs = 5000): Promise<LedgerRow[]> {
  return waitFor(`${n} ledger row(s) for ${requestId}`, () => { const r = rowsFor(dataDir, requestId); return r.length === n && r; }, { timeoutMs, intervalMs: 20 });
}

/** The value of the first sample line matching `line` on the server's /metrics (0 when absent). */
export async function metric(metricsPort: number, line: RegExp): Promise<number> {
  const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const m = body.split("\n").find((l) => line.test(l));
  return m ? Number(m.split(" ").pop()) : 0;
}

export interface TaggedClient {
  client: Client;
  /** Sets the X-Request-Id the following POSTs carry. */
  tag(requestId: string): void;
  /**
   * Makes the next POST drop its HTTP connection after `ms` (a client that goes away). The SDK's own per-request
   * abort does not do that: it sends notifications/cancelled on a new POST and leaves the first one open.
   */
  dropNextAfter(ms: number): void;
}

/** An SDK client (optionally with a bearer token) whose POSTs carry the X-Request-Id last given to tag(). */
export async function taggedClient(mcpUrl: string, token?: string): Promise<TaggedClient> {
  let current = `init-${Math.random().toString(36).slice(2)}`;
  let dropAfter: number | undefined;
  const client = await connect(mcpUrl, token ? { authorization: `Bearer ${token}` } : {}, (url, init) => {
    const headers = new Headers(init?.headers);
    headers.set("x-request-id", current);
    const signals = [init?.signal, dropAfter === undefined ? undefined : AbortSignal.timeout(dropAfter)].filter((s): s is AbortSignal => !!s);
    dropAfter = undefined;
    return fetch(url, { ...init, headers, signal: AbortSignal.any(signals) });
  });
  return { client, tag: (id) => { current = id; }, dropNextAfter: (ms) => { dropAfter = ms; } };
}
