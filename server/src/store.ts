// SQLite store (node:sqlite, WAL) under DATA_DIR: notes with idempotent creation keyed by the client's request_id,
// a storage quota per principal and in total (bytes of title + body + tags, kept in `usage` in the same
// transaction as the note), and a trigram FTS5 index that search.ts queries off the main thread.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createHash, randomUUID } from "node:crypto";
import { NoteSearch, type NoteRow } from "./search.ts";
import { sqlitePragmas } from "./sqlite-pragmas.ts";

export interface Note { id: string; request_id: string; title: string; body: string; tags: string[]; created_at: string }
export type SaveResult = { note: Note; replayed: boolean };

export class IdempotencyConflictError extends Error {
  readonly type = "idempotency_conflict";
}

export class QuotaExceededError extends Error {
  readonly type = "quota_exceeded";
}

/** Storage bounds (NOTES_QUOTA_BYTES, NOTES_TOTAL_QUOTA_BYTES) and the search timeout (SEARCH_TIMEOUT_MS). */
export interface StoreLimits { quotaBytes: number; totalQuotaBytes: number; searchTimeoutMs: number }
const DEFAULT_LIMITS: StoreLimits = { quotaBytes: 10 * 1024 * 1024, totalQuotaBytes: 1024 * 1024 * 1024, searchTimeoutMs: 2000 };

interface Row extends NoteRow { args_hash: string }
/** The `usage` row that holds the sum over every principal. */
const TOTAL = "*";

const noteBytes = (a: { title: string; body: string; tags: string }) => Buffer.byteLength(a.title) + Buffer.byteLength(a.body) + Buffer.byteLength(a.tags);

const toNote = (r: NoteRow): Note => ({ id: r.id, request_id: r.request_id, title: r.title, body: r.body, tags: JSON.parse(r.tags) as string[], created_at: r.created_at });

/** Stable hash of the write's arguments: same arguments, same hash, whatever the key order. */
function argsHash(args: { title: string; body: string; tags: string[] }): string {
  return createHash("sha256").update(JSON.stringify([args.title, args.body, args.tags])).digest("hex");
}

export class Store {
  readonly path: string;
  #db: DatabaseSync;
  /** Statements compiled once at open: the tools and /health run them on every call. */
  #sql: Record<"byRequestId" | "insert" | "byId" | "usage" | "addUsage" | "probeWrite" | "probeRead", StatementSync>;
  #limits: StoreLimits;
  #search: NoteSearch;

  constructor(dataDir: string, limits: StoreLimits = DEFAULT_LIMITS) {
    this.#limits = limits;
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, "notes.sqlite");
    this.#db = new DatabaseSync(this.path);
    this.#db.exec(`
      ${sqlitePragmas(5000)}
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
      CREATE TABLE IF NOT EXISTS usage (owner TEXT PRIMARY KEY, bytes INTEGER NOT NULL);
    `);
    this.#migrate();
    const prepare = (sql: string) => this.#db.prepare(sql);
    this.#sql = {
      byRequestId: prepare("SELECT * FROM notes WHERE request_id = ?"),
      insert: prepare("INSERT INTO notes (id, request_id, args_hash, title, body, tags, created_at, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      byId: prepare("SELECT * FROM notes WHERE id = ?"),
      usage: prepare("SELECT owner, bytes FROM usage WHERE owner IN (?, ?)"),
      addUsage: prepare("INSERT INTO usage (owner, bytes) VALUES (?, ?) ON CONFLICT(owner) DO UPDATE SET bytes = bytes + excluded.bytes"),
      probeWrite: prepare("INSERT INTO health_probe (k, v) VALUES ('probe', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v"),
      probeRead: prepare("SELECT v FROM health_probe WHERE k = 'probe'"),
    };
    this.#search = new NoteSearch(this.path, limits.searchTimeoutMs);
  }

  /**
   * Brings a store from before issue 13 up to date (once, at open): the `owner` column (old notes belong to no
   * principal but count in the total), the usage totals, and the FTS5 index over the existing notes.
   */
  #migrate(): void {
    const columns = (this.#db.prepare("PRAGMA table_info(notes)").all() as Array<{ name: string }>).map((c) => c.name);
    const hasIndex = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'notes_fts'").get() !== undefined;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      if (!columns.includes("owner")) {
        this.#db.exec(`ALTER TABLE notes ADD COLUMN owner TEXT NOT NULL DEFAULT '';
          INSERT INTO usage (owner, bytes) SELECT '${TOTAL}', COALESCE(SUM(length(CAST(title AS BLOB)) + length(CAST(body AS BLOB)) + length(CAST(tags AS BLOB))), 0) FROM notes WHERE true
            ON CONFLICT(owner) DO NOTHING;`);
      }
      if (!hasIndex) {
        this.#db.exec(`CREATE VIRTUAL TABLE notes_fts USING fts5(title, body, tags, content='notes', content_rowid='rowid', tokenize='trigram');
          CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
            INSERT INTO notes_fts (rowid, title, body, tags) VALUES (new.rowid, new.title, new.body, new.tags);
          END;
          INSERT INTO notes_fts (notes_fts) VALUES ('rebuild');`);
      }
      this.#db.exec("COMMIT");
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  /** Throws QuotaExceededError if `bytes` more would exceed the owner's or the total quota. */
  #checkQuota(owner: string, bytes: number): void {
    const used = new Map((this.#sql.usage.all(owner, TOTAL) as Array<{ owner: string; bytes: number }>).map((r) => [r.owner, r.bytes]));
    const mine = used.get(owner) ?? 0;
    if (mine + bytes > this.#limits.quotaBytes) {
      throw new QuotaExceededError(`storage quota exceeded: this credential stores ${mine} of ${this.#limits.quotaBytes} bytes (NOTES_QUOTA_BYTES) and the note needs ${bytes}`);
    }
    if ((used.get(TOTAL) ?? 0) + bytes > this.#limits.totalQuotaBytes) {
      throw new QuotaExceededError(`storage quota exceeded: the server's note store is full (NOTES_TOTAL_QUOTA_BYTES = ${this.#limits.totalQuotaBytes} bytes)`);
    }
  }

  /** Creates a note once per request_id. Same id + same arguments → the stored note (replayed); other arguments → conflict. */
  saveNote(requestId: string, args: { title: string; body: string; tags: string[] }, owner = ""): SaveResult {
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
      const bytes = noteBytes(row);
      this.#checkQuota(owner, bytes);
      this.#sql.insert.run(row.id, row.request_id, row.args_hash, row.title, row.body, row.tags, row.created_at, owner);
      this.#sql.addUsage.run(owner, bytes);
      this.#sql.addUsage.run(TOTAL, bytes);
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

  /** Case-insensitive substring search over title, body and tags, newest first (in a worker: search.ts). */
  async searchNotes(query: string, limit: number): Promise<Note[]> {
    return (await this.#search.search(query, limit)).map(toNote);
  }

  /** A real write and read-back, for the deep health check. */
  probe(): void {
    const v = randomUUID();
    this.#sql.probeWrite.run(v);
    const r = this.#sql.probeRead.get() as { v: string } | undefined;
    if (r?.v !== v) throw new Error("store read-back mismatch");
  }

  close(): void {
    void this.#search.close();
    if (this.#db.isOpen) this.#db.close();
  }
}
