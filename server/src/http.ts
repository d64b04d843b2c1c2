// The HTTP app: /livez, /health, RFC 9728 metadata, and /mcp behind Host/Origin validation, auth and a body limit.
// Stateless mode (default): a new McpServer + transport per POST — JSON answer, or SSE for a tools/call that asked for
// progress (streaming.ts); GET/DELETE → 405. Stateful: see sessions.ts.
import { randomUUID } from "node:crypto";
import { isUtf8 } from "node:buffer";
import express, { type ErrorRequestHandler, type Request, type Response, type NextFunction } from "express";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Config } from "./config.ts";
import { loggableUrl, type Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { HealthChecker } from "./health.ts";
import { createMcpServer, type McpDeps } from "./mcp.ts";
import { originGuard } from "./origin.ts";
import { rpcError } from "./jsonrpc.ts";
import { setupAuth } from "./auth.ts";
import { SessionManager } from "./sessions.ts";
import { wantsEventStream } from "./streaming.ts";
import { connectCheckingParams } from "./request-shape.ts";

export interface AppDeps extends McpDeps { config: Config; logger: Logger; metrics: Metrics; health: HealthChecker }


/** Tracks in-flight requests so shutdown can drain them; refuses new ones once draining. */
export class Drain {
  inflight = 0;
  draining = false;
  #idle: Array<() => void> = [];

  middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (this.draining) { res.set("Connection", "close").status(503).json(rpcError(-32000, "Server is shutting down")); return; }
    // Long-lived GET streams (stateful mode) are closed at shutdown, not waited for.
    if (req.method === "GET" && req.path === "/mcp") { next(); return; }
    this.inflight++;
    res.once("close", () => { this.inflight--; if (this.inflight === 0) this.#idle.splice(0).forEach((f) => f()); });
    next();
  };

  /** Resolves true when no request is in flight, false after timeoutMs. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.#idle.push(() => { clearTimeout(t); resolve(true); });
    });
  }
}

export function createApp(deps: AppDeps) {
  const { config, logger, metrics, health } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  const drain = new Drain();
  const sessions = config.sessions === "stateful" ? new SessionManager({ max: config.maxSessions, idleMs: config.sessionIdleMs }) : undefined;
  if (sessions) metrics.trackSessions(() => sessions.size);
  const auth = setupAuth(config.auth, config.resourceUrl);

  app.use((req, res, next) => {
    const given = req.headers["x-request-id"];
    const id = typeof given === "string" && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    if (id !== given) {
      // The SDK transport rebuilds headers from rawHeaders: replace the header there too, so tools see this id.
      for (let i = req.rawHeaders.length - 2; i >= 0; i -= 2) if (req.rawHeaders[i]!.toLowerCase() === "x-request-id") req.rawHeaders.splice(i, 2);
      req.rawHeaders.push("x-request-id", id);
      req.headers["x-request-id"] = id;
    }
    res.set("X-Request-Id", id);
    const start = performance.now();
    res.once("finish", () => {
      metrics.httpRequests.inc({ method: req.method, status: String(res.statusCode) });
      if (logger.isLevelEnabled("debug")) logger.debug({ event: "http_request", req: { method: req.method, url: loggableUrl(req.originalUrl), headers: req.headers }, status: res.statusCode, duration_ms: Math.round(performance.now() - start) }, "http request");
    });
    next();
  });
  app.use(drain.middleware);

  app.get("/livez", (_req, res) => { res.json({ status: "alive" }); });
  app.get("/health", async (_req, res) => {
    const report = await health.check();
    res.status(report.status === "healthy" ? 200 : 503).set("Cache-Control", "no-store").json(report);
  });

  const guard = originGuard(config.allowedHosts, config.allowedOrigins);
  if (auth.metadataRouter) {
    app.use("/.well-known/oauth-protected-resource/mcp", guard, auth.metadataRouter);
    app.use("/.well-known/oauth-protected-resource", guard, auth.metadataRouter);
  }

  const mcp = express.Router();
  mcp.use(guard);
  if (auth.middleware) mcp.use(auth.middleware);

  // deps.metering.scope: usage of the tool calls below is recorded once this response has been written (metering/).
  mcp.post("/", express.json({ limit: config.maxBodyBytes, type: () => true, verify: rejectInvalidUtf8 }), deps.metering.scope, async (req, res) => {
    const body: unknown = req.body;
    if (!sessions) {
      const server = createMcpServer(deps);
      const enableJsonResponse = !wantsEventStream(body);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse });
      res.once("close", () => { void transport.close(); void server.close(); });
      await connectCheckingParams(server, transport);
      await transport.handleRequest(req, res, body);
      return;
    }
    const sessionId = req.headers["mcp-session-id"];
    const clientId = req.auth?.clientId;
    if (typeof sessionId === "string") {
      const s = sessions.get(sessionId, clientId);
      if (!s) { res.status(404).json(rpcError(-32001, "Session not found: start a new session with initialize")); return; }
      await s.transport.handleRequest(req, res, body);
      return;
    }
    if (!isInitializeRequest(body)) { res.status(400).json(rpcError(-32000, "Bad Request: Mcp-Session-Id header is required (initialize first)")); return; }
    const transport = await sessions.create(createMcpServer(deps), clientId);
    await transport.handleRequest(req, res, body);
  });

  const sessionRequest = async (req: Request, res: Response) => {
    if (!sessions) { res.status(405).set("Allow", "POST").json(rpcError(-32000, "Method not allowed: this server is stateless (POST only)")); return; }
    const sessionId = req.headers["mcp-session-id"];
    if (typeof sessionId !== "string") { res.status(400).json(rpcError(-32000, "Bad Request: Mcp-Session-Id header is required")); return; }
    const s = sessions.get(sessionId, req.auth?.clientId);
    if (!s) { res.status(404).json(rpcError(-32001, "Session not found")); return; }
    await s.transport.handleRequest(req, res);
  };
  mcp.get("/", sessionRequest);
  mcp.delete("/", sessionRequest);
  mcp.all("/", (_req, res) => { res.status(405).set("Allow", sessions ? "GET, POST, DELETE" : "POST").json(rpcError(-32000, "Method not allowed")); });
  app.use("/mcp", mcp);

  app.use((_req, res) => { res.status(404).json({ error: "not_found" }); });

  const onError: ErrorRequestHandler = (err: { type?: string; status?: number; message?: string }, req, res, _next) => {
    if (res.headersSent) { res.end(); return; }
    switch (err.type) {
      case "entity.too.large":
        res.status(413).json(rpcError(-32600, `Request body exceeds the limit of ${config.maxBodyBytes} bytes`)); return;
      case "entity.parse.failed": case INVALID_UTF8:
        res.status(400).json(rpcError(-32700, `Parse error: request body is not valid ${err.type === INVALID_UTF8 ? "UTF-8" : "JSON"}`)); return;
      case "encoding.unsupported": case "charset.unsupported":
        res.status(415).json(rpcError(-32600, "Unsupported content encoding or charset")); return;
      case "request.aborted":
        return;
    }
    const status = typeof err.status === "number" && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error({ err: { message: err.message }, path: req.path }, "request failed");
    res.status(status).json(rpcError(status === 500 ? -32603 : -32600, status === 500 ? "Internal error" : "Bad request"));
  };
  app.use(onError);

  return { app, drain, sessions };
}

const INVALID_UTF8 = "entity.invalid.utf8";

/** JSON must be UTF-8 (RFC 8259): refuse malformed bytes instead of letting them decay to U+FFFD in stored data. */
function rejectInvalidUtf8(_req: unknown, _res: unknown, buf: Buffer): void {
  if (!isUtf8(buf)) throw Object.assign(new Error("request body is not valid UTF-8"), { status: 400, type: INVALID_UTF8 });
}
