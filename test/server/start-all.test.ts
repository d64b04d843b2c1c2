// startAll (test/support/proc.ts): when one of several parallel starts fails, the started siblings are stopped (by
// their own stop()) and the failure is rethrown — a real server process is the sibling, and its exit is observed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startAll } from "../support/proc.ts";
import { startServer, type RunningServer } from "../support/server.ts";

test("a failed start stops the sibling that started and rethrows the failure", async () => {
  let started: RunningServer | undefined;
  await assert.rejects(startAll([
    async () => (started = await startServer()),
    async () => { throw new Error("second start failed"); },
  ]), /second start failed/);
  assert.ok(started, "the sibling started");
  const exit = await Promise.race([started.exited, new Promise((r) => setTimeout(() => r("still running"), 1))]);
  assert.notEqual(exit, "still running", "the started sibling was stopped before startAll rejected");
});

test("all starts succeed: the handles come back in order", async () => {
  const [a, b] = await startAll([() => startServer({ MCP_SESSIONS: "stateless" }), () => startServer({ MCP_SESSIONS: "stateful" })]);
  try {
    assert.notEqual(a.port, b.port);
    assert.equal((await fetch(`${a.url}/livez`)).ok && (await fetch(`${b.url}/livez`)).ok, true);
  } finally { await Promise.all([a.stop(), b.stop()]); }
});
