// The images' HEALTHCHECK script (contract/livez-probe.sh) run by bash against real listeners: healthy only on a 200
// status line from GET /livez at HOST:PORT (IPv6 too, Host header bracketed), unhealthy on another status, a closed
// port or a listener that never answers (bounded: the status line is awaited 2 s). Plus shellcheck. The image tests
// (image.test.ts, container.test.ts) prove it is the image's probe and that a container becomes healthy with it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { join } from "node:path";
import { run, freePort } from "../support/proc.ts";

const PROBE = join(import.meta.dirname, "..", "..", "contract", "livez-probe.sh");
const closers: (() => void)[] = [];
after(() => { for (const c of closers) c(); });

async function listen(server: Server | ReturnType<typeof createTcpServer>, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  closers.push(() => server.close());
  return (server.address() as { port: number }).port;
}

/** An HTTP server answering /livez with `status`, recording each request's Host header. */
async function livez(status: number, host = "127.0.0.1"): Promise<{ port: number; hosts: string[] }> {
  const hosts: string[] = [];
  const server = createServer((req, res) => {
    hosts.push(req.headers.host ?? "");
    res.writeHead(req.url === "/livez" ? status : 404, { "content-type": "application/json" }).end('{"status":"alive"}');
  });
  return { port: await listen(server, host), hosts };
}

const probe = (env: Record<string, string>) => run("bash", [PROBE], { env: { PATH: process.env.PATH ?? "", ...env }, timeoutMs: 20_000 });

test("200 from /livez → exit 0, with Host = HOST:PORT", async () => {
  const s = await livez(200);
  const r = await probe({ HOST: "127.0.0.1", PORT: String(s.port) });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(s.hosts, [`127.0.0.1:${s.port}`]);
});

test("IPv6 HOST: connects to it and brackets it in the Host header", async () => {
  const s = await livez(200, "::1");
  const r = await probe({ HOST: "::1", PORT: String(s.port) });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(s.hosts, [`[::1]:${s.port}`]);
});

test("503, a closed port, or a listener that never answers → exit 1 (the silent one within ~2 s)", async () => {
  const down = await livez(503);
  assert.equal((await probe({ HOST: "127.0.0.1", PORT: String(down.port) })).code, 1, "503");
  assert.equal((await probe({ HOST: "127.0.0.1", PORT: String(await freePort()) })).code, 1, "closed port");
  const sockets: Socket[] = [];
  const silent = createTcpServer((s) => { sockets.push(s); });
  const port = await listen(silent, "127.0.0.1");
  closers.unshift(() => { for (const s of sockets) s.destroy(); });
  const t = Date.now();
  assert.equal((await probe({ HOST: "127.0.0.1", PORT: String(port) })).code, 1, "silent listener");
  const ms = Date.now() - t;
  assert.ok(ms >= 1_900 && ms < 10_000, `gave up after ${ms} ms`);
});

test("shellcheck passes", async () => {
  const r = await run("shellcheck", [PROBE]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});
