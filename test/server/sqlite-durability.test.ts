// The PRAGMAs the server's SQLite files open with (server/src/sqlite-pragmas.ts: the notes store and the usage
// ledger), as SQLite reports them on a connection that ran them. That a write survives a real power loss is proven
// by the rehearsal: a note saved just before the droplet VM's hard power-off (its resize) is read back after it
// (test/rehearsal/rehearsal.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { sqlitePragmas } from "../../server/src/sqlite-pragmas.ts";

test("sqlitePragmas: WAL journal, synchronous = FULL (2: the WAL is synced at every commit), the busy timeout given", () => {
  const dir = mkdtempSync(join(tmpdir(), "sqlite-durable-"));
  const db = new DatabaseSync(join(dir, "x.sqlite"));
  try {
    db.exec(sqlitePragmas(1234));
    const get = (p: string) => Object.values(db.prepare(`PRAGMA ${p}`).get() as Record<string, unknown>)[0];
    assert.equal(get("journal_mode"), "wal");
    assert.equal(get("synchronous"), 2, "FULL; NORMAL (1) may roll a committed WAL transaction back after a power loss");
    assert.equal(get("busy_timeout"), 1234);
  } finally { db.close(); rmSync(dir, { recursive: true, force: true }); }
});
