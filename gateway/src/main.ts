// Entry point of the gateway (docs/gateway.md): load config, serve /mcp (stateful sessions), /health, /health/<upstream>
// and /metrics; on SIGTERM/SIGINT stop accepting, drain in-flight requests (bounded by SHUTDOWN_TIMEOUT_MS), close
// sessions and upstream connections, exit 0 (server/src/serve.ts). The HTTP layer (auth, Host/Origin checks, body limits, sessions and their
// caps, request deadline) is the reference server's (server/src/http.ts createMcpHttpApp), so both behave alike.
import { createLogger } from "../../server/src/logger.ts";
import { createMcpHttpApp } from "../../server/src/http.ts";
import { serve } from "../../server/src/serve.ts";
import { startupIssuerCheck } from "../../server/src/issuer-check.ts";
import { ConfigError, loadGatewayConfig, type GatewayConfig } from "./config.ts";
import { createGatewayMetrics } from "./metrics.ts";
import { Upstream } from "./upstream.ts";
import { Gateway } from "./gateway.ts";
import { createFrontServer } from "./front.ts";
import { accessRule } from "./access.ts";
import { gatewayHealth, upstreamHealthRoute } from "./health.ts";

let config: GatewayConfig;
try {
  config = loadGatewayConfig();
} catch (e) {
  process.stderr.write(`invalid configuration: ${e instanceof ConfigError ? e.message : String(e)}\n`);
  process.exit(1);
}

const logger = createLogger(config.logLevel, "selfhosted-mcp-gateway");
process.on("uncaughtException", (e) => { logger.fatal({ err: { name: e.name, message: e.message } }, "uncaught exception"); process.exit(1); });
process.on("unhandledRejection", (e) => { logger.error({ err: { message: e instanceof Error ? e.message : String(e) } }, "unhandled rejection"); });

const metrics = createGatewayMetrics({ eventLoopResolutionMs: config.eventLoopResolutionMs });
const { limits } = config;
const gateway = new Gateway(config.upstreams.map((u) => new Upstream(u, limits, logger, metrics)), limits, metrics, logger);
const access = accessRule(config.auth, config.upstreams);
const { auth } = config;
if (auth.mode === "oauth") {
  const fatal = await startupIssuerCheck(auth.oauth, (o, m) => logger.warn(o, m));
  if (fatal) { process.stderr.write(`invalid configuration: ${fatal}\n`); process.exit(1); }
}

const { app, drain, sessions } = createMcpHttpApp({
  config: {
    auth: auth.mode === "api-key" ? { mode: "api-key", keys: auth.keys } : auth.mode === "oauth" ? auth.oauth : { mode: "none" },
    resourceUrl: config.resourceUrl, allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins,
    // Stateful only: a client's notifications/cancelled must reach the Server running its call, and list_changed
    // notifications need the session's GET stream.
    sessions: "stateful", sessionIdleMs: limits.sessionIdleMs, maxBodyBytes: limits.maxBodyBytes, requestTimeoutMs: limits.requestTimeoutMs,
    limits: { maxSessions: limits.maxSessions, maxSessionsPerCredential: limits.maxSessionsPerCredential, maxSessionInitBytes: 64 * 1024, maxBatchCalls: 10 },
  },
  logger, metrics,
  health: () => gatewayHealth(gateway),
  open(_principal, opened) {
    const server = createFrontServer(gateway, access, opened);
    return { server, connect: (t) => server.connect(t) };
  },
  routes: upstreamHealthRoute(gateway),
});

// A whole request may take REQUEST_TIMEOUT_MS (the answer's deadline) plus time to write it.
await serve({
  config, app, logger, metrics, drain, sessions,
  requestTimeoutMs: limits.requestTimeoutMs + 60_000,
  async close() { await Promise.allSettled(gateway.upstreams.map((u) => u.close())); },
});

if (config.auth.mode === "none") logger.warn("AUTH_MODE=none: /mcp accepts unauthenticated requests to every upstream; use only behind another authentication layer or for local testing");
logger.info({
  event: "started", port: config.port, host: config.host, listen_socket: config.listenSocket, metrics_port: config.metricsPort,
  auth_mode: config.auth.mode, upstreams: config.upstreams.map((u) => ({ name: u.name, url: u.url, token: u.token !== undefined, ...(config.auth.mode === "oauth" ? { scope: u.scope } : {}) })),
}, "gateway listening");
