// Durability of idempotent writes under kill -9: workers stream save_note calls with unique request_ids; the server
// is SIGKILLed mid-stream (three times, at different moments); after each restart on the same DATA_DIR every
// acknowledged write is stored exactly once with the acknowledged id and content, nothing was stored that was
// never sent, and replaying every request_id (acknowledged or cut off by the kill) creates nothing new for the
// stored ones — a second replay creates nothing at all.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { startServer, type RunningServer } from "../support/server.ts";
import { closedLoop, answer, storedNotes, toolsCallBody, type Call } from "./load.ts";
import { rawPost } from "./raw-http.ts";

const dataDir = mkdtempSync(join(tmpdir(), "durability-"));
let server: RunningServer | undefined;
after(async () => {
  await server?.stop("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

const noteCall = (requestId: string): Call => ({ tool: "save_note", requestId, args: { request_id: requestId, title: `t ${requestId}`, body: `body of ${requestId}` } });

async function save(port: number, c: Call): Promise<{ replayed: boolean; id: string }> {
  const out = await rawPost({ port, body: toolsCallBody(c, 1), timeoutMs: 15_000 });
  assert.ok(out.kind === "response" && out.res.status === 200, `replay of ${c.requestId}: ${JSON.stringify(out.kind === "response" ? out.res.body.toString() : out)}`);
  const m = JSON.parse(out.res.body.toString()) as { result: { isError?: boolean; structuredContent: { replayed: boolean; note: { id: string } } } };
  assert.notEqual(m.result.isError, true, JSON.stringify(m));
  return { replayed: m.result.structuredContent.replayed, id: m.result.structuredContent.note.id };
}

const rowCount = () => {
  const db = new DatabaseSync(join(dataDir, "notes.sqlite"), { readOnly: true });
  try { return (db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM notes").get() as { n: number; d: number }); } finally { db.close(); }
};

test("kill -9 during a stream of idempotent writes: acknowledged writes survive exactly once; replays create nothing new", { timeout: 180_000 }, async () => {
  const sent = new Map<string, Call>();
  const acked = new Map<string, string>();
  // Kill after this many answers in each cycle, plus a few ms so the kill lands at varying points of a write.
  for (const [cycle, killAt] of [[1, 40], [2, 150], [3, 90]] as const) {
    server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: "warn" });
    const { port, pid } = server;
    let answered = 0;
    let killed = false;
    const kill = () => { if (!killed) { killed = true; process.kill(pid, "SIGKILL"); } };
    const records = await closedLoop({
      port, workers: 6, deadlineMs: 30_000, stop: () => false,
      next: (w, seq) => { const c = noteCall(`dur-${cycle}-${w}-${String(seq).padStart(5, "0")}`); sent.set(c.requestId!, c); return c; },
      onRecord: () => { if (++answered === killAt) setTimeout(kill, cycle * 3); },
    });
    assert.deepEqual(await server.exited, { code: null, signal: "SIGKILL" });
    let cycleAcks = 0;
    for (const r of records) {
      const m = answer(r);
      if (!m) continue;
      assert.notEqual(m.result?.isError, true, JSON.stringify(m));
      acked.set(r.requestId!, (m.result!.structuredContent as { note: { id: string } }).note.id);
      cycleAcks++;
    }
    const cut = records.filter((r) => r.outcome.kind === "no-response" || (r.outcome.kind === "response" && !r.outcome.res.complete)).length;
    console.log(`# cycle ${cycle}: killed after ~${killAt} answers, ${cycleAcks} writes acknowledged, ${cut} cut off by the kill`);
    assert.ok(killed && cycleAcks >= 5, `a stream was running when the kill came (${cycleAcks} acks)`);

    // Read the files the killed process left behind (WAL recovery on open), before any restart.
    const stored = storedNotes(dataDir);
    for (const [rid, noteId] of acked) {
      const s = stored.get(rid);
      assert.ok(s, `acknowledged write ${rid} survived kill -9`);
      assert.equal(s.id, noteId, `${rid} kept the acknowledged note id`);
      assert.equal(s.body, sent.get(rid)!.args.body, `${rid} content intact`);
    }
    for (const rid of stored.keys()) assert.ok(sent.has(rid), `stored ${rid} was sent by the test`);
    const c = rowCount();
    assert.equal(c.n, c.d, "exactly once: one row per request_id");

    // Restart on the same data and replay every request_id sent so far.
    server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: "warn" });
    const calls = [...sent];
    for (let i = 0; i < calls.length; i += 8) {
      await Promise.all(calls.slice(i, i + 8).map(async ([rid, call]) => {
        const r = await save(server!.port, call);
        if (stored.has(rid)) {
          assert.equal(r.replayed, true, `${rid} was stored: replay creates nothing`);
          assert.equal(r.id, stored.get(rid)!.id);
        }
      }));
    }
    assert.equal(rowCount().n, sent.size, "after one replay every sent request_id is stored once");
    for (const call of [...sent.values()].slice(-50)) assert.equal((await save(server.port, call)).replayed, true);
    assert.equal(rowCount().n, sent.size, "a second replay creates nothing");
    await server.stop();
    server = undefined;
  }
  assert.ok(acked.size >= 30, `${acked.size} acknowledged writes over 3 kills`);
});
