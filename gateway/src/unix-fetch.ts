// fetch over a unix socket (UPSTREAM_<NAME>_SOCKET): the URL gives the path and the Host header, the socket the peer.
// On the droplet each server listens on a socket that a `live.sock` symlink points at (blue/green slots, see
// infra/render/deployment-plan.ts); one connection per request, so every request resolves the symlink anew and a
// slot switch needs no reconnect, and no kept-alive connection to the old slot can race its shutdown.
// Node's global fetch cannot dial a unix socket without an undici dispatcher; node:http can.
import { request } from "node:http";
import { Readable } from "node:stream";

/** Statuses whose Response must have no body (Fetch standard, "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export function unixFetch(socketPath: string): typeof fetch {
  return (input, init = {}) => new Promise<Response>((resolve, reject) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init.headers);
    if (!headers.has("host")) headers.set("host", url.host);
    const method = init.method ?? "GET";
    const req = request({
      socketPath, path: `${url.pathname}${url.search}`, method, headers: Object.fromEntries(headers), agent: false,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    req.once("error", reject);
    req.once("response", (res) => {
      const out = new Headers();
      for (const [k, v] of Object.entries(res.headers)) for (const x of [v ?? []].flat()) out.append(k, x);
      const status = res.statusCode ?? 502;
      const body = NULL_BODY.has(status) || method === "HEAD" ? null : Readable.toWeb(res) as ReadableStream<Uint8Array>;
      if (!body) res.resume();
      resolve(new Response(body, { status, statusText: res.statusMessage ?? "", headers: out }));
    });
    const body = init.body;
    if (body === undefined || body === null) req.end();
    else if (typeof body === "string" || body instanceof Uint8Array) req.end(body);
    else reject(new TypeError("unixFetch: only string or Uint8Array request bodies are supported"));
  });
}
