// HTTPS to a name that only exists in the test: every connection goes to 127.0.0.1 (like challtestsrv's DNS does
// for pebble) with the real host name as SNI and Host, verified against a given CA (e.g. pebble's root).
// `fetch` fits the MCP SDK's StreamableHTTPClientTransport `fetch` option.
import { connect, type PeerCertificate } from "node:tls";
import { Agent, buildConnector, fetch as undiciFetch } from "undici";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";

export interface HttpsClient {
  fetch: FetchLike;
  /** The certificate the server presents (after a verified handshake) for `servername` on `port`. */
  peerCertificate(port: number): Promise<PeerCertificate>;
  close(): Promise<void>;
}

const loopback = (_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
  opts.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4);

/**
 * `ports` maps the URL's port (443/80 when the URL names none) to the loopback port actually dialled, e.g. a VM's
 * forwarded 443; the URL, SNI and Host stay the real name's. `connections` caps the open connections per origin
 * (undici Agent `connections`; default: no cap): requests beyond it wait for a free one.
 */
export function httpsClient(opts: { ca: string; servername: string; ports?: Record<number, number>; connections?: number }): HttpsClient {
  // Connect (TCP + TLS handshake) bounded at 60 s, not undici's 10 s: a droplet VM under TCG accepts through qemu's
  // single-threaded user network, and a burst of 60 new connections once took over 10 s for one of them.
  const connector = buildConnector({ ca: opts.ca, lookup: loopback as never, timeout: 60_000 });
  const agent = new Agent({ keepAliveTimeout: 1000, ...(opts.connections ? { connections: opts.connections } : {}), connect: (o, cb) => {
    const port = Number(o.port || (o.protocol === "https:" ? 443 : 80));
    connector({ ...o, port: String(opts.ports?.[port] ?? port) }, cb);
  } });
  return {
    fetch: ((url: string | URL, init?: RequestInit) =>
      undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as FetchLike,
    peerCertificate: (port) => new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port, servername: opts.servername, ca: opts.ca, timeout: 10_000 }, () => {
        const cert = s.getPeerCertificate();
        s.end();
        resolve(cert);
      });
      s.once("error", reject);
      s.once("timeout", () => { s.destroy(); reject(new Error(`TLS handshake with 127.0.0.1:${port} timed out`)); });
    }),
    close: () => agent.close(),
  };
}
