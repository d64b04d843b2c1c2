// Every request to /mcp is answered within REQUEST_TIMEOUT_MS: a result, or this JSON-RPC error. A tool that waits on
// something that does not come back in time (the search worker behind a stopped thread that node:sqlite cannot
// interrupt, search.ts; any future dependency) must not leave the client's POST open forever. Installed between the
// transport and the McpServer, like request-shape.ts: when a request's deadline passes, the server is told that the
// request was cancelled (notifications/cancelled: the SDK's Protocol aborts the handler's signal and does not send
// its result) and the error is sent in its place; a result that still comes later is dropped here, so it can never
// be written to another request's stream.
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { RequestId } from "@modelcontextprotocol/sdk/types.js";
import { isRequest, isResponse } from "./rpc-kind.ts";

/** JSON-RPC 2.0 §5.1 "Internal error": the server could not complete the request. */
const INTERNAL_ERROR = -32603;

/** Makes `transport` answer each request within `timeoutMs` (call after the server is connected to it). */
export function answerWithin(transport: Transport, timeoutMs: number): void {
  const deliver = transport.onmessage;
  if (!deliver) throw new Error("the MCP server did not install a message handler on its transport");
  const pending = new Map<RequestId, NodeJS.Timeout>();
  /** Ids answered by the deadline whose handler may still return: their late answer is dropped. */
  const expired = new Set<RequestId>();
  const send = transport.send.bind(transport);

  transport.send = async (message, options) => {
    if (isResponse(message)) {
      const id = message.id!;
      if (expired.delete(id)) return; // answered by the deadline already
      clearTimeout(pending.get(id));
      pending.delete(id);
    }
    await send(message, options);
  };

  transport.onmessage = (message, extra) => {
    if (isRequest(message)) {
      const { id } = message;
      // A new request under an id the deadline answered (a session may only reuse answered ids, request-ids.ts):
      // its own result must go out. (The SDK's Protocol cancels by a truthy id only, so for id 0 a late result of
      // the old call could still come; Protocol aborts every other id's handler and never sends its result.)
      expired.delete(id);
      pending.set(id, setTimeout(() => {
        pending.delete(id);
        expired.add(id);
        deliver({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: "REQUEST_TIMEOUT_MS" } }, extra);
        const error = { code: INTERNAL_ERROR, message: `Internal error: the request did not complete within ${timeoutMs} ms (REQUEST_TIMEOUT_MS) and was cancelled; retry later` };
        send({ jsonrpc: "2.0", id, error }).catch((e: unknown) => transport.onerror?.(e instanceof Error ? e : new Error(String(e))));
      }, timeoutMs).unref());
    }
    deliver(message, extra);
  };
}
