// The usage ledger: DATA_DIR/usage.sqlite (node:sqlite, WAL), schema in contract/usage-ledger.ts. The default Meter,
// and the webhook sink's outbox (undelivered rows, oldest first). A file of its own beside the notes store, so a copy
// handed to billing (`selfhosted-mcp usage --file`) holds usage only, never note contents.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { LEDGER_FILE, LEDGER_SCHEMA } from "../../../contract/usage-ledger.ts";
import type { Meter, UsageEvent } from "./meter.ts";
import { sqlitePragmas } from "../sqlite-pragmas.ts";

/** Longest a write waits for another connection's lock (the other deployment slot shares the file). */
const BUSY_TIMEOUT_MS = 1000;

export class Ledger implements Meter {
  readonly path: string;
  #db: DatabaseSync;
  #sql: Record<"insert" | "pending" | "countPending" | "delivered", StatementSync>;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, LEDGER_FILE);
    this.#db = new DatabaseSync(this.path);
    this.#db.exec(sqlitePragmas(BUSY_TIMEOUT_MS));
    this.#db.exec(LEDGER_SCHEMA);
    const prepare = (sql: string) => this.#db.prepare(sql);
    this.#sql = {
      insert: prepare("INSERT INTO usage_events (id, credential, tool, request_id, units, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"),
      pending: prepare("SELECT id, credential, tool, request_id, units, at FROM usage_events WHERE delivered_at IS NULL ORDER BY at, id LIMIT ?"),
      countPending: prepare("SELECT COUNT(*) AS n FROM usage_events WHERE delivered_at IS NULL"),
      delivered: prepare("UPDATE usage_events SET delivered_at = ?1 WHERE id IN (SELECT value FROM json_each(?2)) AND delivered_at IS NULL"),
    };
  }

  /** One INSERT (atomic: a crash leaves the row whole or absent). False when the id was already recorded. */
  record(e: UsageEvent): boolean {
    return this.#sql.insert.run(e.id, e.credential, e.tool, e.request_id, e.units, e.at).changes === 1;
  }

  /** Up to `limit` undelivered events, oldest first. */
  undelivered(limit: number): UsageEvent[] {
    return this.#sql.pending.all(limit) as unknown as UsageEvent[];
  }

  countUndelivered(): number {
    return (this.#sql.countPending.get() as { n: number }).n;
  }

  markDelivered(ids: string[], at = new Date().toISOString()): void {
    this.#sql.delivered.run(at, JSON.stringify(ids));
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
