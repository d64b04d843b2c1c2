// server/src/logger.ts: per-call lines (fixedFieldsLogger) are gathered and written together, every other line is
// written at once with what was gathered before it, order and whole lines are kept, and nothing is lost at exit.
// Each case runs the real logger in a child process whose stdout is a pipe (as in a container), and counts the
// destination's own `write` events (SonicBoom emits one per completed write(2)) through pino's stream symbol.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { run } from "../support/proc.ts";

const LOGGER = fileURLToPath(new URL("../../server/src/logger.ts", import.meta.url));

/** Runs `body` (module code with `logger`, `hot`, `dest`, `writes()`, `sleep` in scope); returns its stdout lines. */
async function child(body: string): Promise<Array<Record<string, unknown>>> {
  const script = `
    import { pino } from "pino";
    import { createLogger, fixedFieldsLogger, flushLogs } from ${JSON.stringify(LOGGER)};
    const logger = createLogger("info", "logger-test");
    const hot = fixedFieldsLogger(logger);
    const dest = logger[pino.symbols.streamSym];
    let count = 0;
    dest.on("write", () => { count++; });
    const writes = () => count;
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    ${body}`;
  const r = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: fileURLToPath(new URL("../..", import.meta.url)), timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Warning/, "no process warning (e.g. MaxListenersExceededWarning)");
  return r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("per-call lines are written many to one write(2); all arrive whole and in order", { timeout: 90_000 }, async () => {
  const lines = await child(`
    // One line a millisecond, like calls arriving one by one: unbuffered, each would be its own write.
    for (let i = 0; i < 500; i++) { hot.info({ event: "tool_call", n: i }, "tool call"); await sleep(1); }
    // Bounded wait for the periodic flush (LOG_FLUSH_MS) to write the rest (_len: SonicBoom's buffered length).
    for (let i = 0; i < 100 && dest._len > 0; i++) await sleep(50);
    logger.info({ event: "writes", writes: writes() }, "count");
    await sleep(200);
  `);
  const calls = lines.filter((l) => l.event === "tool_call");
  assert.deepEqual(calls.map((l) => l.n), Array.from({ length: 500 }, (_, i) => i));
  const writes = lines.find((l) => l.event === "writes")!.writes as number;
  // 500 lines of ~110 bytes = ~55 KB over ≥ 0.5 s: a write per 4 KB (LOG_BUFFER_BYTES) or per LOG_FLUSH_MS tick.
  // Unbuffered (minLength 0) the same loop took one write per line.
  assert.ok(writes <= 60, `500 per-call lines took ${writes} writes`);
});

test("any other line is written at once, with the per-call lines gathered before it, in order", { timeout: 90_000 }, async () => {
  const lines = await child(`
    await sleep(300); // after start-up's writes and a periodic flush: nothing in flight
    hot.info({ event: "tool_call", n: 1 }, "tool call");
    const before = writes();
    const idle = !dest._writing; // SonicBoom's write-in-flight flag
    logger.warn({ event: "urgent" }, "urgent");
    const startedAtOnce = dest._writing; // not left for the periodic flush
    logger.info({ event: "flags", idle, startedAtOnce }, "flags");
    // No timer involved: the write the warn line started completes on its own.
    for (let i = 0; i < 200 && writes() === before; i++) await sleep(5);
    logger.info({ event: "seen", after: writes() - before }, "seen");
    await sleep(200);
  `);
  assert.deepEqual(lines.map((l) => l.event), ["tool_call", "urgent", "flags", "seen"]);
  assert.deepEqual(lines.find((l) => l.event === "flags"), { ...lines.find((l) => l.event === "flags"), idle: true, startedAtOnce: true });
  const seen = lines.find((l) => l.event === "seen")!;
  assert.ok((seen.after as number) >= 1, "the warn line was written");
});

test("a burst of other lines: at most one pending flush, not a listener per line; all written, in order", { timeout: 90_000 }, async () => {
  const lines = await child(`
    for (let i = 0; i < 100; i++) logger.warn({ event: "urgent", n: i }, "urgent");
    logger.info({ event: "listeners", n: dest.listenerCount("write") }, "listeners");
    await sleep(300);
  `);
  assert.deepEqual(lines.filter((l) => l.event === "urgent").map((l) => l.n), Array.from({ length: 100 }, (_, i) => i));
  // The test's own counting listener, and the logger's one pending flush.
  assert.ok((lines.find((l) => l.event === "listeners")!.n as number) <= 2, JSON.stringify(lines.at(-1)));
});

test("exit writes what is still gathered: no per-call line is lost on process.exit", { timeout: 90_000 }, async () => {
  const lines = await child(`
    for (let i = 0; i < 50; i++) hot.info({ event: "tool_call", n: i }, "tool call");
    process.exit(0);
  `);
  assert.equal(lines.filter((l) => l.event === "tool_call").length, 50);
});

test("flushLogs before exit (as the graceful shutdown does): every line written, in order, the last one last", { timeout: 90_000 }, async () => {
  const lines = await child(`
    for (let i = 0; i < 200; i++) { hot.info({ event: "tool_call", n: i }, "tool call"); if (i % 20 === 0) await sleep(1); }
    logger.info({ event: "stopped" }, "stopped");
    await flushLogs(logger);
    process.exit(0);
  `);
  assert.deepEqual(lines.map((l) => l.event === "stopped" ? "stopped" : l.n), [...Array.from({ length: 200 }, (_, i) => i), "stopped"]);
});

test("an idle logger sets no timer: one flush timer while per-call lines wait, none before or after", { timeout: 90_000 }, async () => {
  // Counts the timers the logger creates (setTimeout/setInterval wrapped before it is loaded): a periodic flush
  // would wake an idle server every LOG_FLUSH_MS (docs/rehearsal.md: the cost of idle wake-ups under TCG).
  const script = `
    const made = { interval: 0, timeout: 0 };
    const st = globalThis.setTimeout, si = globalThis.setInterval;
    globalThis.setInterval = (...a) => { made.interval++; return si(...a); };
    globalThis.setTimeout = (...a) => { made.timeout++; return st(...a); };
    const { createLogger, fixedFieldsLogger, LOG_FLUSH_MS } = await import(${JSON.stringify(LOGGER)});
    const wait = (ms) => new Promise((r) => st(r, ms));
    const logger = createLogger("info", "logger-test");
    const hot = fixedFieldsLogger(logger);
    const snap = () => ({ ...made });
    const started = snap();
    await wait(LOG_FLUSH_MS * 3);
    const idle = snap();
    for (let i = 0; i < 20; i++) hot.info({ event: "tool_call", n: i }, "tool call");
    const gathered = snap();
    await wait(LOG_FLUSH_MS * 3);
    const written = snap();
    await wait(LOG_FLUSH_MS * 3);
    console.log(JSON.stringify({ event: "timers", started, idle, gathered, written, idleAgain: snap() }));`;
  const r = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: fileURLToPath(new URL("../..", import.meta.url)), timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const timers = lines.find((l) => l.event === "timers")! as Record<string, { interval: number; timeout: number }>;
  assert.equal(lines.filter((l) => l.event === "tool_call").length, 20, "every gathered line was written by the timer");
  assert.deepEqual(timers.started, { interval: 0, timeout: 0 }, "no timer at creation");
  assert.deepEqual(timers.idle, timers.started, "none while idle");
  assert.deepEqual(timers.gathered, { interval: 0, timeout: 1 }, "one flush timer for 20 gathered lines");
  assert.deepEqual(timers.idleAgain, timers.written, "none once they were written");
  assert.equal(timers.written!.timeout, 1);
});
