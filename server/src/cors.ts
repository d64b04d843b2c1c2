// CORS for browser MCP clients (Fetch standard, "CORS protocol"). Runs after the Host/Origin guard (origin.ts), so
// any Origin that reaches it is in ALLOWED_ORIGINS. A preflight (`OPTIONS` with Access-Control-Request-Method) is
// answered here, before auth: browsers send it without credentials (Fetch §4.8 "CORS-preflight fetch"), so a 401
// would fail every browser client. Every answer to an allowed Origin names it and exposes the headers an MCP
// client must read: Mcp-Session-Id (session), WWW-Authenticate (OAuth discovery), Mcp-Protocol-Version.
import type { RequestHandler } from "express";

export const EXPOSED_HEADERS = "Mcp-Session-Id, WWW-Authenticate, Mcp-Protocol-Version";
export const ALLOWED_HEADERS = "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID, X-Request-Id";
const PREFLIGHT_MAX_AGE_S = 600;

/** CORS headers for allowed origins; answers preflights with 204 (`methods`: the methods the route accepts). */
export function cors(methods: string): RequestHandler {
  return (req, res, next) => {
    res.vary("Origin");
    const origin = req.headers.origin;
    if (origin === undefined) { next(); return; }
    res.set("Access-Control-Allow-Origin", origin);
    res.set("Access-Control-Expose-Headers", EXPOSED_HEADERS);
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      res.set({
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": String(PREFLIGHT_MAX_AGE_S),
      }).status(204).end();
      return;
    }
    next();
  };
}
