// The usage ledger's on-disk shape: what the server writes (server/src/metering/ledger.ts) and what
// `selfhosted-mcp usage` reads (smoke/usage.ts), locally from a ledger file or on the droplet over SSH.
// One row per billable tool call whose JSON-RPC response was written to the client. Rows carry no tool arguments
// and no results. This module imports nothing of the project (contract/ is the bottom layer).

/** The ledger's file name inside the server's DATA_DIR (the deployment's `<app>-data` volume, mounted at /data). */
export const LEDGER_FILE = "usage.sqlite";

/**
 * Schema (SQLite, STRICT). `at` is ISO 8601 UTC with milliseconds (Date#toISOString), so text order is time order.
 * `id` is the event id receivers deduplicate on; `delivered_at` is set when a webhook receiver acknowledged the event
 * (NULL: not delivered yet, or no webhook sink configured).
 */
export const LEDGER_SCHEMA = `
  CREATE TABLE IF NOT EXISTS usage_events (
    id TEXT PRIMARY KEY,
    credential TEXT NOT NULL,
    tool TEXT NOT NULL,
    request_id TEXT NOT NULL,
    units INTEGER NOT NULL CHECK (units > 0),
    at TEXT NOT NULL,
    delivered_at TEXT
  ) STRICT;
  CREATE INDEX IF NOT EXISTS usage_events_at ON usage_events (at);
  CREATE INDEX IF NOT EXISTS usage_events_undelivered ON usage_events (at) WHERE delivered_at IS NULL;
`;

/** Most rows (credential × tool groups) one totals query returns; more → `truncated`. */
export const MAX_TOTAL_ROWS = 10_000;

/** Per-credential, per-tool totals for `at` in [?1, ?2), at most ?3 rows. */
export const TOTALS_SQL = `
  SELECT credential, tool, COUNT(*) AS calls, SUM(units) AS units, MIN(at) AS first_at, MAX(at) AS last_at
  FROM usage_events WHERE at >= ?1 AND at < ?2
  GROUP BY credential, tool ORDER BY credential, tool LIMIT ?3`;

export interface UsageTotal { credential: string; tool: string; calls: number; units: number; first_at: string; last_at: string }

/**
 * A self-contained ES module for `node --input-type=module -` (stdin) inside the server container: opens the
 * ledger read-only, runs TOTALS_SQL for [since, until) and prints the rows as one JSON array. Fetches
 * MAX_TOTAL_ROWS + 1 rows so the reader can tell that the answer was truncated.
 */
export function totalsScript(ledgerPath: string, since: string, until: string): string {
  return [
    `import { DatabaseSync } from "node:sqlite";`,
    `const db = new DatabaseSync(${JSON.stringify(ledgerPath)}, { readOnly: true });`,
    `const rows = db.prepare(${JSON.stringify(TOTALS_SQL)}).all(${JSON.stringify(since)}, ${JSON.stringify(until)}, ${MAX_TOTAL_ROWS + 1});`,
    `process.stdout.write(JSON.stringify(rows) + "\\n");`,
  ].join("\n");
}
