// DNS-rebinding protection: the Host header must name this server and a present Origin header must be allowed.
// The SDK validates Host only; the spec requires rejecting an invalid Origin with 403.
import type { RequestHandler } from "express";
import { rpcError } from "./jsonrpc.ts";


function hostname(hostHeader: string): string | undefined {
  try { return new URL(`http://${hostHeader}`).hostname.toLowerCase(); } catch { return undefined; }
}

/** Host header values remembered as allowed (parsing one with URL costs ~15 µs a request; issue 18). The header is
 *  the client's, so the memo is bounded: once full, further values are parsed every time. */
export const ALLOWED_HOST_MEMO_MAX = 32;

export function originGuard(allowedHosts: string[], allowedOrigins: string[]): RequestHandler {
  const hosts = new Set(allowedHosts.map((h) => h.toLowerCase()));
  const origins = new Set(allowedOrigins.map((o) => o.toLowerCase()));
  const allowedHeaders = new Set<string>();
  const hostAllowed = (header: string | undefined): boolean => {
    if (!header) return false;
    if (allowedHeaders.has(header)) return true;
    const host = hostname(header);
    if (!host || !hosts.has(host)) return false;
    if (allowedHeaders.size < ALLOWED_HOST_MEMO_MAX) allowedHeaders.add(header);
    return true;
  };
  return (req, res, next) => {
    if (!hostAllowed(req.headers.host)) { res.status(403).json(rpcError(-32000, "Forbidden: Host header not allowed")); return; }
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin.toLowerCase())) { res.status(403).json(rpcError(-32000, "Forbidden: Origin not allowed")); return; }
    next();
  };
}
