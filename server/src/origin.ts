// DNS-rebinding protection: the Host header must name this server and a present Origin header must be allowed.
// The SDK validates Host only; the spec requires rejecting an invalid Origin with 403.
import type { RequestHandler } from "express";
import { rpcError } from "./jsonrpc.ts";


function hostname(hostHeader: string): string | undefined {
  try { return new URL(`http://${hostHeader}`).hostname.toLowerCase(); } catch { return undefined; }
}

export function originGuard(allowedHosts: string[], allowedOrigins: string[]): RequestHandler {
  const hosts = new Set(allowedHosts.map((h) => h.toLowerCase()));
  const origins = new Set(allowedOrigins.map((o) => o.toLowerCase()));
  return (req, res, next) => {
    const host = req.headers.host ? hostname(req.headers.host) : undefined;
    if (!host || !hosts.has(host)) { res.status(403).json(rpcError(-32000, "Forbidden: Host header not allowed")); return; }
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin.toLowerCase())) { res.status(403).json(rpcError(-32000, "Forbidden: Origin not allowed")); return; }
    next();
  };
}
