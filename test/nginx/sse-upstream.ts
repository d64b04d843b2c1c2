// A second, minimal MCP server for the live nginx test that answers in SSE (the reference server runs in JSON-response
// mode): built from the SDK's own McpServer + StreamableHTTPServerTransport (stateless, enableJsonResponse false).
// Its one tool, `countdown`, sends `steps` progress notifications `intervalMs` apart on the POST's event stream before
// its result, so a client can tell a streamed response from one that a proxy buffered. `request_headers` returns the
// headers the proxy sent; `connections()` counts accepted TCP connections (to see upstream keep-alive at work).
import { createServer, type IncomingMessage } from "node:http";
import * as z from "zod";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { sleep } from "../support/proc.ts";

export interface SseUpstream { port: number; connections(): number; stop(): Promise<void> }

function mcpServer(): McpServer {
  const server = new McpServer({ name: "sse-upstream", version: "1.0.0" });
  server.registerTool("countdown", {
    description: "Counts down, one progress notification per step, then returns the sequence.",
    inputSchema: { steps: z.number().int().min(1).max(20), intervalMs: z.number().int().min(0).max(2000) },
  }, async ({ steps, intervalMs }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) {
        await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: i, total: steps, message: `step ${i}` } });
      }
      await sleep(intervalMs);
    }
    return { content: [{ type: "text", text: Array.from({ length: steps }, (_, i) => `step ${i + 1}`).join(",") }] };
  });
  server.registerTool("request_headers", { description: "Returns the HTTP request headers this server received." },
    (extra) => ({ content: [{ type: "text", text: JSON.stringify(extra.requestInfo?.headers ?? {}) }] }));
  return server;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
}

export function startSseUpstream(): Promise<SseUpstream> {
  const http = createServer(async (req, res) => {
    if (req.method !== "POST" || req.url !== "/mcp") { res.writeHead(405).end(); return; }
    const server = mcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: false });
    res.once("close", () => { void transport.close(); void server.close(); });
    await server.connect(transport);
    await transport.handleRequest(req, res, await readJson(req));
  });
  let connections = 0;
  http.on("connection", () => { connections++; });
  return new Promise((resolve) => {
    http.listen(0, "127.0.0.1", () => resolve({
      port: (http.address() as { port: number }).port,
      connections: () => connections,
      stop: () => new Promise<void>((r) => { http.closeAllConnections(); http.close(() => r()); }),
    }));
  });
}
