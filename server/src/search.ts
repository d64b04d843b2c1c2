// search_notes off the main thread. A substring search over tens of MB of notes costs SQLite hundreds of
// milliseconds even through the trigram index (measured: 350 ms for a crafted 11-character phrase over 30 MB, and
// SQLite cannot be interrupted from node:sqlite), and the event loop must never stall that long (/livez, every
// other request). So searches run in one worker thread with its own read-only connection (WAL lets it read while
// the main thread writes), one at a time, each stopped after SEARCH_TIMEOUT_MS, with a bounded queue.
import { Worker } from "node:worker_threads";

/** Rows as stored (tags still JSON text); the store turns them into notes. */
export interface NoteRow { id: string; request_id: string; title: string; body: string; tags: string; created_at: string }

export class SearchError extends Error {
  readonly type: "search_timeout" | "search_busy" | "search_failed";
  constructor(type: SearchError["type"], message: string) { super(message); this.type = type; }
}

/** Searches waiting for the worker; more are refused (search_busy) rather than queued without bound. */
export const MAX_QUEUED_SEARCHES = 16;

// The worker's whole program (an eval'd CommonJS script, so it also works from the single-file image bundle).
// Queries of 3+ characters use the FTS5 trigram index (a phrase of trigrams = a substring, case-insensitive);
// shorter ones cannot use it and scan with LIKE — bounded by the timeout like any other search.
const WORKER_SOURCE = `
const { DatabaseSync } = require("node:sqlite");
const { parentPort, workerData } = require("node:worker_threads");
// Lowest CPU priority for this thread only (Linux: setpriority on the thread id, man 2 setpriority "NOTES"), so on
// a busy machine the main thread — /livez, every other request — always runs before a long search.
try { require("node:os").setPriority(Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop()), 19); } catch {}
const db = new DatabaseSync(workerData.path, { readOnly: true });
db.exec("PRAGMA busy_timeout = 5000");
const indexed = db.prepare("SELECT id, request_id, title, body, tags, created_at FROM notes WHERE rowid IN (SELECT rowid FROM notes_fts WHERE notes_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2) ORDER BY rowid DESC");
const scan = db.prepare("SELECT id, request_id, title, body, tags, created_at FROM notes WHERE title LIKE ?1 ESCAPE '\\\\' OR body LIKE ?1 ESCAPE '\\\\' OR tags LIKE ?1 ESCAPE '\\\\' ORDER BY rowid DESC LIMIT ?2");
parentPort.on("message", ({ query, limit }) => {
  parentPort.postMessage({ started: true });
  try {
    const rows = [...query].length >= 3
      ? indexed.all('"' + query.replaceAll('"', '""') + '"', limit)
      : scan.all("%" + query.replace(/[\\\\%_]/g, (c) => "\\\\" + c) + "%", limit);
    parentPort.postMessage({ rows });
  } catch (e) { parentPort.postMessage({ error: String(e && e.message) }); }
});
`;

interface Pending { query: string; limit: number; resolve(rows: NoteRow[]): void; reject(e: Error): void }

export class NoteSearch {
  #path: string;
  #timeoutMs: number;
  #worker: Worker | undefined;
  /** A worker stopped on timeout that has not exited yet (SQLite finishes its current step first). */
  #stopping: Worker | undefined;
  #queue: Pending[] = [];
  #busy = false;
  #closed = false;

  constructor(path: string, timeoutMs: number) { this.#path = path; this.#timeoutMs = timeoutMs; }

  /** Notes whose title, body or tags contain `query` (case-insensitive), newest first, at most `limit`. */
  search(query: string, limit: number): Promise<NoteRow[]> {
    if (this.#queue.length >= MAX_QUEUED_SEARCHES) {
      return Promise.reject(new SearchError("search_busy", `too many searches are waiting (${MAX_QUEUED_SEARCHES}); retry in a moment`));
    }
    return new Promise((resolve, reject) => { this.#queue.push({ query, limit, resolve, reject }); this.#pump(); });
  }

  #pump(): void {
    if (this.#busy || this.#closed || this.#stopping || this.#queue.length === 0) return;
    const job = this.#queue.shift()!;
    this.#busy = true;
    const worker = this.#worker ??= this.#spawn();
    const done = () => { clearTimeout(timer); worker.off("message", onMessage); worker.off("error", onError); this.#busy = false; this.#pump(); };
    let timer: NodeJS.Timeout | undefined;
    const onMessage = (m: { started?: true; rows?: NoteRow[]; error?: string }) => {
      if (m.started) { timer = setTimeout(stop, this.#timeoutMs); return; }
      done();
      if (m.rows) job.resolve(m.rows); else job.reject(new SearchError("search_failed", `search failed: ${m.error}`));
    };
    const onError = (e: Error) => { this.#worker = undefined; done(); job.reject(new SearchError("search_failed", `search failed: ${e.message}`)); };
    // The timeout bounds the search itself, from the moment the worker takes the job: a fresh worker's start-up
    // (thread, module load, opening the database) is not the query's cost, and counting it would make a short
    // SEARCH_TIMEOUT_MS stop every first search after a restart on a busy machine.
    const stop = () => {
      // Stop the worker; the next search starts a fresh one once this one has exited (at most one stray thread).
      this.#worker = undefined;
      this.#stopping = worker;
      worker.once("exit", () => { this.#stopping = undefined; this.#pump(); });
      void worker.terminate();
      done();
      job.reject(new SearchError("search_timeout", `search took longer than ${this.#timeoutMs} ms (SEARCH_TIMEOUT_MS) and was stopped; use a longer, more specific query`));
    };
    worker.on("message", onMessage);
    worker.once("error", onError);
    worker.postMessage({ query: job.query, limit: job.limit });
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: this.#path } });
    worker.unref();
    return worker;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new SearchError("search_failed", "the store is closing"));
    await Promise.allSettled([this.#worker?.terminate(), this.#stopping?.terminate()]);
  }
}
