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

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "selfhosted-mcp-server" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  });
}

export type { Logger };
