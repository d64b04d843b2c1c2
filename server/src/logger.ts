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
 * Log output is buffered: written once LOG_BUFFER_BYTES have gathered, and at least every LOG_FLUSH_MS. pino's
 * default stdout destination (SonicBoom, sync: false, minLength 0) hands every line to the thread pool as its own
 * write(2) — under load the largest single cost of a call after the socket write itself (BENCHMARKS.md, issue 18).
 * A line reaches stdout at most LOG_FLUSH_MS late; pino registers the destination for a synchronous flush at process
 * exit (pino lib/tools.js buildSafeSonicBoom: sync false → on-exit-leak-free), so process.exit() loses nothing; a
 * SIGKILL can lose the last LOG_FLUSH_MS.
 */
const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_MS = 250;

/** The process logger: JSON lines to stdout, buffered (above), secrets redacted by path (REDACT_PATHS). */
export function createLogger(level: string): Logger {
  const options = {
    level,
    base: { service: "selfhosted-mcp-server" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const destination = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS });
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
