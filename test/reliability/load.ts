// A bounded closed-loop load for the reliability tests: W workers, each with its own keep-alive connection, send
// tools/call requests back to back and record exactly what came back for each one (see raw-http.ts). A worker
// stops when `stop()` says so, when the server is gone (no response), or at the deadline.
import { Agent } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { rawPost, type RawOutcome } from "./raw-http.ts";

export interface Call { tool: string; args: Record<string, unknown>; requestId?: string }
export interface CallRecord extends Call { worker: number; sentAt: number; doneAt: number; outcome: RawOutcome }

export interface LoadOptions {
  port: number;
  workers: number;
  /** The next call of a worker (seq counts that worker's calls from 0). */
  next(worker: number, seq: number): Call;
  stop(): boolean;
  deadlineMs: number;
  /** Called as each call completes (e.g. to trigger a fault after N answers). */
  onRecord?(r: CallRecord): void;
}

export const toolsCallBody = (c: Call, id: number) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: c.tool, arguments: c.args } });

export async function closedLoop(o: LoadOptions): Promise<CallRecord[]> {
  const records: CallRecord[] = [];
  const deadline = Date.now() + o.deadlineMs;
  await Promise.all(Array.from({ length: o.workers }, async (_, w) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let seq = 0; !o.stop() && Date.now() < deadline; seq++) {
        const call = o.next(w, seq);
        const sentAt = Date.now();
        const outcome = await rawPost({ port: o.port, body: toolsCallBody(call, seq + 1), agent, timeoutMs: Math.max(1000, deadline - Date.now()) });
        const record = { ...call, worker: w, sentAt, doneAt: Date.now(), outcome };
        records.push(record);
        o.onRecord?.(record);
        if (outcome.kind === "no-response") break;
      }
    } finally { agent.destroy(); }
  }));
  return records;
}

/** The JSON-RPC message of a complete 200 answer (undefined otherwise). */
export function answer(r: CallRecord): { result?: { isError?: boolean; structuredContent?: Record<string, unknown>; content?: unknown[] }; error?: unknown } | undefined {
  if (r.outcome.kind !== "response" || !r.outcome.res.complete || r.outcome.res.status !== 200) return undefined;
  try { return JSON.parse(r.outcome.res.body.toString("utf8")) as ReturnType<typeof answer>; } catch { return undefined; }
}

/** Every stored note's request_id → [note id, title, body] (the SQLite file read directly, read-only). */
export function storedNotes(dataDir: string): Map<string, { id: string; title: string; body: string }> {
  const db = new DatabaseSync(join(dataDir, "notes.sqlite"), { readOnly: true });
  try {
    const rows = db.prepare("SELECT request_id, id, title, body FROM notes").all() as Array<{ request_id: string; id: string; title: string; body: string }>;
    return new Map(rows.map((r) => [r.request_id, { id: r.id, title: r.title, body: r.body }]));
  } finally { db.close(); }
}
