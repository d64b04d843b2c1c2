// Entry point: load config, open the store, serve /mcp and /metrics; on SIGTERM/SIGINT stop accepting, drain
// in-flight requests (bounded by SHUTDOWN_TIMEOUT_MS), close sessions and the store, exit 0.
import type { Server } from "node:http";
import { loadConfig, ConfigError, type Config } from "./config.ts";
import { createLogger } from "./logger.ts";
import { createMetrics, serveMetrics } from "./metrics.ts";
import { Store } from "./store.ts";
import { WeatherClient } from "./upstream.ts";
import { HealthChecker } from "./health.ts";
import { createApp } from "./http.ts";
import { listenTcp, listenSocket } from "./listen.ts";
import { setupMetering } from "./metering/setup.ts";

let config: Config;
try {
  config = loadConfig();
} catch (e) {
  const message = e instanceof ConfigError ? e.message : String(e);
  process.stderr.write(`invalid configuration: ${message}\n`);
  process.exit(1);
}

const logger = createLogger(config.logLevel);
process.on("uncaughtException", (e) => { logger.fatal({ err: { name: e.name, message: e.message } }, "uncaught exception"); process.exit(1); });
process.on("unhandledRejection", (e) => { logger.error({ err: { message: e instanceof Error ? e.message : String(e) } }, "unhandled rejection"); });

const metrics = createMetrics();
let store: Store;
try {
  store = new Store(config.dataDir);
} catch (e) {
  logger.fatal({ err: { message: (e as Error).message }, data_dir: config.dataDir }, "DATA_DIR: cannot open the SQLite store; make the directory writable by the server user");
  process.exit(1);
}
let metering: ReturnType<typeof setupMetering>;
try {
  metering = setupMetering(config.metering, { dataDir: config.dataDir, authMode: config.auth.mode, logger, registry: metrics.registry });
} catch (e) {
  logger.fatal({ err: { message: (e as Error).message }, data_dir: config.dataDir }, "DATA_DIR: cannot open the usage ledger; make the directory writable by the server user");
  process.exit(1);
}
const weather = new WeatherClient(config.upstream, metrics);
const health = new HealthChecker(store, weather, config.health);
const { app, drain, sessions } = createApp({ config, logger, metrics, store, weather, health, metering: metering.metering });

const startedAt = performance.now();
let httpServer: Server;
let socketServer: Server | undefined;
try {
  httpServer = await listenTcp(app, config.host, config.port, "PORT");
  if (config.listenSocket) socketServer = await listenSocket(app, config.listenSocket);
} catch (e) {
  logger.fatal({ err: { message: (e as Error).message } }, (e as Error).message);
  process.exit(1);
}
const appServers = socketServer ? [httpServer, socketServer] : [httpServer];
for (const s of appServers) {
  s.headersTimeout = 30_000;
  s.requestTimeout = 300_000;
  s.keepAliveTimeout = 65_000;
}
const metricsServer = await serveMetrics(metrics, config.metricsHost, config.metricsPort).catch((e: NodeJS.ErrnoException) => {
  logger.fatal({ err: { code: e.code, message: e.message } }, `METRICS_PORT: cannot listen on ${config.metricsHost}:${config.metricsPort}`);
  process.exit(1);
});

if (config.auth.mode === "none") logger.warn("AUTH_MODE=none: /mcp accepts unauthenticated requests; use only behind another authentication layer or for local testing");
logger.info({
  event: "started", port: config.port, host: config.host, listen_socket: config.listenSocket, metrics_port: config.metricsPort, auth_mode: config.auth.mode,
  sessions: config.sessions, public_url: config.publicUrl, data_dir: config.dataDir, startup_ms: Math.round(performance.now() - startedAt),
}, "server listening");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ event: "shutdown", signal, inflight: drain.inflight }, "shutting down: draining in-flight requests");
  drain.draining = true;
  for (const s of appServers) { s.close(); s.closeIdleConnections(); }
  const drained = await drain.wait(config.shutdownTimeoutMs);
  if (!drained) logger.warn({ inflight: drain.inflight, timeout_ms: config.shutdownTimeoutMs }, "shutdown: drain timeout reached, closing remaining requests");
  await sessions?.closeAll();
  for (const s of appServers) s.closeAllConnections();
  metricsServer.close();
  metricsServer.closeAllConnections();
  // After the last response: let pending `finish` events run, so every written response has been recorded.
  await new Promise((resolve) => setImmediate(resolve));
  await metering.meter?.close();
  store.close();
  logger.info({ event: "stopped", drained }, "server stopped");
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
