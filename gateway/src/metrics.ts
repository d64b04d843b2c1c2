// The gateway's Prometheus metrics (prom-client) on their own registry, served like the server's (server/src/metrics.ts
// serveMetrics) on METRICS_HOST:METRICS_PORT. Label values are bounded: `upstream` comes from UPSTREAMS, `tool` is an
// upstream's own tool name as listed (or "unknown"), `outcome` is one of OUTCOMES.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * ok: a result without isError · tool_error: a result with isError (the upstream's own) · rpc_error: the upstream's
 * JSON-RPC error · unavailable: no answer (unreachable, timeout, too large, busy) · cancelled: the client cancelled.
 */
export const OUTCOMES = ["ok", "tool_error", "rpc_error", "unavailable", "cancelled"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface GatewayMetrics {
  registry: Registry;
  calls: Counter<"upstream" | "tool" | "outcome">;
  callDuration: Histogram<"upstream" | "tool">;
  upstreamUp: Gauge<"upstream">;
  upstreamInflight: Gauge<"upstream">;
  httpRequests: Counter<"method" | "status">;
  trackSessions(count: () => number): void;
}

/** `eventLoopResolutionMs`: ListenerConfig's (METRICS_EVENT_LOOP_RESOLUTION_MS); default prom-client's 10. */
export function createGatewayMetrics({ eventLoopResolutionMs = 10 }: { eventLoopResolutionMs?: number } = {}): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: eventLoopResolutionMs });
  let sessionCount = () => 0;
  new Gauge({ name: "mcp_gateway_sessions", help: "Live client sessions of the gateway.", registers: [registry], collect() { this.set(sessionCount()); } });
  return {
    registry,
    calls: new Counter({ name: "mcp_gateway_tool_calls_total", help: "Tool calls forwarded, by upstream, tool (the upstream's name) and outcome.", labelNames: ["upstream", "tool", "outcome"], registers: [registry] }),
    callDuration: new Histogram({
      name: "mcp_gateway_tool_duration_seconds", help: "Tool call duration through the gateway, by upstream and tool.", labelNames: ["upstream", "tool"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry],
    }),
    upstreamUp: new Gauge({ name: "mcp_gateway_upstream_up", help: "1 when the upstream answered its last request or ping, else 0.", labelNames: ["upstream"], registers: [registry] }),
    upstreamInflight: new Gauge({ name: "mcp_gateway_upstream_inflight", help: "Requests in flight to the upstream.", labelNames: ["upstream"], registers: [registry] }),
    httpRequests: new Counter({ name: "mcp_gateway_http_requests_total", help: "HTTP requests on the gateway port by method and status.", labelNames: ["method", "status"], registers: [registry] }),
    trackSessions(count) { sessionCount = count; },
  };
}
