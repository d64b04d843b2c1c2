// The process around an app (server/src/main.ts, gateway/src/main.ts): listen on HOST:PORT (+ LISTEN_SOCKET) and serve
// /metrics, exiting 1 with the variable's name when a listener cannot start; on SIGTERM/SIGINT stop accepting, drain
// in-flight requests (bounded by SHUTDOWN_TIMEOUT_MS), close sessions and connections, run `close`, exit 0.
import type { RequestListener, Server } from "node:http";
import type { Registry } from "prom-client";
import type { ListenerConfig } from "./config.ts";
import { flushLogs, type Logger } from "./logger.ts";
import type { Drain } from "./drain.ts";
import type { SessionManager } from "./sessions.ts";
import { listenApp } from "./listen.ts";
import { serveMetrics } from "./metrics.ts";

export interface ServeOptions {
  config: ListenerConfig & { shutdownTimeoutMs: number };
  app: RequestListener;
  logger: Logger;
  metrics: { registry: Registry };
  drain: Drain;
  sessions: SessionManager | undefined;
  /** Longest a whole HTTP request may take on the app's listeners (node's server.requestTimeout), ms. */
  requestTimeoutMs: number;
  /** Runs after the last response, before exit (close stores, upstream connections, …). */
  close(): Promise<void>;
}

export async function serve(o: ServeOptions): Promise<void> {
  const { config, logger, drain } = o;
  let appServers: Server[];
  try {
    appServers = await listenApp(o.app, { host: config.host, port: config.port, listenSocket: config.listenSocket, requestTimeoutMs: o.requestTimeoutMs });
  } catch (e) {
    logger.fatal({ err: { message: (e as Error).message } }, (e as Error).message);
    process.exit(1);
  }
  const metricsServer = await serveMetrics(o.metrics, config.metricsHost, config.metricsPort).catch((e: NodeJS.ErrnoException) => {
    logger.fatal({ err: { code: e.code, message: e.message } }, `METRICS_PORT: cannot listen on ${config.metricsHost}:${config.metricsPort}`);
    process.exit(1);
  });

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info({ event: "shutdown", signal, inflight: drain.inflight }, "shutting down: draining in-flight requests");
    drain.draining = true;
    for (const s of appServers) { s.close(); s.closeIdleConnections(); }
    const drained = await drain.wait(config.shutdownTimeoutMs);
    if (!drained) logger.warn({ inflight: drain.inflight, timeout_ms: config.shutdownTimeoutMs }, "shutdown: drain timeout reached, closing remaining requests");
    await o.sessions?.closeAll();
    for (const s of appServers) s.closeAllConnections();
    metricsServer.close();
    metricsServer.closeAllConnections();
    // After the last response: let pending `finish` events run, so every written response has been recorded.
    await new Promise((resolve) => setImmediate(resolve));
    await o.close();
    logger.info({ event: "stopped", drained }, "stopped");
    await flushLogs(logger);
    process.exit(0);
  }
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}
