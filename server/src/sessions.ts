// Stateful mode: one McpServer + transport per MCP session, bound to the client that created it, with idle expiry and
// a cap on the number of live sessions (the oldest idle session is closed to make room).
// Response mode: the SDK fixes JSON-vs-SSE per transport (`enableJsonResponse`, read again when each response is sent),
// and a session has one transport for all its requests, so it cannot switch per request. Sessions therefore use the
// SDK default, SSE: every POST carrying a request is answered as `text/event-stream`, so progress (and any other
// request-scoped notification) always reaches the client; stateless mode keeps JSON for calls without progress.
import { randomUUID } from "node:crypto";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { connectCheckingParams } from "./request-shape.ts";

interface Session { transport: StreamableHTTPServerTransport; server: McpServer; clientId: string | undefined; lastSeen: number }

export class SessionManager {
  #sessions = new Map<string, Session>();
  #max: number;
  #idleMs: number;
  #sweeper: NodeJS.Timeout;

  constructor(opts: { max: number; idleMs: number }) {
    this.#max = opts.max;
    this.#idleMs = opts.idleMs;
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(60_000, opts.idleMs)).unref();
  }

  get size(): number { return this.#sessions.size; }

  /** The live session for this id and client, or undefined (unknown, expired, or another client's). */
  get(id: string, clientId: string | undefined): Session | undefined {
    const s = this.#sessions.get(id);
    if (!s || s.clientId !== clientId) return undefined;
    s.lastSeen = Date.now();
    return s;
  }

  /** A transport that registers itself once the initialize request has been handled. */
  async create(server: McpServer, clientId: string | undefined): Promise<StreamableHTTPServerTransport> {
    if (this.#sessions.size >= this.#max) await this.#evictOldest();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: false,
      onsessioninitialized: (id) => { this.#sessions.set(id, { transport, server, clientId, lastSeen: Date.now() }); },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.#sessions.delete(transport.sessionId);
      void server.close();
    };
    await connectCheckingParams(server, transport);
    return transport;
  }

  async #evictOldest(): Promise<void> {
    let oldest: [string, Session] | undefined;
    for (const e of this.#sessions) if (!oldest || e[1].lastSeen < oldest[1].lastSeen) oldest = e;
    if (oldest) { this.#sessions.delete(oldest[0]); await oldest[1].transport.close(); }
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#idleMs;
    for (const [id, s] of this.#sessions) {
      if (s.lastSeen < cutoff) { this.#sessions.delete(id); void s.transport.close(); }
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(all.map((s) => s.transport.close()));
  }
}
