// Baseline contender: the smallest stateless MCP server the SDK's own example pattern gives (createMcpExpressApp,
// a new McpServer + StreamableHTTPServerTransport per POST, JSON responses) with one trivial tool ("echo").
// No auth, no metrics, no logging. Listens on 127.0.0.1:$PORT.
import * as z from "zod";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";

function getServer(): McpServer {
  const server = new McpServer({ name: "bench-baseline", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.registerTool("echo", {
    description: "Returns its input text.",
    inputSchema: { text: z.string() },
  }, async ({ text }) => ({ content: [{ type: "text", text }] }));
  return server;
}

const app = createMcpExpressApp();
app.post("/mcp", async (req, res) => {
  const server = getServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.once("close", () => { void transport.close(); void server.close(); });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
app.get("/livez", (_req, res) => { res.json({ status: "alive" }); });

const port = Number(process.env.PORT ?? 8100);
app.listen(port, "127.0.0.1", () => process.stdout.write(`listening on 127.0.0.1:${port}\n`));
