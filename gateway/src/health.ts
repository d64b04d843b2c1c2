// GET /health and GET /health/<upstream> (docs/gateway.md, "Health"). Each upstream is probed with an MCP ping
// (upstream.ts: HEALTH_TIMEOUT_MS, cached HEALTH_CACHE_MS). /health answers 200 while at least one upstream is up
// (status "healthy" or "degraded": the gateway still serves the others) and 503 only when none is; /health/<name>
// answers 503 exactly when that upstream is down, so a monitor or a deploy gate can watch one server.
import type { Express } from "express";
import type { Gateway } from "./gateway.ts";
import type { HealthCheck } from "./upstream.ts";

export interface GatewayHealth { status: "healthy" | "degraded" | "down"; upstreams: Record<string, HealthCheck> }

export async function gatewayHealth(gateway: Gateway): Promise<{ status: number; body: GatewayHealth }> {
  const checks = await Promise.all(gateway.upstreams.map(async (u) => [u.name, await u.health()] as const));
  const up = checks.filter(([, c]) => c.status === "ok").length;
  const status = up === checks.length ? "healthy" : up > 0 ? "degraded" : "down";
  return { status: status === "down" ? 503 : 200, body: { status, upstreams: Object.fromEntries(checks) } };
}

/** Mounts GET /health/<upstream>: 200 with its check when it answers, 503 when not, 404 for a name not in UPSTREAMS. */
export function upstreamHealthRoute(gateway: Gateway) {
  return (app: Express): void => {
    app.get("/health/:upstream", async (req, res) => {
      const upstream = gateway.upstreams.find((u) => u.name === req.params.upstream);
      if (!upstream) { res.status(404).json({ error: "not_found", upstreams: gateway.upstreams.map((u) => u.name) }); return; }
      const check = await upstream.health();
      res.status(check.status === "ok" ? 200 : 503).set("Cache-Control", "no-store").json({ upstream: upstream.name, ...check });
    });
  };
}
