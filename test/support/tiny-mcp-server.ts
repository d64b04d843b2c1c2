// A tiny MCP server on the SDK's low-level Server, in the test process, over Streamable HTTP with sessions (the SDK
// default): what the reference server cannot show through the gateway. Its tool `get_forecast` has the reference
// server's name (a collision); `slow` reports progress and records whether its call was cancelled; `refuse` answers a
// JSON-RPC error with its own code and data; `grow` adds a tool and sends notifications/tools/list_changed; `big`
// answers `bytes` characters of text. It also has one prompt and one resource. With `stateless: true` every POST gets
// its own Server and transport (like the reference server's default), so a notifications/cancelled POST reaches no
// running call: only closing the call's own POST cancels it. Binds 127.0.0.1 on a free port; every session is closed on stop().
import { createServer, type Server as HttpServer } from "node:http";
import { randomUUID } from "node:crypto";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import {
  CallToolRequestSchema, GetPromptRequestSchema, ListPromptsRequestSchema, ListResourcesRequestSchema, ListToolsRequestSchema,
  ReadResourceRequestSchema, type Tool,
} from "@modelcontextprotocol/sdk/types.js";

/** The JSON-RPC error `refuse` answers with (code outside the reserved range, with data). */
export const REFUSAL = { code: -32042, message: "tiny refuses: quota exhausted for today", data: { retry_after_s: 3600, quota: "daily" } };
/** A tool name the gateway must shorten: with its prefix it is over 64 characters, and it has a `.` (docs/gateway.md). */
export const LONG_TOOL = "report.generate-quarterly-summary-for-the-finance-team-in-all-regions";
/** Steps `slow` reports before it waits; a progress notification each. */
export const SLOW_STEPS = 3;

export interface TinyServer {
  url: string;
  /** Calls of `slow` that ended because their signal was aborted, with the abort reason. */
  cancelled: string[];
  /** Calls of `slow` that started. */
  slowStarted(): number;
  /** Closes every session, as a restart would: their ids then get 404. Returns how many there were. */
  forgetSessions(): Promise<number>;
  stop(): Promise<void>;
}

const schema = { type: "object" as const, properties: {} };
const baseTools: Tool[] = [
  { name: "get_forecast", description: "Not a forecast: the tiny server's tool with the reference server's tool name.", inputSchema: schema },
  { name: "slow", description: "Reports progress, then waits (up to 30 s) until cancelled.", inputSchema: schema },
  { name: "refuse", description: "Always answers a JSON-RPC error.", inputSchema: schema },
  { name: "grow", description: "Adds a tool and announces it with notifications/tools/list_changed.", inputSchema: schema },
  { name: LONG_TOOL, description: "A long name with a dot.", inputSchema: schema },
  { name: "big", description: "Answers `bytes` characters of text (streamed after a progress step when asked for progress).", inputSchema: { type: "object", properties: { bytes: { type: "number" } } } },
];

export async function startTinyServer(opts: { stateless?: boolean } = {}): Promise<TinyServer> {
  const tools = [...baseTools];
  const cancelled: string[] = [];
  let slowStarted = 0;
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: Server }>();

  const newServer = () => {
    const server = new Server({ name: "tiny", version: "1.0.0" }, { capabilities: { tools: { listChanged: true }, prompts: {}, resources: {} } });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      switch (request.params.name) {
        case "get_forecast": return { content: [{ type: "text", text: "tiny get_forecast" }] };
        case "big": {
          // With a progressToken the answer is streamed (headers sent before the result: no Content-Length).
          const token = request.params._meta?.progressToken;
          if (token !== undefined) {
            await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: 1 } });
            await new Promise((r) => setTimeout(r, 50));
          }
          return { content: [{ type: "text", text: "x".repeat(Number(request.params.arguments?.bytes ?? 0)) }] };
        }
        case LONG_TOOL: return { content: [{ type: "text", text: `called ${LONG_TOOL}` }] };
        case "refuse": throw Object.assign(new Error(REFUSAL.message), { code: REFUSAL.code, data: REFUSAL.data });
        case "grow": {
          tools.push({ name: `grown_${tools.length}`, description: "Added by grow.", inputSchema: schema });
          await Promise.allSettled([...sessions.values()].map((s) => s.server.sendToolListChanged()));
          return { content: [{ type: "text", text: `now ${tools.length} tools` }] };
        }
        case "slow": {
          slowStarted++;
          const token = request.params._meta?.progressToken;
          for (let i = 1; i <= SLOW_STEPS && token !== undefined; i++) {
            await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: i, total: SLOW_STEPS + 1, message: `step ${i}` } });
          }
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 30_000);
            extra.signal.addEventListener("abort", () => { clearTimeout(t); cancelled.push(String(extra.signal.reason)); resolve(); }, { once: true });
          });
          return { content: [{ type: "text", text: extra.signal.aborted ? "cancelled" : "waited 30 s" }] };
        }
        default: return { isError: true, content: [{ type: "text", text: `no tool ${request.params.name}` }] };
      }
    });
    server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: [{ name: "greet", description: "A greeting.", arguments: [{ name: "who", required: true }] }] }));
    server.setRequestHandler(GetPromptRequestSchema, (request) => ({
      messages: [{ role: "user", content: { type: "text", text: `Hello, ${request.params.arguments?.who ?? "nobody"}!` } }],
    }));
    server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: [{ uri: "tiny://readme", name: "readme", mimeType: "text/plain" }] }));
    server.setRequestHandler(ReadResourceRequestSchema, (request) => ({ contents: [{ uri: request.params.uri, mimeType: "text/plain", text: "tiny readme" }] }));
    return server;
  };

  const http: HttpServer = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown : undefined;
    const id = req.headers["mcp-session-id"];
    const existing = typeof id === "string" ? sessions.get(id) : undefined;
    if (existing) { await existing.transport.handleRequest(req, res, body); return; }
    if (typeof id === "string") { res.writeHead(404).end(); return; }
    const server = newServer();
    if (opts.stateless) {
      if (req.method !== "POST") { res.writeHead(405).end(); return; }
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.once("close", () => { void transport.close(); void server.close(); });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => { sessions.set(sid, { transport, server }); },
    });
    transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve, reject) => { http.once("error", reject); http.listen(0, "127.0.0.1", () => resolve()); });
  const port = (http.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    cancelled,
    slowStarted: () => slowStarted,
    async forgetSessions() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.allSettled(all.map((s) => s.transport.close()));
      return all.length;
    },
    async stop() {
      await Promise.allSettled([...sessions.values()].map((s) => s.transport.close()));
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
