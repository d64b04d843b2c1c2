// tools/list answered from the server's own first answer. McpServer's tools/list handler (@modelcontextprotocol/sdk
// 1.32 server/mcp.js) converts every tool's zod input and output schema to JSON Schema on every call; its result
// depends only on the registered tools — not on the request (tools come in one page; request-shape.ts refuses a
// cursor), the protocol version or the caller (this server shows every caller the same tools) — and McpServer sends
// notifications/tools/list_changed whenever that set changes (registerTool, enable, disable, update, remove).
// So: the first tools/list goes to the server; its result, and its serialised JSON, are kept; later tools/list
// requests are answered with them until the server announces a change. Installed between params validation and the
// Protocol (StatelessMux.start), so a malformed tools/list still gets the validator's -32602.
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { RequestId } from "@modelcontextprotocol/sdk/types.js";
import { isRequest } from "./rpc-kind.ts";

export class ToolsListCache {
  #entry: { result: object; json: string } | undefined;
  /** tools/list requests the server itself is answering: the first result among them fills the cache. */
  #asked = new Set<RequestId>();

  /** Wraps `transport.onmessage` (call right after the Protocol installed it): cached tools/list never reach it. */
  install(transport: Transport): void {
    const deliver = transport.onmessage;
    if (!deliver) throw new Error("the MCP server did not install a message handler on its transport");
    transport.onmessage = (message, extra) => {
      if (isRequest(message) && message.method === "tools/list") {
        const entry = this.#entry;
        if (entry) {
          transport.send({ jsonrpc: "2.0", id: message.id, result: entry.result as never })
            .catch((e: unknown) => transport.onerror?.(e instanceof Error ? e : new Error(String(e))));
          return;
        }
        this.#asked.add(message.id);
      }
      deliver(message, extra);
    };
  }

  /**
   * The JSON of an answer's `result`: the cached text for the cached result; for the server's own answer to a
   * tools/list request, that answer becomes the cache. Call for every answer the transport sends (also errors,
   * result undefined) and for every request dropped unanswered (`forget`), so nothing stays in `#asked`.
   */
  json(id: RequestId, result: unknown): string | undefined {
    const entry = this.#entry;
    if (entry && result === entry.result) return entry.json;
    if (!this.#asked.delete(id) || typeof result !== "object" || result === null) return undefined;
    this.#entry = { result, json: JSON.stringify(result) };
    return this.#entry.json;
  }

  forget(id: RequestId): void { this.#asked.delete(id); }

  /** The tool set changed (notifications/tools/list_changed): the next tools/list goes to the server again. */
  clear(): void { this.#entry = undefined; this.#asked.clear(); }
}
