// Stateless mode's fast path: ONE McpServer, connected once to this transport, answers every POST that carries one
// JSON-RPC request other than `initialize` in a JSON response (tools/list, tools/call without progress, ping, any
// unknown method). The SDK's Protocol/Server/McpServer stay the protocol implementation; this transport only does
// the HTTP framing that the SDK's StreamableHTTPServerTransport does for such a POST, without building an McpServer,
// a transport, a web Request/Response pair and an Ajv-backed Server per request (BENCHMARKS.md, issue 18).
//
// Isolation rule (derived from @modelcontextprotocol/sdk 1.32, dist/esm/shared/protocol.js): Protocol keys its
// in-flight state by JSON-RPC id — `_requestHandlerAbortControllers` (cancellation), and our ToolCalls maps (tools/
// instrument.ts) — and answers on the transport it captured. Concurrent clients reuse ids (every client starts at
// 0 or 1), so each request gets a fresh process-unique integer id before it reaches the server, and the answer is
// written to the HTTP response that carried it, under the client's own id. Client notifications (cancelled,
// progress) and responses never reach the shared server: in stateless mode they arrive in their own POST, which the
// SDK hands to a fresh server where they refer to nothing; here they could name another client's request.
//
// What takes the per-request path instead (http.ts, unchanged SDK transport): `initialize` (Server._oninitialize
// stores the client's capabilities and info on the server, server/index.js), batches, POSTs without a request, and
// calls with a progress token (SSE answers, streaming.ts).
//
// HTTP checks, in the order of WebStandardStreamableHTTPServerTransport.handlePostRequest (server/
// webStandardStreamableHttp.js) for a stateless transport: Accept must list application/json and text/event-stream
// (406), Content-Type must be JSON (415), the body must be a JSON-RPC message (400, -32700), MCP-Protocol-Version if
// present must be supported (400). The SDK reads headers through a web `Headers` built from rawHeaders (@hono/
// node-server): names lowercased, repeated headers joined with ", " — rebuilt the same way here.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { isJsonContentType } from "@modelcontextprotocol/sdk/shared/mediaType.js";
import { JSONRPCMessageSchema, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type JSONRPCRequest, type MessageExtraInfo, type RequestId } from "@modelcontextprotocol/sdk/types.js";
import { acceptedMessage, connectCheckingParams } from "./request-shape.ts";
import { answerWithin } from "./request-deadline.ts";
import { wantsEventStream } from "./streaming.ts";
import { ToolsListCache } from "./tools-list-cache.ts";
import { isResponse } from "./rpc-kind.ts";
import { renumbered } from "./client-request-ids.ts";

interface Pending { clientId: RequestId; res: ServerResponse }

/** True for a POST body the mux answers: one request (not a batch), not initialize, not asking for progress. */
export function muxable(body: unknown): body is JSONRPCRequest {
  const m = body as { id?: unknown; method?: unknown } | null;
  return typeof m === "object" && m !== null && !Array.isArray(m) && m.id !== undefined && typeof m.method === "string" &&
    m.method !== "initialize" && !wantsEventStream(m);
}

/** The SDK transport's error answer (createJsonErrorResponse): JSON-RPC error with id null. */
function refuse(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

/** Request headers as the SDK's transport sees them (see the header comment). */
function webHeaders(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.startsWith(":")) continue;
    const prev = out[name];
    out[name] = prev === undefined ? raw[i + 1]! : `${prev}, ${raw[i + 1]!}`;
  }
  return out;
}

export class StatelessMux implements Transport {
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  readonly sessionId = undefined;
  #pending = new Map<RequestId, Pending>();
  #seq = 0;
  #ready: Promise<void> | undefined;
  #toolsList = new ToolsListCache();

  /** Connects `server` (checked params, REQUEST_TIMEOUT_MS deadline: request-shape.ts, request-deadline.ts). */
  constructor(server: McpServer, requestTimeoutMs: number) {
    this.#ready = connectCheckingParams(server, this).then(() => { answerWithin(this, requestTimeoutMs); this.#ready = undefined; });
  }

  /** Protocol.connect calls this after installing its onmessage: the tools/list cache goes right in front of it. */
  async start(): Promise<void> { this.#toolsList.install(this); }

  async close(): Promise<void> { this.onclose?.(); }

  /** Answers one muxable POST (see muxable) on `res`. */
  async handle(req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body: JSONRPCRequest): Promise<void> {
    if (this.#ready) await this.#ready;
    const headers = webHeaders(req.rawHeaders);
    const accept = headers.accept;
    if (!accept?.includes("application/json") || !accept.includes("text/event-stream")) {
      refuse(res, 406, -32000, "Not Acceptable: Client must accept both application/json and text/event-stream"); return;
    }
    if (!isJsonContentType(headers["content-type"])) { refuse(res, 415, -32000, "Unsupported Media Type: Content-Type must be application/json"); return; }
    // The transport's JSONRPCMessageSchema parse; http.ts's requestShapeError has usually done it already.
    const parsed = acceptedMessage(body) ?? JSONRPCMessageSchema.safeParse(body).data;
    if (!parsed) { refuse(res, 400, -32700, "Parse error: Invalid JSON-RPC message"); return; }
    const version = headers["mcp-protocol-version"];
    if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      refuse(res, 400, -32000, `Bad Request: Unsupported protocol version: ${version} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")})`); return;
    }
    const request = parsed as JSONRPCRequest;
    const id = ++this.#seq;
    this.#pending.set(id, { clientId: request.id, res });
    renumbered.set(id, request.id);
    res.once("close", () => {
      // The client went away before its answer: cancel the handler, as the per-request server's close did.
      if (!this.#forget(id)) return;
      this.onmessage?.({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: "client disconnected" } });
    });
    // The URL the SDK transport would build (hono: scheme://host + req.url, after express stripped the mount path).
    const url = `${(req.socket as { encrypted?: boolean }).encrypted ? "https" : "http"}://${headers.host ?? ""}${req.url ?? ""}`;
    const requestInfo = { headers, get url() { return new URL(url); } };
    this.onmessage?.({ ...request, id }, { authInfo: req.auth, requestInfo });
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const m = message as { id?: RequestId; method?: string; result?: unknown };
    if (!isResponse(message)) {
      // Notifications and server-to-client requests: the SDK's stateless JSON-mode transport writes none of them
      // (no GET stream; a JSON answer carries only responses) and throws for one related to an unknown request.
      if (m.method === "notifications/tools/list_changed") this.#toolsList.clear();
      const related = options?.relatedRequestId;
      if (related !== undefined && !this.#pending.has(related)) throw new Error(`No connection established for request ID: ${String(related)}`);
      return;
    }
    const pending = this.#pending.get(m.id!);
    if (!pending) throw new Error(`No connection established for request ID: ${String(m.id)}`);
    const result = this.#toolsList.json(m.id!, m.result) ?? (m.result === undefined ? undefined : JSON.stringify(m.result));
    this.#forget(m.id!);
    // The SDK writes JSON.stringify(message): Protocol builds answers as { result, jsonrpc, id }.
    const body = result !== undefined
      ? `{"result":${result},"jsonrpc":"2.0","id":${JSON.stringify(pending.clientId)}}`
      : JSON.stringify({ ...message, id: pending.clientId });
    // With a Content-Length, Node sends the body unchunked (writeHead alone fixes the header, so Node would chunk):
    // nginx then passes one framed answer on and sends no separate last-chunk record (BENCHMARKS.md, issue 18).
    pending.res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
  }

  /** Drops the bookkeeping of an internal id; false if it was gone already. */
  #forget(id: RequestId): boolean {
    renumbered.delete(id);
    this.#toolsList.forget(id);
    return this.#pending.delete(id);
  }
}
