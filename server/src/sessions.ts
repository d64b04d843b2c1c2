// Stateful mode: one McpServer + transport per MCP session, bound to the principal (auth.ts principalOf) that
// created it, with idle expiry and two caps: per principal (its own least recently used session is closed to make
// room) and in total (the least recently used session of the principal holding the most is closed) — so one
// credential opening sessions in a loop only ever closes its own (issue 13 item 4).
// Response mode: the SDK fixes JSON-vs-SSE per transport (`enableJsonResponse`, read again when each response is sent),
// and a session has one transport for all its requests, so it cannot switch per request. Sessions therefore use the
// SDK default, SSE: every POST carrying a request is answered as `text/event-stream`, so progress (and any other
// request-scoped notification) always reaches the client; stateless mode keeps JSON for calls without progress.
import { randomUUID } from "node:crypto";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { InflightRequestIds } from "./request-ids.ts";
import { answerWithin } from "./request-deadline.ts";

/** `requests`: the JSON-RPC ids in flight in this session (request-ids.ts: one request per id at a time). */
/** What a session serves: the reference McpServer, or the gateway's Server (gateway/src/front.ts). */
export interface SessionServer { close(): Promise<void> }

interface Session { id: string; transport: StreamableHTTPServerTransport; server: SessionServer; principal: string; lastSeen: number; requests: InflightRequestIds }

/** `requestTimeoutMs`: REQUEST_TIMEOUT_MS, the bound on every request's answer (request-deadline.ts). */
export interface SessionLimits { max: number; perPrincipal: number; idleMs: number; requestTimeoutMs: number }

export class SessionManager {
  #sessions = new Map<string, Session>();
  #byPrincipal = new Map<string, Set<Session>>();
  #limits: SessionLimits;
  #sweeper: NodeJS.Timeout;

  constructor(limits: SessionLimits) {
    this.#limits = limits;
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(60_000, limits.idleMs)).unref();
  }

  get size(): number { return this.#sessions.size; }

  /** The live session for this id and principal, or undefined (unknown, expired, or another principal's). */
  get(id: string, principal: string): Session | undefined {
    const s = this.#sessions.get(id);
    if (!s || s.principal !== principal) return undefined;
    s.lastSeen = Date.now();
    return s;
  }

  /**
   * A transport that registers itself once the initialize request has been handled, and the in-flight ids of its
   * session: claim the initialize request's id there before handing it to the transport. `connect` attaches `server`
   * to the new transport (the reference server: request-shape.ts connectCheckingParams).
   */
  async create(server: SessionServer, principal: string, connect: (transport: StreamableHTTPServerTransport) => Promise<void>): Promise<{ transport: StreamableHTTPServerTransport; requests: InflightRequestIds }> {
    const own = this.#byPrincipal.get(principal);
    if (own && own.size >= this.#limits.perPrincipal) await this.#close(lru(own));
    else if (this.#sessions.size >= this.#limits.max) await this.#close(lru(this.#biggestHolder()));
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: false,
      onsessioninitialized: (id) => this.#add({ id, transport, server, principal, lastSeen: Date.now(), requests }),
    });
    const requests = new InflightRequestIds();
    const send = transport.send.bind(transport);
    transport.send = (message, options) => { requests.sent(message); return send(message, options); };
    transport.onclose = () => {
      const s = transport.sessionId ? this.#sessions.get(transport.sessionId) : undefined;
      if (s?.transport === transport) this.#remove(s);
      void server.close();
    };
    await connect(transport);
    answerWithin(transport, this.#limits.requestTimeoutMs);
    return { transport, requests };
  }

  #add(s: Session): void {
    this.#sessions.set(s.id, s);
    let set = this.#byPrincipal.get(s.principal);
    if (!set) this.#byPrincipal.set(s.principal, set = new Set());
    set.add(s);
  }

  #remove(s: Session): void {
    this.#sessions.delete(s.id);
    const set = this.#byPrincipal.get(s.principal);
    set?.delete(s);
    if (set?.size === 0) this.#byPrincipal.delete(s.principal);
  }

  async #close(s: Session | undefined): Promise<void> {
    if (!s) return;
    this.#remove(s);
    await s.transport.close();
  }

  #biggestHolder(): Iterable<Session> {
    let biggest: Set<Session> = new Set();
    for (const set of this.#byPrincipal.values()) if (set.size > biggest.size) biggest = set;
    return biggest;
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#limits.idleMs;
    for (const s of this.#sessions.values()) if (s.lastSeen < cutoff) void this.#close(s);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    this.#byPrincipal.clear();
    await Promise.allSettled(all.map((s) => s.transport.close()));
  }
}

/** The least recently used session of `sessions`. */
function lru(sessions: Iterable<Session>): Session | undefined {
  let oldest: Session | undefined;
  for (const s of sessions) if (!oldest || s.lastSeen < oldest.lastSeen) oldest = s;
  return oldest;
}
