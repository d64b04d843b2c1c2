// Requests whose params do not fit their method's schema are answered with JSON-RPC -32602 (invalid params) and a
// readable message. The SDK (1.32) parses params inside the wrapper Protocol.setRequestHandler puts around every
// handler and lets the ZodError escape, so the client would get -32603 (internal error) with the raw issue list as a
// JSON dump. Checked here with the same SDK schemas the handlers are registered with, between the transport and the
// Protocol: the transport has already done its HTTP checks (session, protocol version) and still decides JSON vs SSE
// and correlates the answer with the request, also inside a batch.
// Also corrected here, where the SDK 1.32 answers differently from the MCP spec 2025-11-25:
// - tools/call for a tool that does not exist: the spec (server/tools, "Error Handling") lists "Unknown tools" as a
//   protocol error, example code -32602; McpServer turns its own -32602 into an `isError` result.
// - tools/list with a cursor this server never issued: spec (utilities/pagination, "Error Handling") "Invalid
//   cursors SHOULD result in an error with code -32602"; McpServer ignores the cursor. Tools come in one page.
// At the HTTP layer, before the transport (requestShapeError):
// - a body that is JSON but not a JSON-RPC message: JSON-RPC 2.0 §5.1 -32600 Invalid Request (the SDK says -32700).
// - a batch (array body) under a protocol version without batching: 2025-06-18 removed JSON-RPC batching, and
//   2025-11-25 has none; only 2025-03-26 (given in MCP-Protocol-Version) may batch, at most MAX_BATCH_CALLS calls.
import type { ZodType } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema, ErrorCode, InitializeRequestSchema, JSONRPCMessageSchema, ListToolsRequestSchema,
  PingRequestSchema, type JSONRPCErrorResponse, type JSONRPCMessage, type JSONRPCRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { toolNamesOf } from "./mcp.ts";
import { isRequest } from "./rpc-kind.ts";

/** The requests this server has handlers for (Protocol: ping; Server: initialize; McpServer's tools: the rest). */
const SCHEMAS = new Map<string, ZodType>([
  ["initialize", InitializeRequestSchema], ["ping", PingRequestSchema],
  ["tools/list", ListToolsRequestSchema], ["tools/call", CallToolRequestSchema],
]);
const MAX_ISSUES = 3;

const invalid = (request: JSONRPCRequest, detail: string): JSONRPCErrorResponse =>
  ({ jsonrpc: "2.0", id: request.id, error: { code: ErrorCode.InvalidParams, message: `Invalid params for ${request.method}: ${detail}` } });

/** The -32602 answer for a request whose params the SDK would reject, or undefined (fine, or not a method we check). */
function invalidParams(request: JSONRPCRequest, tools: ReadonlySet<string>): JSONRPCErrorResponse | undefined {
  const parsed = SCHEMAS.get(request.method)?.safeParse(request);
  if (!parsed) return undefined;
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, MAX_ISSUES)
      .map((i) => `${i.path.map(String).join(".")}: ${i.message.replace(/^Invalid input: /, "").replace(/\brecord\b/, "object")}`);
    return invalid(request, issues.join("; "));
  }
  const params = request.params as { name?: string; cursor?: string } | undefined;
  if (request.method === "tools/call" && !tools.has(params!.name!)) {
    return invalid(request, `params.name: unknown tool ${JSON.stringify(params!.name!.slice(0, 100))}; call tools/list for the tools this server has`);
  }
  if (request.method === "tools/list" && params?.cursor !== undefined) {
    return invalid(request, "params.cursor: not a cursor this server issued (it lists every tool in one page)");
  }
  return undefined;
}

/** The protocol version that still has JSON-RPC batches (removed in 2025-06-18). */
export const BATCH_PROTOCOL_VERSION = "2025-03-26";

/**
 * The HTTP-level refusal of a parsed POST body before it reaches the transport (400 + this JSON-RPC error), or
 * undefined. `protocolVersion` is the MCP-Protocol-Version header.
 */
export interface HttpRpcError { jsonrpc: "2.0"; id: string | number | null; error: { code: number; message: string } }

/** The parse of each single-message body that requestShapeError accepted (so the transport need not parse it again). */
const PARSED = new WeakMap<object, JSONRPCMessage>();

/** The SDK's parse (JSONRPCMessageSchema) of a single-message body that requestShapeError accepted, else undefined. */
export function acceptedMessage(body: unknown): JSONRPCMessage | undefined {
  return typeof body === "object" && body !== null ? PARSED.get(body) : undefined;
}

export function requestShapeError(body: unknown, protocolVersion: string | undefined, maxBatchCalls: number): HttpRpcError | undefined {
  const refuse = (message: string, id: string | number | null = null): HttpRpcError =>
    ({ jsonrpc: "2.0", id, error: { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${message}` } });
  if (Array.isArray(body)) {
    if (protocolVersion !== BATCH_PROTOCOL_VERSION) {
      return refuse(`JSON-RPC batches are not part of MCP protocol ${protocolVersion ?? "(no MCP-Protocol-Version header)"}; they exist only in ${BATCH_PROTOCOL_VERSION} (removed in 2025-06-18): send one message per POST`);
    }
    if (body.length === 0) return refuse("empty batch");
    if (body.length > maxBatchCalls) return refuse(`a batch may carry at most ${maxBatchCalls} messages (MAX_BATCH_CALLS); this one has ${body.length}`);
    const bad = body.findIndex((m) => !JSONRPCMessageSchema.safeParse(m).success);
    return bad < 0 ? undefined : refuse(`batch element ${bad} is not a JSON-RPC 2.0 message`);
  }
  const parsed = JSONRPCMessageSchema.safeParse(body);
  if (parsed.success) { PARSED.set(body as object, parsed.data); return undefined; }
  const id = (body as { id?: unknown } | null)?.id;
  return refuse("not a JSON-RPC 2.0 message (jsonrpc \"2.0\" with a method, or a result or error with an id)",
    typeof id === "string" || (typeof id === "number" && Number.isInteger(id)) ? id : null);
}

/** Connects `server` to `transport` and answers requests with malformed params before they reach the server. */
export async function connectCheckingParams(server: McpServer, transport: Transport): Promise<void> {
  await server.connect(transport);
  const deliver = transport.onmessage;
  if (!deliver) throw new Error("the MCP server did not install a message handler on its transport");
  const tools = toolNamesOf(server);
  transport.onmessage = (message, extra) => {
    const error = isRequest(message) ? invalidParams(message, tools) : undefined;
    if (!error) { deliver(message, extra); return; }
    transport.send(error).catch((e: unknown) => transport.onerror?.(e instanceof Error ? e : new Error(String(e))));
  };
}
