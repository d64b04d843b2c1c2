// The JSON-RPC ids clients gave the requests that the stateless mux (stateless-mux.ts) renumbered before they
// reached the shared McpServer, by the process-unique id the server sees (RequestHandlerExtra.requestId). Log lines
// carry the client's id (tools/instrument.ts). An entry lives from the request's delivery to its answer or cancel.
import type { RequestId } from "@modelcontextprotocol/sdk/types.js";

const CLIENT_IDS = new Map<RequestId, RequestId>();

/** The id the client gave a request that the mux renumbered, else `id` itself (sessions keep clients' own ids). */
export function clientRequestId(id: RequestId): RequestId {
  return CLIENT_IDS.get(id) ?? id;
}

export const renumbered = {
  set(serverId: RequestId, clientId: RequestId): void { CLIENT_IDS.set(serverId, clientId); },
  delete(serverId: RequestId): void { CLIENT_IDS.delete(serverId); },
  /** Entries held (tests: none may outlive their request). */
  get size(): number { return CLIENT_IDS.size; },
};
