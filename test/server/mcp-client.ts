// Connects the SDK's own Client over Streamable HTTP to a running server (optionally with extra request headers, or a
// fetch wrapper that observes the HTTP responses).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export async function connect(mcpUrl: string, headers: Record<string, string> = {}, fetch?: FetchLike): Promise<Client> {
  const client = new Client({ name: "server-tests", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers }, fetch });
  await client.connect(transport);
  return client;
}

/** Calls a tool with a bounded timeout and returns the result typed as a CallToolResult. */
export async function call(client: Client, name: string, args: Record<string, unknown>, timeoutMs = 15_000): Promise<CallToolResult> {
  return await client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs }) as CallToolResult;
}

export const text = (r: CallToolResult): string => r.content.map((c) => (c.type === "text" ? c.text : "")).join("");

export const initializeBody = JSON.stringify({
  jsonrpc: "2.0", id: 1, method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

export const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
