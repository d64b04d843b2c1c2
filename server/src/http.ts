// The HTTP app: /livez, /health, RFC 9728 metadata, and /mcp behind Host/Origin validation, auth and a body limit.
// Stateless mode (default): one shared McpServer answers single requests (stateless-mux.ts); initialize, batches,
// notifications and calls that asked for progress (SSE, streaming.ts) get a new McpServer + SDK transport per POST;
// GET/DELETE → 405. Stateful: see sessions.ts.
// createMcpHttpApp is the MCP-agnostic part (what a session serves comes from `open`); the gateway (gateway/) uses it
// with its own Server, createApp wires it to the reference server's tools, health and metering.
import { randomUUID } from "node:crypto";
import { isUtf8 } from "node:buffer";
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from "express";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Config, Limits } from "./config.ts";
import { loggableHeaders, loggableUrl, type Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { HealthChecker } from "./health.ts";
import { createMcpServer, type McpDeps } from "./mcp.ts";
import { originGuard } from "./origin.ts";
import { rpcError } from "./jsonrpc.ts";
import { principalOf, setupAuth } from "./auth.ts";
import { SessionManager, type SessionServer } from "./sessions.ts";
import { wantsEventStream } from "./streaming.ts";
import { connectCheckingParams, requestShapeError } from "./request-shape.ts";
import { answerWithin } from "./request-deadline.ts";
import { cors } from "./cors.ts";
import { Drain } from "./drain.ts";
import { StatelessMux, muxable } from "./stateless-mux.ts";


export interface AppDeps extends McpDeps { config: Config; logger: Logger; metrics: Metrics; health: HealthChecker }


/** What one stateless request or one stateful session is served by, and how it is attached to its transport. */
export interface OpenedServer { server: SessionServer; connect(transport: Transport): Promise<void> }

/** The settings of createMcpHttpApp (the fields of Config it reads; the gateway gives its own). */
export type McpHttpSettings = Pick<Config, "auth" | "resourceUrl" | "allowedHosts" | "allowedOrigins" | "sessions" | "sessionIdleMs" | "maxBodyBytes" | "requestTimeoutMs">
  & { limits: Pick<Limits, "maxSessions" | "maxSessionsPerCredential" | "maxSessionInitBytes" | "maxBatchCalls"> };

export interface McpHttpDeps {
  config: McpHttpSettings;
  logger: Logger;
  metrics: Pick<Metrics, "httpRequests" | "trackSessions">;
  /** GET /health: the status code and JSON body. */
  health(): Promise<{ status: number; body: unknown }>;
  /** A new server for one stateless request or one stateful session; `principal` is the caller (auth.ts principalOf). */
  open(principal: string, auth: AuthInfo | undefined): OpenedServer;
  /**
   * Stateless mode's fast path: the one server that answers every single, non-initialize, non-progress request
   * (stateless-mux.ts), called once. Only for a server whose answers do not depend on the caller; without it every
   * stateless POST is served by `open`.
   */
  shared?(): McpServer;
  /** Runs before each POST /mcp is handled (the server's metering scope). */
  beforePost?: RequestHandler;
  /** Extra routes, mounted after /livez and /health (the gateway's /health/<upstream>). */
  routes?(app: Express): void;
}

/** The reference server's app: its tools (mcp.ts) with the request-shape checks, its health, its metering. */
export function createApp(deps: AppDeps) {
  return createMcpHttpApp({
    config: deps.config, logger: deps.logger, metrics: deps.metrics,
    async health() { const report = await deps.health.check(); return { status: report.status === "healthy" ? 200 : 503, body: report }; },
    open() { const server = createMcpServer(deps); return { server, connect: (t) => connectCheckingParams(server, t) }; },
    shared: () => createMcpServer(deps),
    beforePost: deps.metering.scope,
  });
}

export function createMcpHttpApp(deps: McpHttpDeps) {
  const { config, logger, metrics } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  const drain = new Drain();
  const { limits } = config;
  const sessions = config.sessions === "stateful"
    ? new SessionManager({ max: limits.maxSessions, perPrincipal: limits.maxSessionsPerCredential, idleMs: config.sessionIdleMs, requestTimeoutMs: config.requestTimeoutMs }) : undefined;
  if (sessions) metrics.trackSessions(() => sessions.size);
  const mux = sessions || !deps.shared ? undefined : new StatelessMux(deps.shared(), config.requestTimeoutMs);
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
      if (logger.isLevelEnabled("debug")) logger.debug({ event: "http_request", req: { method: req.method, url: loggableUrl(req.originalUrl), headers: loggableHeaders(req.headers) }, status: res.statusCode, duration_ms: Math.round(performance.now() - start) }, "http request");
    });
    next();
  });
  app.use(drain.middleware);

  app.get("/livez", (_req, res) => { res.json({ status: "alive" }); });
  app.get("/health", async (_req, res) => {
    const { status, body } = await deps.health();
    res.status(status).set("Cache-Control", "no-store").json(body);
  });
  deps.routes?.(app);

  // Public metadata (RFC 9728): no Host/Origin guard — the SDK's handler sends `Access-Control-Allow-Origin: *`, and
  // a browser client on any origin must be able to read it to start OAuth.
  if (auth.metadata) for (const path of auth.metadata.paths) app.use(path, auth.metadata.handler);

  const mcp = express.Router();
  mcp.use(originGuard(config.allowedHosts, config.allowedOrigins));
  mcp.use(cors(sessions ? "GET, POST, DELETE" : "POST"));
  if (auth.middleware) mcp.use(auth.middleware);

  // Any JSON value is parsed (strict: false): a value that is not a JSON-RPC object is -32600, not a parse error.
  // beforePost (the server's metering scope): usage of the tool calls below is recorded once this response has been written.
  const beforePost: RequestHandler = deps.beforePost ?? ((_req, _res, next) => next());
  mcp.post("/", express.json({ limit: config.maxBodyBytes, type: () => true, strict: false, verify: measureBody }), beforePost, async (req, res) => {
    const body: unknown = req.body;
    const shapeError = requestShapeError(body, req.get("mcp-protocol-version"), limits.maxBatchCalls);
    if (shapeError) { res.status(400).json(shapeError); return; }
    if (!sessions) {
      if (mux && muxable(body)) { await mux.handle(req, res, body); return; }
      const { server, connect } = deps.open(principalOf(req.auth), req.auth);
      const enableJsonResponse = !wantsEventStream(body);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse });
      res.once("close", () => { void transport.close(); void server.close(); });
      await connect(transport);
      answerWithin(transport, config.requestTimeoutMs);
      await transport.handleRequest(req, res, body);
      return;
    }
    const sessionId = req.headers["mcp-session-id"];
    const principal = principalOf(req.auth);
    if (typeof sessionId === "string") {
      const s = sessions.get(sessionId, principal);
      if (!s) { res.status(404).json(rpcError(-32001, "Session not found: start a new session with initialize")); return; }
      const duplicate = s.requests.claim(body, res);
      if (duplicate) { res.status(400).json(duplicate); return; }
      await s.transport.handleRequest(req, res, body);
      return;
    }
    if (!isInitializeRequest(body)) { res.status(400).json(rpcError(-32000, "Bad Request: Mcp-Session-Id header is required (initialize first)")); return; }
    // The session keeps the initialize payload (client capabilities and info) for its lifetime: bound it.
    if ((res.locals.bodyBytes as number) > limits.maxSessionInitBytes) {
      res.status(413).json({ jsonrpc: "2.0", id: (req.body as { id: unknown }).id, error: { code: -32602, message: `Invalid params for initialize: the request is ${res.locals.bodyBytes as number} bytes; a session-opening initialize may be at most ${limits.maxSessionInitBytes} bytes (MAX_SESSION_INIT_BYTES)` } });
      return;
    }
    const { server, connect } = deps.open(principal, req.auth);
    const { transport, requests } = await sessions.create(server, principal, connect);
    requests.claim(body, res);
    await transport.handleRequest(req, res, body);
  });

  const sessionRequest = async (req: Request, res: Response) => {
    if (!sessions) { res.status(405).set("Allow", "POST").json(rpcError(-32000, "Method not allowed: this server is stateless (POST only)")); return; }
    const sessionId = req.headers["mcp-session-id"];
    if (typeof sessionId !== "string") { res.status(400).json(rpcError(-32000, "Bad Request: Mcp-Session-Id header is required")); return; }
    const s = sessions.get(sessionId, principalOf(req.auth));
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

/**
 * Records the body's size (res.locals.bodyBytes) and refuses malformed UTF-8: JSON must be UTF-8 (RFC 8259), and
 * bytes must not decay to U+FFFD in stored data.
 */
function measureBody(_req: unknown, res: Response, buf: Buffer): void {
  res.locals.bodyBytes = buf.length;
  if (!isUtf8(buf)) throw Object.assign(new Error("request body is not valid UTF-8"), { status: 400, type: INVALID_UTF8 });
}
