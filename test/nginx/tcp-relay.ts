// A counting TCP relay for the live nginx test: sits between nginx and the reference server, passes the bytes through
// untouched and counts the TCP connections nginx opens to its upstream. nginx exposes no per-request upstream
// connection id, so this is how the test sees upstream keep-alive at work (few connections for many requests).
// `onReply` sees every chunk the target sends back (e.g. nginx's TLS records, for the record-size test).
import { createServer, connect, type Socket } from "node:net";

export interface TcpRelay { port: number; connections(): number; stop(): Promise<void> }

/** Listens on a free 127.0.0.1 port and relays every connection to 127.0.0.1:`targetPort`. */
export function startTcpRelay(targetPort: number, onReply?: (chunk: Buffer) => void): Promise<TcpRelay> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => { sockets.add(s); s.once("close", () => sockets.delete(s)); };
  const server = createServer((downstream) => {
    connections++;
    const upstream = connect(targetPort, "127.0.0.1");
    track(downstream);
    track(upstream);
    if (onReply) upstream.on("data", onReply);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    // Either side failing or closing ends the pair (a reset is what the other peer would see without the relay).
    for (const [a, b] of [[downstream, upstream], [upstream, downstream]] as const) {
      a.once("error", () => b.destroy());
      a.once("close", () => b.destroy());
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve({
      port: (server.address() as { port: number }).port,
      connections: () => connections,
      stop: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
    }));
  });
}
