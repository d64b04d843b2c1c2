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

/** pino's stdTimeFunctions.isoTime, formatted once per millisecond (lines in the same millisecond share it). */
let lastMs = -1;
let lastTime = "";
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) { lastMs = now; lastTime = `,"time":"${new Date(now).toISOString()}"`; }
  return lastTime;
}

/** Bytes of hot log lines (tool_call) gathered before one write(2) to stdout; see createLogger. */
export const LOG_BUFFER_BYTES = 4096;
/** Longest a buffered log line waits for its write, in milliseconds. */
export const LOG_FLUSH_MS = 100;

/**
 * The process logger: JSON lines to stdout, each carrying `service` (default: the reference server's name), secrets
 * redacted by path (REDACT_PATHS). One pino destination (SonicBoom, async) is shared with fixedFieldsLogger's twin so
 * that lines stay in order and whole. The twin's per-call lines are gathered up to LOG_BUFFER_BYTES and written at
 * least every LOG_FLUSH_MS (one write(2) for many calls: the per-line write was ~4 % of a tools/call's CPU, issue 18);
 * every other line (start-up, shutdown, warnings, errors) is written at once, with whatever was gathered before it.
 * Before process.exit, await flushLogs (pino's own exit flush can overtake a write in flight); a SIGKILL can lose the
 * last ~LOG_FLUSH_MS of per-call lines.
 */
export function createLogger(level: string, service = "selfhosted-mcp-server"): Logger {
  const options = {
    level,
    base: { service },
    timestamp: isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const destination = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES });
  // SonicBoom's buffered length `_len`; should it ever be missing, flush anyway (an empty write is harmless).
  const buffered = () => (destination as unknown as { _len?: number })._len ?? 1;
  const writing = () => (destination as unknown as { _writing?: boolean })._writing === true;
  // A timer only while lines wait (an idle server wakes for nothing: a timer every LOG_FLUSH_MS cost a droplet VM
  // under TCG ~1 % of a host core per container, docs/rehearsal.md). flush() does nothing while a write is in
  // flight, so then the timer takes another turn.
  let flushTimer: NodeJS.Timeout | undefined;
  const flushSoon = () => {
    if (flushTimer) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      if (buffered() === 0) return;
      if (writing()) flushSoon(); // its bytes still count in _len until the write ends
      else destination.flush();
    }, LOG_FLUSH_MS).unref();
  };
  // flush() does nothing while a write is in flight, and what is left after it stays buffered below minLength: flush
  // again when that write ends ('drain': SonicBoom is idle again), with one listener however many lines come meanwhile.
  let flushOnDrain = false;
  const writeNow = () => {
    destination.flush();
    if (flushOnDrain) return;
    flushOnDrain = true;
    destination.once("drain", () => { flushOnDrain = false; if (buffered() > 0) destination.flush(); });
  };
  const hooks = { logMethod(this: Logger, args: Parameters<Logger["info"]>, method: Logger["info"]) { method.apply(this, args); writeNow(); } };
  const logger = pino({ ...options, hooks, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, destination);
  const gathered = { logMethod(this: Logger, args: Parameters<Logger["info"]>, method: Logger["info"]) { method.apply(this, args); if (buffered() > 0) flushSoon(); } };
  UNREDACTED.set(logger, pino({ ...options, hooks: gathered }, destination));
  return logger;
}

/**
 * Resolves once every line logged so far is written (or after `timeoutMs`, default 2000 ms). Call it before
 * `process.exit`: pino's exit hook writes what is buffered synchronously, and that can overtake a write still in
 * flight, so lines would come out of order.
 */
export function flushLogs(logger: Logger, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    logger.flush(() => { clearTimeout(timer); resolve(); }); // the callback's error (fsync of a pipe: EINVAL) is moot
  });
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
