// One upstream MCP server: a shared SDK Client over Streamable HTTP, (re)connected lazily, with every call bounded —
// UPSTREAM_TIMEOUT_MS per answer, UPSTREAM_MAX_BYTES per response, UPSTREAM_MAX_INFLIGHT calls at a time — and its
// tool/prompt/resource lists cached for LIST_TTL_MS (refetched early on the upstream's notifications/*/list_changed).
// Failures are sorted so the caller can keep the upstream's own answers intact (docs/gateway.md, "Errors"):
// - RpcError: the upstream answered with a JSON-RPC error; `error` is its { code, message, data } as sent.
// - UnavailableError: no answer (connection refused, HTTP error, timeout, oversized response, at its concurrency cap).
// - CancelledError: the caller cancelled; the upstream was told (notifications/cancelled + its POST closed).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  ErrorCode, McpError, PromptListChangedNotificationSchema, ResourceListChangedNotificationSchema, ToolListChangedNotificationSchema,
  type JSONRPCErrorResponse, type Progress, type Prompt, type Resource, type ResourceTemplate, type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";
import type { Logger } from "pino";
import type { GatewayLimits, UpstreamConfig } from "./config.ts";
import { CallContext, boundedFetch, runCall, trackCalls } from "./call-context.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { unixFetch } from "./unix-fetch.ts";

/**
 * A JSON-RPC error to answer with, exactly: the SDK's Protocol sends a handler's thrown `code`, `message` and `data`
 * as they are (an McpError would prefix its message with "MCP error <code>: ").
 */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(error: JSONRPCErrorResponse["error"]) { super(error.message); this.code = error.code; this.data = error.data; }
}
export class UnavailableError extends Error {}
export class CancelledError extends Error {}

export interface Lists { tools: Tool[]; prompts: Prompt[]; resources: Resource[]; resourceTemplates: ResourceTemplate[] }
export type ListKind = keyof Lists;
const LIST_METHODS: Record<ListKind, { method: string; field: string; capability: "tools" | "prompts" | "resources" }> = {
  tools: { method: "tools/list", field: "tools", capability: "tools" },
  prompts: { method: "prompts/list", field: "prompts", capability: "prompts" },
  resources: { method: "resources/list", field: "resources", capability: "resources" },
  resourceTemplates: { method: "resources/templates/list", field: "resourceTemplates", capability: "resources" },
};
/** Pages followed per list (a bound on a misbehaving upstream's cursor loop). */
const MAX_PAGES = 20;
/** Results are forwarded as the upstream sent them: accept any object (the front Server checks its method's shape). */
const AnyResult = z.looseObject({});

export interface CallOptions { signal?: AbortSignal; onprogress?: (p: Progress) => void }
export interface HealthCheck { status: "ok" | "fail"; latency_ms: number; checked_at: string; error?: string; cached: boolean }

const reason = (e: unknown): string => {
  if (e instanceof StreamableHTTPError) return `HTTP ${e.code}`;
  const cause = (e as { cause?: { code?: string } })?.cause?.code;
  return cause ?? (e instanceof Error ? e.message : String(e));
};

export class Upstream {
  readonly name: string;
  readonly #cfg: UpstreamConfig;
  readonly #limits: GatewayLimits;
  readonly #log: Logger;
  readonly #metrics: GatewayMetrics;
  #client?: Promise<Client>;
  #inflight = 0;
  #up: boolean | undefined;
  #lists = new Map<ListKind, { items: unknown[]; at: number }>();
  #refreshing = new Map<ListKind, Promise<unknown[]>>();
  /** Lists that could not be fetched while none was cached: their first success is announced as a change. */
  #missed = new Set<ListKind>();
  #health?: { result: HealthCheck; at: number };
  #probing?: Promise<HealthCheck>;
  /** Told when a list of this upstream changed (the gateway forwards notifications/*_list_changed to its sessions). */
  onListChanged: (kind: ListKind) => void = () => {};

  constructor(cfg: UpstreamConfig, limits: GatewayLimits, logger: Logger, metrics: GatewayMetrics) {
    this.name = cfg.name; this.#cfg = cfg; this.#limits = limits; this.#log = logger.child({ upstream: cfg.name }); this.#metrics = metrics;
    metrics.upstreamUp.set({ upstream: this.name }, 0);
  }

  get log(): Logger { return this.#log; }

  /** Sends one request and returns the upstream's result object as sent. Throws RpcError, UnavailableError or CancelledError. */
  async request(method: string, params: Record<string, unknown> | undefined, opts: CallOptions = {}): Promise<Record<string, unknown>> {
    if (this.#inflight >= this.#limits.upstreamMaxInflight) {
      throw new UnavailableError(`it already has ${this.#limits.upstreamMaxInflight} calls in flight (UPSTREAM_MAX_INFLIGHT); retry shortly`);
    }
    this.#inflight++;
    this.#metrics.upstreamInflight.inc({ upstream: this.name });
    try {
      // A stateful upstream that forgot our session (restart, idle expiry) answers 404 before running anything, so
      // that one case is retried once on a new session (MCP 2025-11-25, basic/transports "Session Management").
      for (let attempt = 0; ; attempt++) {
        try { return await this.#once(method, params, opts); } catch (e) {
          if (!(e instanceof StreamableHTTPError && e.code === 404) || attempt > 0) throw e;
        }
      }
    } catch (e) {
      if (e instanceof RpcError || e instanceof CancelledError || e instanceof UnavailableError) throw e;
      throw this.#unavailable(e);
    } finally {
      this.#inflight--;
      this.#metrics.upstreamInflight.dec({ upstream: this.name });
    }
  }

  async #once(method: string, params: Record<string, unknown> | undefined, opts: CallOptions): Promise<Record<string, unknown>> {
    const client = await this.#connected();
    const ctx = new CallContext(opts.signal, this.#limits.upstreamTimeoutMs);
    try {
      // The deadline is the context's (it also closes the call's POST); the SDK's own timer (default 60 s) is set past it.
      const result = await runCall(ctx, () => client.request({ method, params } as never, AnyResult, {
        signal: ctx.signal, timeout: this.#limits.upstreamTimeoutMs + 1000, ...(opts.onprogress ? { onprogress: opts.onprogress } : {}),
      }));
      this.#markUp();
      return result;
    } catch (e) {
      if (ctx.rpcError) { this.#markUp(); throw new RpcError(ctx.rpcError); }
      if (opts.signal?.aborted) throw new CancelledError(String(opts.signal.reason ?? "cancelled"));
      if (ctx.overflow) throw new UnavailableError(`its answer was too large: ${reason(e)}`);
      if (ctx.timedOut || (e instanceof McpError && e.code === ErrorCode.RequestTimeout)) throw new UnavailableError(`it did not answer within ${this.#limits.upstreamTimeoutMs} ms (UPSTREAM_TIMEOUT_MS)`);
      this.#drop(client);
      throw e;
    } finally {
      ctx.settle();
    }
  }

  #unavailable(e: unknown): UnavailableError {
    this.#markDown(e);
    return new UnavailableError(`it cannot be reached (${reason(e)})`);
  }

  /** The upstream's list of `kind`, from the cache while it is younger than LIST_TTL_MS; a stale copy if it is down. */
  async list<K extends ListKind>(kind: K): Promise<Lists[K]> {
    const cached = this.#lists.get(kind);
    if (cached && Date.now() - cached.at < this.#limits.listTtlMs) return cached.items as Lists[K];
    let refresh = this.#refreshing.get(kind);
    if (!refresh) {
      refresh = this.#fetchList(kind).finally(() => this.#refreshing.delete(kind));
      this.#refreshing.set(kind, refresh);
    }
    try { return (await refresh) as Lists[K]; } catch (e) {
      this.#log.warn({ event: "list_failed", kind, err: { message: (e as Error).message }, stale: cached !== undefined }, "upstream list failed; serving the last known list");
      if (!cached) this.#missed.add(kind);
      return (cached?.items ?? []) as Lists[K];
    }
  }

  async #fetchList(kind: ListKind): Promise<unknown[]> {
    const { method, field, capability } = LIST_METHODS[kind];
    const client = await this.#connectedOrThrow();
    const items: unknown[] = [];
    if (client.getServerCapabilities()?.[capability]) {
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await this.request(method, cursor === undefined ? undefined : { cursor });
        items.push(...((result[field] as unknown[] | undefined) ?? []));
        cursor = typeof result.nextCursor === "string" ? result.nextCursor : undefined;
        if (cursor === undefined) break;
      }
    }
    const before = this.#lists.get(kind);
    this.#lists.set(kind, { items, at: Date.now() });
    if (before && JSON.stringify(before.items) !== JSON.stringify(items)) this.onListChanged(kind);
    if (!before && this.#missed.delete(kind) && items.length > 0) this.onListChanged(kind);
    return items;
  }

  #invalidate(kind: ListKind): void {
    this.#lists.delete(kind);
    this.#log.info({ event: "list_changed", kind }, "upstream list changed");
    this.onListChanged(kind);
  }

  async #connectedOrThrow(): Promise<Client> {
    try { return await this.#connected(); } catch (e) { throw this.#unavailable(e); }
  }

  /** The connected client, connecting (bounded by UPSTREAM_CONNECT_TIMEOUT_MS) if there is none. */
  #connected(): Promise<Client> {
    if (this.#client) return this.#client;
    const connecting = this.#connect();
    this.#client = connecting;
    connecting.catch(() => { if (this.#client === connecting) this.#client = undefined; });
    return connecting;
  }

  async #connect(): Promise<Client> {
    const headers: Record<string, string> = this.#cfg.token ? { authorization: `Bearer ${this.#cfg.token}` } : {};
    const transport = new StreamableHTTPClientTransport(new URL(this.#cfg.url), {
      requestInit: { headers }, fetch: boundedFetch(this.#limits.upstreamMaxBytes, this.#cfg.socket ? unixFetch(this.#cfg.socket) : fetch),
      // The standalone GET stream (list_changed notifications) is re-opened a few times, then left until reconnect.
      reconnectionOptions: { initialReconnectionDelay: 1000, maxReconnectionDelay: 10_000, reconnectionDelayGrowFactor: 2, maxRetries: 3 },
    });
    const client = new Client({ name: "selfhosted-mcp-gateway", version: "0.1.0" }, { capabilities: {} });
    client.onerror = (e) => this.#log.debug({ event: "transport_error", err: { message: e.message } }, "upstream transport error");
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.#invalidate("tools"));
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => this.#invalidate("prompts"));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => { this.#invalidate("resources"); this.#invalidate("resourceTemplates"); });
    try {
      await client.connect(transport, { timeout: this.#limits.connectTimeoutMs });
    } catch (e) {
      await client.close().catch(() => {});
      throw e;
    }
    trackCalls(transport);
    this.#log.info({ event: "upstream_connected", server: client.getServerVersion()?.name, session: transport.sessionId !== undefined }, "connected to upstream");
    this.#markUp();
    return client;
  }

  #drop(client: Client): void {
    void this.#client?.then((c) => { if (c === client) this.#client = undefined; }, () => {});
    void client.close().catch(() => {});
  }

  #markUp(): void {
    if (this.#up === true) return;
    if (this.#up === false) this.#log.info({ event: "upstream_up" }, "upstream is reachable again");
    this.#up = true;
    this.#metrics.upstreamUp.set({ upstream: this.name }, 1);
  }

  #markDown(e: unknown): void {
    if (this.#up !== false) this.#log.warn({ event: "upstream_down", err: { message: reason(e) } }, "upstream is unreachable");
    this.#up = false;
    this.#metrics.upstreamUp.set({ upstream: this.name }, 0);
  }

  /** MCP ping within HEALTH_TIMEOUT_MS, cached for HEALTH_CACHE_MS, one probe at a time. */
  async health(): Promise<HealthCheck> {
    const c = this.#health;
    if (c && Date.now() - c.at < this.#limits.healthCacheMs) return { ...c.result, cached: true };
    this.#probing ??= this.#probe().then((result) => { this.#health = { result, at: Date.now() }; this.#probing = undefined; return result; });
    return this.#probing;
  }

  async #probe(): Promise<HealthCheck> {
    const t = performance.now();
    const checked_at = new Date().toISOString();
    const ms = () => Math.round(performance.now() - t);
    try {
      const signal = AbortSignal.timeout(this.#limits.healthTimeoutMs);
      await this.request("ping", undefined, { signal });
      return { status: "ok", latency_ms: ms(), checked_at, cached: false };
    } catch (e) {
      const error = e instanceof CancelledError ? `no answer within ${this.#limits.healthTimeoutMs} ms (HEALTH_TIMEOUT_MS)` : (e as Error).message;
      return { status: "fail", latency_ms: ms(), checked_at, error, cached: false };
    }
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    await c?.then((client) => client.close(), () => {});
  }
}
