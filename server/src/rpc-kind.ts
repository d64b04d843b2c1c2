// Cheap kind tests for JSON-RPC messages that have been validated already: what a transport hands to onmessage (it
// parsed them with the SDK's JSONRPCMessageSchema) and what the SDK's Protocol passes to send. The SDK's own guards
// (isJSONRPCRequest, isJSONRPCResultResponse, … in types.js) run a full zod parse each time — of the whole result
// for a response (a tools/list answer is ~5 KB) — and the request path asks several times per message. For a valid
// message the union's strict members make the shape decisive: a request has `method` and `id`, a notification
// `method` and no `id`, a response no `method` and a `result` or an `error` (JSON-RPC 2.0 §4, §5).
import type { JSONRPCMessage, JSONRPCRequest, JSONRPCResponse } from "@modelcontextprotocol/sdk/types.js";

type Loose = { id?: unknown; method?: unknown; result?: unknown; error?: unknown };

/** A request (expects an answer). Only for validated messages (see the header). */
export function isRequest(m: JSONRPCMessage): m is JSONRPCRequest {
  return (m as Loose).method !== undefined && (m as Loose).id !== undefined;
}

/** A result or error answer. Only for validated messages (see the header). */
export function isResponse(m: JSONRPCMessage): m is JSONRPCResponse {
  return (m as Loose).method === undefined && ((m as Loose).result !== undefined || (m as Loose).error !== undefined);
}
