// Structured JSON logs (pino) to stdout. Secrets are redacted by path wherever they could appear.
import { pino, type Logger } from "pino";

const REDACT_PATHS = [
  "authorization", "cookie", "apiKey", "apiKeys", "token", "password",
  "*.authorization", "*.cookie", "*.apiKey", "*.apiKeys", "*.token", "*.password", '*["set-cookie"]', '*["x-api-key"]',
  "headers.authorization", "headers.cookie", '*.headers["x-api-key"]',
  "req.headers.authorization", "req.headers.cookie", 'req.headers["proxy-authorization"]', 'req.headers["x-api-key"]',
  '*["proxy-authorization"]',
];

/** A request URL fit for logs: the path only; query strings can carry credentials (`?access_token=…`). */
export function loggableUrl(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : `${url.slice(0, q)}?[redacted]`;
}

/**
 * The request headers that may be logged (an allow-list: any other header — Authorization, Cookie, X-Api-Key or a
 * vendor's token header — never reaches a log line, at any LOG_LEVEL). Mcp-Session-Id is left out too: it is a
 * bearer-like handle to a session.
 */
export const LOGGED_HEADERS = [
  "host", "user-agent", "content-type", "content-length", "content-encoding", "accept", "accept-encoding", "origin",
  "mcp-protocol-version", "last-event-id", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip",
] as const;

/** The allow-listed headers of a request, for a log line. */
export function loggableHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of LOGGED_HEADERS) { const v = headers[name]; if (v !== undefined) out[name] = v; }
  return out;
}

/** A JSON logger at `level`; every line carries `service` (default: the reference server's name). */
export function createLogger(level: string, service = "selfhosted-mcp-server"): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  });
}

export type { Logger };
