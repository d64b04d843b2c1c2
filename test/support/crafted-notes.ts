// Notes crafted so that a substring search is as expensive as it gets for the store (issue 13 item 2): every note
// holds each trigram of the queries thousands of times but never the phrase, so the trigram index narrows nothing
// and SQLite checks every position. Shared by test/reliability/loop-stall.test.ts and bench/attack-server.ts.
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { Store } from "../../server/src/store.ts";

/** One note's body: ~10 KB in which "abcx" and "bcdx" recur but "abcd" never occurs. */
export const CRAFTED_BODY = "abcx bcdx ".repeat(999);
/** Queries that match no crafted note; the phrase's cost grows with its length. */
export const CRAFTED_QUERIES = ["x bcdx abcd", "abcd", `${"abcx bcdx ".repeat(19)}abcd`, "ab"];

/**
 * Seeds `dir` with `count` crafted notes (~10 KB each), fast: the store creates its schema (and FTS5 index), then
 * one SQLite transaction inserts them all. No server may have `dir` open while it runs.
 */
export function seedCraftedNotes(dir: string, count: number): void {
  new Store(dir).close();
  const db = new DatabaseSync(join(dir, "notes.sqlite"));
  try {
    const insert = db.prepare("INSERT INTO notes (id, request_id, args_hash, title, body, tags, created_at) VALUES (?, ?, '', ?, ?, '[\"crafted\"]', ?)");
    db.exec("BEGIN");
    for (let i = 0; i < count; i++) insert.run(randomUUID(), `seed-note-${i}`, `note ${i}`, CRAFTED_BODY, new Date().toISOString());
    db.exec("COMMIT");
  } finally { db.close(); }
}
