// Listeners of the MCP app: the TCP port, and optionally a unix socket (LISTEN_SOCKET). The deployment points nginx
// at a symlink to the live slot's socket, so a redeploy switches slots without reloading nginx (why: docs/infra.md, "Zero-downtime switch without an nginx reload").
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import type { Server } from "node:http";
import type { RequestListener } from "node:http";
import { createServer } from "node:http";

export class ListenError extends Error {}

/**
 * The app's listeners: HOST:PORT and, if given, LISTEN_SOCKET, with the server's HTTP timeouts (headers 30 s, a whole
 * request `requestTimeoutMs`, keep-alive 65 s: longer than nginx's upstream keepalive_timeout 60 s). Rejects with a ListenError.
 */
export async function listenApp(app: RequestListener, opts: { host: string; port: number; listenSocket: string | undefined; requestTimeoutMs: number }): Promise<Server[]> {
  const servers = [await listenTcp(app, opts.host, opts.port, "PORT")];
  if (opts.listenSocket) {
    try { servers.push(await listenSocket(app, opts.listenSocket)); } catch (e) { servers[0]!.close(); throw e; }
  }
  for (const s of servers) {
    s.headersTimeout = 30_000;
    s.requestTimeout = opts.requestTimeoutMs;
    s.keepAliveTimeout = 65_000;
  }
  return servers;
}

/** Starts `app` on HOST:PORT; rejects with a ListenError naming `what` (the variable) on failure. */
export function listenTcp(app: RequestListener, host: string, port: number, what: string): Promise<Server> {
  return start(createServer(app), (s) => s.listen(port, host), `${what}: cannot listen on ${host}:${port}`);
}

/**
 * Starts `app` on a unix socket at `path`, readable and writable by every local user (mode 0666, like a loopback
 * port: nginx's workers run as another user). A socket file left by a crashed or rebooted server is replaced; a
 * socket some live process still accepts on, or a file that is not a socket, is an error and is left alone.
 */
export async function listenSocket(app: RequestListener, path: string): Promise<Server> {
  const what = `LISTEN_SOCKET: cannot listen on ${path}`;
  const existing = lstatOrUndefined(path);
  if (existing && !existing.isSocket()) throw new ListenError(`${what}: a file that is not a socket is in the way; remove it or choose another path`);
  if (existing) {
    if (await accepts(path)) throw new ListenError(`${what}: another process is listening on it; stop it or choose another path`);
    unlinkSync(path);
  }
  const server = await start(createServer(app), (s) => s.listen(path), what);
  chmodSync(path, 0o666);
  return server;
}

function start(server: Server, listen: (s: Server) => void, what: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(new ListenError(`${what} (${e.code ?? e.message})`)));
    server.once("listening", () => resolve(server));
    listen(server);
  });
}

function lstatOrUndefined(path: string) {
  try { return lstatSync(path); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ListenError(`LISTEN_SOCKET: cannot inspect ${path} (${(e as NodeJS.ErrnoException).code}): make its directory accessible to the server user`);
  }
}

/** Whether a process accepts connections on the socket at `path` (bounded: 1 s). */
function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (live: boolean) => { s.destroy(); resolve(live); };
    s.setTimeout(1000, () => done(true));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}
