// SQLite store (node:sqlite, WAL) under DATA_DIR: notes with idempotent creation keyed by the client's request_id.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createHash, randomUUID } from "node:crypto";

export interface Note { id: string; request_id: string; title: string; body: string; tags: string[]; created_at: string }
export type SaveResult = { note: Note; replayed: boolean };

export class IdempotencyConflictError extends Error {
  readonly type = "idempotency_conflict";
}

interface Row { id: string; request_id: string; args_hash: string; title: string; body: string; tags: string; created_at: string }

const toNote = (r: Row): Note => ({ id: r.id, request_id: r.request_id, title: r.title, body: r.body, tags: JSON.parse(r.tags) as string[], created_at: r.created_at });

/** Stable hash of the write's arguments: same arguments, same hash, whatever the key order. */
function argsHash(args: { title: string; body: string; tags: string[] }): string {
  return createHash("sha256").update(JSON.stringify([args.title, args.body, args.tags])).digest("hex");
}

export class Store {
  readonly path: string;
  #db: DatabaseSync;
  /** Statements compiled once at open: the tools and /health run them on every call. */
  #sql: Record<"byRequestId" | "insert" | "byId" | "search" | "probeWrite" | "probeRead", StatementSync>;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, "notes.sqlite");
    this.#db = new DatabaseSync(this.path);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS notes (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE,
        args_hash TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        tags TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS health_probe (k TEXT PRIMARY KEY, v TEXT NOT NULL);
    `);
    const prepare = (sql: string) => this.#db.prepare(sql);
    this.#sql = {
      byRequestId: prepare("SELECT * FROM notes WHERE request_id = ?"),
      insert: prepare("INSERT INTO notes (id, request_id, args_hash, title, body, tags, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
      byId: prepare("SELECT * FROM notes WHERE id = ?"),
      search: prepare("SELECT * FROM notes WHERE title LIKE ?1 ESCAPE '\\' OR body LIKE ?1 ESCAPE '\\' OR tags LIKE ?1 ESCAPE '\\' ORDER BY created_at DESC, id LIMIT ?2"),
      probeWrite: prepare("INSERT INTO health_probe (k, v) VALUES ('probe', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v"),
      probeRead: prepare("SELECT v FROM health_probe WHERE k = 'probe'"),
    };
  }

  /** Creates a note once per request_id. Same id + same arguments → the stored note (replayed); other arguments → conflict. */
  saveNote(requestId: string, args: { title: string; body: string; tags: string[] }): SaveResult {
    const hash = argsHash(args);
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const existing = this.#sql.byRequestId.get(requestId) as Row | undefined;
      if (existing) {
        this.#db.exec("COMMIT");
        if (existing.args_hash !== hash) {
          throw new IdempotencyConflictError(`request_id ${JSON.stringify(requestId)} was already used with different arguments; use a new request_id for a new note`);
        }
        return { note: toNote(existing), replayed: true };
      }
      const row: Row = { id: randomUUID(), request_id: requestId, args_hash: hash, title: args.title, body: args.body, tags: JSON.stringify(args.tags), created_at: new Date().toISOString() };
      this.#sql.insert.run(row.id, row.request_id, row.args_hash, row.title, row.body, row.tags, row.created_at);
      this.#db.exec("COMMIT");
      return { note: toNote(row), replayed: false };
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  getNote(id: string): Note | undefined {
    const r = this.#sql.byId.get(id) as Row | undefined;
    return r ? toNote(r) : undefined;
  }

  /** Case-insensitive substring search over title, body and tags, newest first. */
  searchNotes(query: string, limit: number): Note[] {
    const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = this.#sql.search.all(pattern, limit) as unknown as Row[];
    return rows.map(toNote);
  }

  /** A real write and read-back, for the deep health check. */
  probe(): void {
    const v = randomUUID();
    this.#sql.probeWrite.run(v);
    const r = this.#sql.probeRead.get() as { v: string } | undefined;
    if (r?.v !== v) throw new Error("store read-back mismatch");
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
