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

/** For each logger from createLogger: a twin without the redaction pass (see fixedFieldsLogger). */
const UNREDACTED = new WeakMap<Logger, Logger>();

/**
 * The process logger: JSON lines to stdout, each carrying `service` (default: the reference server's name), secrets redacted by path (REDACT_PATHS). The destination is pino's default
 * made explicit (SonicBoom, sync: false, minLength 0: each line is written at once; lines logged while a write is in
 * flight go out together in the next one; pino flushes synchronously at exit), shared with fixedFieldsLogger's twin
 * so that their lines stay in order and whole. Not buffered further: operators and tests read lines as they happen.
 */
export function createLogger(level: string, service = "selfhosted-mcp-server"): Logger {
  const options = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const destination = pino.destination({ dest: 1, sync: false });
  const logger = pino({ ...options, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, destination);
  UNREDACTED.set(logger, pino(options, destination));
  return logger;
}

/**
 * The same logger (same level, format and destination) without redaction, for a hot line whose fields the code fixes
 * and none of which can hold a secret — the per-call tool_call line (tools/instrument.ts: names, ids, duration,
 * outcome, error type). Redaction walks every REDACT_PATHS pattern, wildcards included, through each line: most
 * of a log line's cost (BENCHMARKS.md, issue 18). Any other logger is returned as is.
 */
export function fixedFieldsLogger(logger: Logger): Logger {
  return UNREDACTED.get(logger) ?? logger;
}

export type { Logger };
