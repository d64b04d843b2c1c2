// Prometheus metrics (prom-client) on their own registry, served on METRICS_HOST:METRICS_PORT (loopback by default).
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  registry: Registry;
  toolCalls: Counter<"tool" | "status">;
  toolDuration: Histogram<"tool">;
  upstreamDuration: Histogram<"outcome">;
  upstreamSchemaErrors: Counter<string>;
  httpRequests: Counter<"method" | "status">;
  /** Live MCP sessions, read at scrape time from the function given to trackSessions (0 when stateless). */
  activeSessions: Gauge<string>;
  trackSessions(count: () => number): void;
  /**
   * Exposes a tool's mcp_tool_calls_total{status="ok"|"error"} and mcp_tool_duration_seconds series at 0 before its
   * first call. A series that first appears at N has no earlier sample, so Prometheus' rate()/increase() count
   * nothing for it: a burst of errors on a tool that had never failed between two scrapes would leave the error-ratio
   * alert quiet (Prometheus docs, instrumentation practices, "Avoid missing metrics"). Idempotent.
   */
  declareTool(tool: string): void;
}

/** `eventLoopResolutionMs`: ListenerConfig's (METRICS_EVENT_LOOP_RESOLUTION_MS); default prom-client's 10. */
export function createMetrics({ eventLoopResolutionMs = 10 }: { eventLoopResolutionMs?: number } = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: eventLoopResolutionMs });
  let sessionCount = () => 0;
  return {
    registry,
    toolCalls: new Counter({ name: "mcp_tool_calls_total", help: "MCP tool calls by tool and outcome (ok|error).", labelNames: ["tool", "status"], registers: [registry] }),
    toolDuration: new Histogram({
      name: "mcp_tool_duration_seconds", help: "MCP tool call duration in seconds.", labelNames: ["tool"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry],
    }),
    upstreamDuration: new Histogram({
      name: "mcp_upstream_request_duration_seconds", help: "Upstream API request duration (per attempt) by outcome.",
      labelNames: ["outcome"], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: [registry],
    }),
    upstreamSchemaErrors: new Counter({ name: "mcp_upstream_schema_errors_total", help: "Upstream responses that did not match the expected schema.", registers: [registry] }),
    httpRequests: new Counter({ name: "mcp_http_requests_total", help: "HTTP requests on the MCP port by method and status.", labelNames: ["method", "status"], registers: [registry] }),
    activeSessions: new Gauge({
      name: "mcp_active_sessions", help: "Live MCP sessions (stateful mode; always 0 when stateless).", registers: [registry],
      collect() { this.set(sessionCount()); },
    }),
    trackSessions(count) { sessionCount = count; },
    declareTool(tool) {
      for (const status of ["ok", "error"]) this.toolCalls.inc({ tool, status }, 0);
      this.toolDuration.zero({ tool });
    },
  };
}

/** Serves GET /metrics; everything else is 404. */
export function serveMetrics(metrics: Pick<Metrics, "registry">, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") { res.writeHead(404).end(); return; }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
