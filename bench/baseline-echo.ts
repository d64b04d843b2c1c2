// Ceiling contender: raw node:http, no framework. Reads the JSON-RPC body, parses it and answers a tools/call-shaped
// result echoing the request id — the least work any Node JSON-over-HTTP server can do per call.
import { createServer } from "node:http";

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/livez") { res.writeHead(200, { "content-type": "application/json" }).end('{"status":"alive"}'); return; }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    let id: unknown = null;
    try { id = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id?: unknown }).id ?? null; } catch { /* answered below */ }
    const body = JSON.stringify({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text: "echo" }] } });
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
});
const port = Number(process.env.PORT ?? 8101);
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => process.stdout.write(`listening on 127.0.0.1:${port}\n`));
