// How the rehearsal reaches the deployed server like a user on the internet would: https://<domain> resolved to
// 127.0.0.1 and the droplet VM's forwarded 443/80 (test/support/https-client.ts: custom lookup and port map, no
// /etc/hosts edit) with the chain checked against the local ACME CA's root (pebble), then a real MCP SDK client.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { httpsClient, type HttpsClient } from "../test/support/https-client.ts";

/**
 * At most this many connections per origin. qemu's user-net forward listens with a backlog of 1 (libslirp 4.7.0,
 * src/socket.c:844 `listen(s, 1)`, Debian bookworm's libslirp0): of a burst of new connections the host kernel drops
 * the SYNs that find the accept queue full, and the client retries them at 1, 2, 4, 8, 16, 32 s. A burst of 60
 * once left one connection unconnected after 60 s. A droplet's nginx listens with a backlog of 511, so this is the
 * rehearsal's limit, not the product's; the requests themselves still all go out, queued on these connections.
 */
export const PUBLIC_CONNECTIONS = 6;

/** A fetch for https://<domain> on this machine (ports mapped to the droplet VM's forwards), trusting only the given root(s). */
export function publicClient(domain: string, caPem: string, ports?: Record<number, number>): HttpsClient {
  return httpsClient({ ca: caPem, servername: domain, ports, connections: PUBLIC_CONNECTIONS });
}

export interface McpSession { client: Client; close(): Promise<void> }

/**
 * Connects an MCP SDK client to `${base}/mcp` through the given fetch, with a bearer token when given. `base` may
 * have a path: `https://<domain>/alpha` → `https://<domain>/alpha/mcp` (a server's route behind the gateway).
 */
export async function connectMcp(base: string, fetchImpl: FetchLike, token?: string): Promise<McpSession> {
  const transport = new StreamableHTTPClientTransport(new URL("mcp", base.endsWith("/") ? base : `${base}/`), {
    fetch: fetchImpl,
    requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
  });
  const client = new Client({ name: "selfhosted-mcp-rehearsal", version: "1.0.0" });
  await client.connect(transport);
  return { client, close: () => client.close() };
}

/** Text of a tool result's first content item (throws on isError with that text). */
export function toolText(result: unknown): string {
  const r = result as { isError?: boolean; content?: { type: string; text?: string }[] };
  const text = r.content?.find((c) => c.type === "text")?.text ?? "";
  if (r.isError) throw new Error(`tool returned an error: ${text}`);
  return text;
}
