// LISTEN_SOCKET: the app also listens on a unix socket (what nginx proxies to on a deployed host). A real SDK client
// works over it, the socket is usable by other users (0666), a stale socket file is replaced, a live one or a regular
// file is refused with a message naming the variable, and SIGTERM removes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, statSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, fetch as undiciFetch } from "undici";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { startServer } from "../support/server.ts";
import { connect, call, text } from "./mcp-client.ts";
import { run } from "../support/proc.ts";

const socketFetch = (path: string) => {
  const agent = new Agent({ connect: { socketPath: path } });
  const fetch = ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as FetchLike;
  return { fetch, close: () => agent.close() };
};

test("LISTEN_SOCKET: an SDK client calls tools over the socket, mode 0666, proxied headers like nginx sends; SIGTERM removes it", async () => {
  const sock = join(mkdtempSync(join(tmpdir(), "mcp-sock-")), "mcp.sock");
  const server = await startServer({ LISTEN_SOCKET: sock, PUBLIC_URL: "https://mcp.example.test", LOG_LEVEL: "debug" });
  const via = socketFetch(sock);
  try {
    assert.ok(statSync(sock).isSocket());
    assert.equal(statSync(sock).mode & 0o777, 0o666, "nginx's workers (another user) can connect");
    const client = await connect("http://mcp.example.test/mcp", { "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https" }, via.fetch);
    const saved = await call(client, "save_note", { request_id: "socket-note-1", title: "over the socket", body: "b" });
    assert.equal(saved.isError, undefined, text(saved));
    await client.close();
    const live = await via.fetch("http://localhost/livez");
    assert.equal(live.status, 200, "plain requests with any Host reach the health endpoints over the socket (the deploy's gate)");
    const started = await server.waitForLog((e) => e.event === "started");
    assert.equal(started.listen_socket, sock);
    // The TCP port keeps serving too (the image's HEALTHCHECK and the smoke check use it).
    assert.equal((await fetch(`${server.url}/livez`)).status, 200);
  } finally {
    await via.close();
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
  assert.equal(existsSync(sock), false, "the socket file is removed at shutdown");
});

test("LISTEN_SOCKET: a stale socket file is replaced; a live socket or a regular file is refused, naming the variable", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mcp-sock-"));
  // Stale: a socket file whose server is gone (what a crash or a reboot leaves behind).
  const stale = join(dir, "stale.sock");
  await run("python3", ["-c", `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(stale)})`]);
  assert.ok(statSync(stale).isSocket(), "a stale socket file exists");
  const server = await startServer({ LISTEN_SOCKET: stale });
  const via = socketFetch(stale);
  try {
    assert.equal((await via.fetch("http://localhost/livez")).status, 200);
  } finally {
    await via.close();
    await server.stop();
  }

  const live = join(dir, "live.sock");
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(live, r));
  try {
    await assert.rejects(startServer({ LISTEN_SOCKET: live }, { timeoutMs: 10_000 }), /LISTEN_SOCKET: cannot listen on .*live\.sock: another process is listening on it/);
  } finally {
    holder.close();
  }
  const file = join(dir, "notes.txt");
  writeFileSync(file, "keep me");
  await assert.rejects(startServer({ LISTEN_SOCKET: file }, { timeoutMs: 10_000 }), /LISTEN_SOCKET: cannot listen on .*notes\.txt: a file that is not a socket is in the way/);
  assert.equal(readFileSync(file, "utf8"), "keep me", "the file is left alone");
  await assert.rejects(startServer({ LISTEN_SOCKET: "relative.sock" }, { timeoutMs: 10_000 }), /LISTEN_SOCKET: invalid value "relative\.sock": must be an absolute file path/);
  await assert.rejects(startServer({ LISTEN_SOCKET: `/tmp/${"x".repeat(120)}.sock` }, { timeoutMs: 10_000 }), /LISTEN_SOCKET: .*at most 107 bytes/);
});
