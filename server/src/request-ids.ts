// One request per JSON-RPC id at a time in a stateful session. MCP spec 2025-11-25 (basic, "Requests"): "The request
// ID MUST NOT have been previously used by the requestor within the same session" — but a client that breaks this
// (bench/attack-server.ts: 4 concurrent callers each counting ids from 0) must get an error, not silence. The SDK's
// session transport (1.32, WebStandardStreamableHTTPServerTransport) keys its request → HTTP-stream map by id alone:
// a second in-flight request with the same id overwrites the first's entry, the first result is written to the
// second POST's stream (which then ends), the second result finds no entry ("No connection established for request
// ID") and is dropped — and the first POST is never answered. So a POST carrying an id that is still in flight in its
// session (or twice in one batch) is refused before it reaches the transport: HTTP 400, JSON-RPC -32600.
import type { ServerResponse } from "node:http";
import { isJSONRPCRequest, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/sdk/types.js";
import { isResponse } from "./rpc-kind.ts";
import type { HttpRpcError } from "./request-shape.ts";

/** Per request: has the server sent its response, has its HTTP response closed. Released when both are true. */
interface InFlight { responded: boolean; closed: boolean }

export class InflightRequestIds {
  #ids = new Map<RequestId, InFlight>();

  /** Number of request ids held (for tests and metrics). */
  get size(): number { return this.#ids.size; }

  /**
   * Claims the ids of the requests in `body` (one message or a batch) until the server has answered each and `res`
   * has closed. Returns the refusal (HTTP 400 body) if an id is in flight already or repeated in the batch.
   */
  claim(body: unknown, res: ServerResponse): HttpRpcError | undefined {
    const ids = (Array.isArray(body) ? body : [body]).filter(isJSONRPCRequest).map((m) => m.id);
    const taken = ids.find((id, i) => this.#ids.has(id) || ids.indexOf(id) !== i);
    if (taken !== undefined) {
      return { jsonrpc: "2.0", id: taken, error: { code: -32600, message: `Invalid Request: request id ${JSON.stringify(taken)} is already in use by a request in progress in this session; use a new id for every request (MCP: a request id must not be reused within a session)` } };
    }
    const entries = ids.map((id) => { const e: InFlight = { responded: false, closed: false }; this.#ids.set(id, e); return [id, e] as const; });
    res.once("close", () => {
      // A completely written response carried every answer; a cut one waits for the server's (late) answer.
      for (const [id, e] of entries) { e.closed = true; if (e.responded || res.writableFinished) this.#release(id, e); }
    });
    return undefined;
  }

  /** Call with every message the session's transport sends: a response (result or error) marks its id answered. */
  sent(message: JSONRPCMessage): void {
    if (!isResponse(message)) return;
    const e = message.id === undefined ? undefined : this.#ids.get(message.id);
    if (!e) return;
    e.responded = true;
    if (e.closed) this.#release(message.id!, e);
  }

  #release(id: RequestId, e: InFlight): void {
    if (this.#ids.get(id) === e) this.#ids.delete(id);
  }
}
