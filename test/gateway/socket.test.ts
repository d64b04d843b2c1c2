// UPSTREAM_<NAME>_SOCKET: the gateway reaches an upstream through a unix socket, as nginx reaches a server on the
// droplet: through a `live.sock` symlink to the live slot's socket (blue/green, infra/render/deployment-plan.ts).
// Switching the symlink (and then stopping the old slot) moves the gateway's calls without a failure.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { startServer, type RunningServer } from "../support/server.ts";
import { startGateway } from "../support/gateway.ts";
import { startAll, waitFor } from "../support/proc.ts";
import { connect, call, text } from "../server/mcp-client.ts";

const dir = mkdtempSync(join(tmpdir(), "gw-sockets-"));
const live = join(dir, "live.sock");
let blue: RunningServer, green: RunningServer, gw: RunningServer;
let c: Client;

/** Points live.sock at `target` atomically (a new symlink renamed over the old one), as the deployment does. */
function pointLiveAt(target: string): void {
  const tmp = join(dir, `live.${randomUUID()}`);
  symlinkSync(target, tmp);
  renameSync(tmp, live);
}

const found = async (server: RunningServer, marker: string) => {
  const direct = await connect(server.mcpUrl);
  try { return (await call(direct, "search_notes", { query: marker })).structuredContent?.count; } finally { await direct.close(); }
};

before(async () => {
  [blue, green] = await startAll([
    () => startServer({ LISTEN_SOCKET: join(dir, "blue.sock") }),
    () => startServer({ LISTEN_SOCKET: join(dir, "green.sock") }),
  ] as const);
  pointLiveAt(join(dir, "blue.sock"));
  gw = await startGateway({}, { UPSTREAMS: "notes", UPSTREAM_NOTES_SOCKET: live });
  c = await connect(gw.mcpUrl);
});

after(async () => {
  await c?.close().catch(() => {});
  await Promise.allSettled([gw?.stop(), blue?.stop(), green?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

test("calls go through the socket live.sock points at; switching it and stopping the old slot fails no call", async () => {
  const save = async (marker: string) => {
    const r = await call(c, "notes__save_note", { request_id: randomUUID(), title: marker, body: "via the gateway's socket" });
    assert.equal(r.isError, undefined, text(r));
  };
  const first = `blue-${randomUUID()}`;
  await save(first);
  assert.deepEqual([await found(blue, first), await found(green, first)], [1, 0], "the note is on blue");

  let calls = 0;
  const failures: string[] = [];
  let stop = false;
  const loop = (async () => {
    for (let i = 0; i < 5000 && !stop; i++) {
      const r = await call(c, "notes__search_notes", { query: "x" }).catch((e: Error) => e);
      calls++;
      if (r instanceof Error || r.isError) failures.push(r instanceof Error ? r.message : text(r));
    }
  })();
  await waitFor("calls before the switch", () => calls >= 10, { timeoutMs: 30_000, intervalMs: 20 });
  pointLiveAt(join(dir, "green.sock"));
  const second = `green-${randomUUID()}`;
  await save(second);
  assert.deepEqual([await found(blue, second), await found(green, second)], [0, 1], "after the switch the note is on green");
  await blue.stop();
  const atStop = calls;
  await waitFor("calls after blue stopped", () => calls >= atStop + 10, { timeoutMs: 30_000, intervalMs: 20 });
  stop = true;
  await loop;
  assert.deepEqual(failures, [], `${calls} calls`);
});
