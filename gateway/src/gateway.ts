// The aggregated view of every upstream a caller may use: tools and prompts under gateway names (names.ts), resources
// under their own URIs, and the routing of each call back to its upstream (docs/gateway.md).
// - Authorisation: a caller sees and reaches only the upstreams its key grants (config.ts). A name of an upstream it
//   may not use is answered exactly like a name that does not exist, so keys learn nothing about other upstreams.
// - An unreachable upstream keeps its tools listed (the last list it gave, see upstream.ts) and each call to them is a
//   tool result with isError: true naming the upstream: MCP 2025-11-25 server/tools "Error Handling" reports execution
//   failures (API failures) in the result so the model can see them; the other upstreams are not touched.
// - Resources keep their URIs (clients resolve them); when two upstreams list the same URI the first in UPSTREAMS wins.
import { ErrorCode, type CallToolResult, type Prompt, type Resource, type ResourceTemplate, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { UriTemplate } from "@modelcontextprotocol/sdk/shared/uriTemplate.js";
import type { Logger } from "pino";
import type { GatewayLimits } from "./config.ts";
import { nameTable, upstreamOf } from "./names.ts";
import { CancelledError, RpcError, UnavailableError, Upstream, type CallOptions, type ListKind } from "./upstream.ts";
import type { GatewayMetrics, Outcome } from "./metrics.ts";

/** MCP 2025-11-25 server/resources "Error Handling": resource not found is -32002. */
const RESOURCE_NOT_FOUND = -32002;

export class Gateway {
  readonly upstreams: Upstream[];
  readonly #limits: GatewayLimits;
  readonly #metrics: GatewayMetrics;
  readonly #log: Logger;
  readonly #listeners = new Set<(kind: ListKind, upstream: string) => void>();
  readonly #hiddenLogged = new Set<string>();

  constructor(upstreams: Upstream[], limits: GatewayLimits, metrics: GatewayMetrics, logger: Logger) {
    this.upstreams = upstreams; this.#limits = limits; this.#metrics = metrics; this.#log = logger;
    for (const u of upstreams) u.onListChanged = (kind) => this.#listeners.forEach((f) => f(kind, u.name));
  }

  /** Subscribes to list changes of any upstream (a session forwards them to its client); returns the unsubscribe. */
  onListChanged(f: (kind: ListKind, upstream: string) => void): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  #allowedUpstreams(allowed: ReadonlySet<string>): Upstream[] {
    return this.upstreams.filter((u) => allowed.has(u.name));
  }

  async #table(u: Upstream, kind: "tools" | "prompts") {
    const items: ReadonlyArray<{ name: string }> = await u.list(kind);
    const table = nameTable(u.name, items, this.#limits.toolNameMax);
    for (const h of table.hidden) {
      const key = `${u.name}/${kind}/${h.original}`;
      if (this.#hiddenLogged.has(key)) continue;
      this.#hiddenLogged.add(key);
      u.log.warn({ event: "name_collision", kind, original: h.original, name: h.name }, "hidden: its gateway name is taken by an earlier item of the same upstream");
    }
    return table;
  }

  async #renamed<T extends Tool | Prompt>(allowed: ReadonlySet<string>, kind: "tools" | "prompts"): Promise<T[]> {
    const tables = await Promise.all(this.#allowedUpstreams(allowed).map((u) => this.#table(u, kind)));
    return tables.flatMap((t) => [...t.byName].map(([name, { item }]) => ({ ...(item as T), name })));
  }

  listTools(allowed: ReadonlySet<string>): Promise<Tool[]> { return this.#renamed<Tool>(allowed, "tools"); }
  listPrompts(allowed: ReadonlySet<string>): Promise<Prompt[]> { return this.#renamed<Prompt>(allowed, "prompts"); }

  /** The upstream and its own name for a gateway name the caller may use; -32602 (as for an unknown name) otherwise. */
  async #resolve(allowed: ReadonlySet<string>, kind: "tools" | "prompts", name: string): Promise<{ upstream: Upstream; original: string }> {
    const upstream = this.upstreams.find((u) => u.name === upstreamOf(name) && allowed.has(u.name));
    const entry = upstream ? (await this.#table(upstream, kind)).byName.get(name) : undefined;
    const what = kind === "tools" ? "tool" : "prompt";
    if (!upstream || !entry) throw new RpcError({ code: ErrorCode.InvalidParams, message: `Unknown ${what}: ${JSON.stringify(name.slice(0, 200))}; call ${kind}/list for the ${kind} this key may use` });
    return { upstream, original: entry.original };
  }

  /** Forwards tools/call; the upstream's result (isError or not) and JSON-RPC error arrive as it sent them. */
  async callTool(allowed: ReadonlySet<string>, params: { name: string; [k: string]: unknown }, opts: CallOptions, log: Record<string, unknown>): Promise<CallToolResult> {
    const { upstream, original } = await this.#resolve(allowed, "tools", params.name);
    const start = performance.now();
    let outcome: Outcome = "ok";
    try {
      const result = await upstream.request("tools/call", { ...params, name: original }, opts) as CallToolResult;
      if (result.isError === true) outcome = "tool_error";
      return result;
    } catch (e) {
      outcome = e instanceof RpcError ? "rpc_error" : e instanceof CancelledError ? "cancelled" : "unavailable";
      if (e instanceof UnavailableError) {
        return { isError: true, content: [{ type: "text", text: `The server "${upstream.name}" behind this gateway is unavailable: ${e.message}. Its other tools fail the same way until it is back; tools of other servers are not affected.` }] };
      }
      throw e;
    } finally {
      const seconds = (performance.now() - start) / 1000;
      this.#metrics.calls.inc({ upstream: upstream.name, tool: original, outcome });
      this.#metrics.callDuration.observe({ upstream: upstream.name, tool: original }, seconds);
      upstream.log.info({ event: "tool_call", tool: original, ...log, duration_ms: Math.round(seconds * 1000), outcome }, "tool call");
    }
  }

  async getPrompt(allowed: ReadonlySet<string>, params: { name: string; [k: string]: unknown }, opts: CallOptions): Promise<Record<string, unknown>> {
    const { upstream, original } = await this.#resolve(allowed, "prompts", params.name);
    return this.#forward(upstream, "prompts/get", { ...params, name: original }, opts);
  }

  async listResources(allowed: ReadonlySet<string>): Promise<Resource[]> {
    return [...(await this.#resourceOwners(allowed)).values()].map((r) => r.resource);
  }

  async listResourceTemplates(allowed: ReadonlySet<string>): Promise<ResourceTemplate[]> {
    const lists = await Promise.all(this.#allowedUpstreams(allowed).map((u) => u.list("resourceTemplates")));
    const seen = new Set<string>();
    return lists.flat().filter((t) => !seen.has(t.uriTemplate) && seen.add(t.uriTemplate));
  }

  /** Routes resources/read by URI: a listed resource, else the first upstream with a matching template, else -32002. */
  async readResource(allowed: ReadonlySet<string>, params: { uri: string; [k: string]: unknown }, opts: CallOptions): Promise<Record<string, unknown>> {
    let upstream = (await this.#resourceOwners(allowed)).get(params.uri)?.upstream;
    for (const u of upstream ? [] : this.#allowedUpstreams(allowed)) {
      if ((await u.list("resourceTemplates")).some((t) => new UriTemplate(t.uriTemplate).match(params.uri) !== null)) { upstream = u; break; }
    }
    if (!upstream) throw new RpcError({ code: RESOURCE_NOT_FOUND, message: "Resource not found", data: { uri: params.uri } });
    return this.#forward(upstream, "resources/read", params, opts);
  }

  async #resourceOwners(allowed: ReadonlySet<string>): Promise<Map<string, { upstream: Upstream; resource: Resource }>> {
    const owners = new Map<string, { upstream: Upstream; resource: Resource }>();
    const ups = this.#allowedUpstreams(allowed);
    const lists = await Promise.all(ups.map((u) => u.list("resources")));
    lists.forEach((list, i) => { for (const resource of list) if (!owners.has(resource.uri)) owners.set(resource.uri, { upstream: ups[i]!, resource }); });
    return owners;
  }

  /** A non-tool request: the upstream's JSON-RPC error as sent; unavailability as -32603 naming the upstream. */
  async #forward(upstream: Upstream, method: string, params: Record<string, unknown>, opts: CallOptions): Promise<Record<string, unknown>> {
    try { return await upstream.request(method, params, opts); } catch (e) {
      if (e instanceof UnavailableError) throw new RpcError({ code: ErrorCode.InternalError, message: `The server "${upstream.name}" behind this gateway is unavailable: ${e.message}` });
      throw e;
    }
  }
}
