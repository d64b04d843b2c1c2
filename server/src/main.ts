// Entry point: load config, open the store, serve /mcp and /metrics; on SIGTERM/SIGINT stop accepting, drain
// in-flight requests (bounded by SHUTDOWN_TIMEOUT_MS), close sessions and the store, exit 0 (serve.ts).
import { loadConfig, ConfigError, type Config } from "./config.ts";
import { createLogger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import { Store } from "./store.ts";
import { WeatherClient } from "./upstream.ts";
import { HealthChecker } from "./health.ts";
import { createApp } from "./http.ts";
import { serve } from "./serve.ts";
import { setupMetering } from "./metering/setup.ts";
import { startupIssuerCheck } from "./issuer-check.ts";

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

if (config.auth.mode === "oauth") {
  const fatal = await startupIssuerCheck(config.auth, (o, m) => logger.warn(o, m));
  if (fatal) { process.stderr.write(`invalid configuration: ${fatal}\n`); process.exit(1); }
}

const metrics = createMetrics({ eventLoopResolutionMs: config.eventLoopResolutionMs });
let store: Store;
try {
  const { notesQuotaBytes: quotaBytes, notesTotalQuotaBytes: totalQuotaBytes, searchTimeoutMs } = config.limits;
  store = new Store(config.dataDir, { quotaBytes, totalQuotaBytes, searchTimeoutMs });
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
await serve({
  config, app, logger, metrics, drain, sessions, requestTimeoutMs: 300_000,
  async close() { await metering.meter?.close(); store.close(); },
});

if (config.auth.mode === "none") logger.warn("AUTH_MODE=none: /mcp accepts unauthenticated requests; use only behind another authentication layer or for local testing");
logger.info({
  event: "started", port: config.port, host: config.host, listen_socket: config.listenSocket, metrics_port: config.metricsPort, auth_mode: config.auth.mode,
  sessions: config.sessions, public_url: config.publicUrl, data_dir: config.dataDir, startup_ms: Math.round(performance.now() - startedAt),
}, "server listening");
