// Requests whose params do not fit their method's schema are answered with JSON-RPC -32602 (invalid params) and a
// readable message. The SDK (1.32) parses params inside the wrapper Protocol.setRequestHandler puts around every
// handler and lets the ZodError escape, so the client would get -32603 (internal error) with the raw issue list as a
// JSON dump. Checked here with the same SDK schemas the handlers are registered with, between the transport and the
// Protocol: the transport has already done its HTTP checks (session, protocol version) and still decides JSON vs SSE
// and correlates the answer with the request, also inside a batch.
import type { ZodType } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema, ErrorCode, InitializeRequestSchema, isJSONRPCRequest, ListToolsRequestSchema, PingRequestSchema,
  type JSONRPCErrorResponse, type JSONRPCRequest,
} from "@modelcontextprotocol/sdk/types.js";

/** The requests this server has handlers for (Protocol: ping; Server: initialize; McpServer's tools: the rest). */
const SCHEMAS = new Map<string, ZodType>([
  ["initialize", InitializeRequestSchema], ["ping", PingRequestSchema],
  ["tools/list", ListToolsRequestSchema], ["tools/call", CallToolRequestSchema],
]);
const MAX_ISSUES = 3;

/** The -32602 answer for a request whose params the SDK would reject, or undefined (fine, or not a method we check). */
function invalidParams(request: JSONRPCRequest): JSONRPCErrorResponse | undefined {
  const parsed = SCHEMAS.get(request.method)?.safeParse(request);
  if (!parsed || parsed.success) return undefined;
  const issues = parsed.error.issues.slice(0, MAX_ISSUES)
    .map((i) => `${i.path.map(String).join(".")}: ${i.message.replace(/^Invalid input: /, "").replace(/\brecord\b/, "object")}`);
  return { jsonrpc: "2.0", id: request.id, error: { code: ErrorCode.InvalidParams, message: `Invalid params for ${request.method}: ${issues.join("; ")}` } };
}

/** Connects `server` to `transport` and answers requests with malformed params before they reach the server. */
export async function connectCheckingParams(server: McpServer, transport: Transport): Promise<void> {
  await server.connect(transport);
  const deliver = transport.onmessage;
  if (!deliver) throw new Error("the MCP server did not install a message handler on its transport");
  transport.onmessage = (message, extra) => {
    const error = isJSONRPCRequest(message) ? invalidParams(message) : undefined;
    if (!error) { deliver(message, extra); return; }
    transport.send(error).catch((e: unknown) => transport.onerror?.(e instanceof Error ? e : new Error(String(e))));
  };
}
