// Process lifecycle against the real server: configuration errors name the variable and exit 1; SIGTERM drains an
// in-flight tool call and exits 0 (bounded); notes survive a restart on the same DATA_DIR.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { MAIN, startServer } from "../support/server.ts";
import { startUpstreamStub } from "../support/upstream-stub.ts";
import { run, waitFor } from "../support/proc.ts";
import { connect, call } from "./mcp-client.ts";


test("invalid configuration stops the process with exit 1 and a message naming the variable", { timeout: 60_000 }, async () => {
  // Every rule is covered by config.test.ts; here the process-level behaviour, including never echoing a key.
  const base = { PATH: process.env.PATH!, DATA_DIR: join(tmpdir(), "never-created") };
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ AUTH_MODE: "none", PORT: "eighty" }, /^invalid configuration: PORT: invalid value "eighty": must be an integer from 1 to 65535\n$/],
    [{ AUTH_MODE: "api-key", API_KEYS: "tiny-secret" }, /^invalid configuration: API_KEYS: every API key must be at least 16 characters/],
  ];
  for (const [env, re] of cases) {
    const r = await run(process.execPath, [MAIN], { env: { ...base, ...env }, timeoutMs: 15_000 });
    assert.equal(r.code, 1, JSON.stringify(env));
    assert.match(r.stderr, re, JSON.stringify(env));
    assert.ok(!r.stderr.includes("tiny-secret"), "a bad key is never echoed");
  }
});

test("SIGTERM: stops accepting, finishes the in-flight call, exits 0", { timeout: 60_000 }, async () => {
  const stub = await startUpstreamStub({ slowMs: 1500 });
  const server = await startServer({ UPSTREAM_URL: stub.url, UPSTREAM_TIMEOUT_MS: "5000", UPSTREAM_RETRIES: "0", SHUTDOWN_TIMEOUT_MS: "30000" });
  try {
    const client = await connect(server.mcpUrl);
    stub.setMode("slow");
    const inflight = call(client, "get_forecast", { latitude: 10, longitude: 20, days: 2 });
    await waitFor("the call to reach the upstream", () => stub.requests() === 1, { timeoutMs: 5000, intervalMs: 10 });
    const t = performance.now();
    const stopping = server.stop("SIGTERM");
    await server.waitForLog((e) => e.event === "shutdown");
    await assert.rejects(fetch(`${server.url}/livez`, { signal: AbortSignal.timeout(2000) }), "no new connections while draining");
    const result = await inflight;
    assert.equal(result.isError, undefined, "the in-flight call completed with data");
    assert.equal((result.structuredContent as { days: unknown[] }).days.length, 2);
    assert.deepEqual(await stopping, { code: 0, signal: null });
    // drained: true (below) proves the drain ended with the call; the exit also comes well before the 30 s drain timeout.
    assert.ok(performance.now() - t < 15_000, "exits when the in-flight call is done, not at the drain timeout");
    const shutdown = server.logEntries().find((e) => e.event === "shutdown")!;
    assert.equal(shutdown.inflight, 1);
    assert.equal(server.logEntries().find((e) => e.event === "stopped")?.drained, true);
    await client.close().catch(() => {});
  } finally {
    await server.stop();
    await stub.stop();
  }
});

test("SIGTERM: the drain wait is bounded by SHUTDOWN_TIMEOUT_MS", { timeout: 60_000 }, async () => {
  const stub = await startUpstreamStub({ slowMs: 20_000 });
  const server = await startServer({ UPSTREAM_URL: stub.url, UPSTREAM_TIMEOUT_MS: "30000", UPSTREAM_RETRIES: "0", SHUTDOWN_TIMEOUT_MS: "500" });
  try {
    const client = await connect(server.mcpUrl);
    stub.setMode("slow");
    const inflight = call(client, "get_forecast", { latitude: 1, longitude: 1 }).catch((e: Error) => e);
    await waitFor("the call to reach the upstream", () => stub.requests() === 1, { timeoutMs: 5000, intervalMs: 10 });
    const t = performance.now();
    assert.deepEqual(await server.stop("SIGTERM"), { code: 0, signal: null });
    const ms = performance.now() - t;
    // SHUTDOWN_TIMEOUT_MS is 500 and the call would take 20 s: < 10 s proves the bound and leaves a loaded host room.
    assert.ok(ms >= 450 && ms < 10_000, `exit after the bounded wait, took ${ms} ms`);
    assert.equal(server.logEntries().find((e) => e.event === "stopped")?.drained, false);
    assert.ok(await inflight instanceof Error, "the abandoned call fails on the client");
  } finally {
    await server.stop();
    await stub.stop();
  }
});

test("notes survive a restart on the same DATA_DIR (and idempotency still holds)", { timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "mcp-restart-"));
  try {
    const args = { request_id: randomUUID(), title: "persist me", body: "across restarts", tags: ["durable"] };
    const first = await startServer({ DATA_DIR: dataDir });
    const c1 = await connect(first.mcpUrl);
    const saved = (await call(c1, "save_note", args)).structuredContent as { note: { id: string } };
    await c1.close();
    assert.deepEqual(await first.stop(), { code: 0, signal: null });

    const second = await startServer({ DATA_DIR: dataDir });
    try {
      const c2 = await connect(second.mcpUrl);
      const got = await call(c2, "get_note", { id: saved.note.id });
      assert.deepEqual((got.structuredContent as { note: unknown }).note, saved.note);
      const replay = (await call(c2, "save_note", args)).structuredContent as { replayed: boolean; note: unknown };
      assert.equal(replay.replayed, true);
      assert.deepEqual(replay.note, saved.note);
      await c2.close();
    } finally { await second.stop(); }
  } finally { rmSync(dataDir, { recursive: true, force: true }); }
});

test("SIGTERM in stateful mode: open sessions (and their GET streams) do not hold up shutdown", { timeout: 60_000 }, async () => {
  const server = await startServer({ MCP_SESSIONS: "stateful", SHUTDOWN_TIMEOUT_MS: "30000" });
  try {
    const client = await connect(server.mcpUrl);
    assert.equal((await call(client, "search_notes", { query: "x" })).isError, undefined);
    const t = performance.now();
    assert.deepEqual(await server.stop("SIGTERM"), { code: 0, signal: null });
    assert.ok(performance.now() - t < 15_000, "exits without waiting for the 30 s drain timeout");
    assert.equal(server.logEntries().find((e) => e.event === "stopped")?.drained, true);
    await client.close().catch(() => {});
  } finally { await server.stop(); }
});
