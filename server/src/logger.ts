// Structured JSON logs (pino) to stdout. Secrets are redacted by path wherever they could appear.
import { pino, type Logger } from "pino";

export const REDACT_PATHS = [
  "authorization", "cookie", "apiKey", "apiKeys", "token", "password",
  "*.authorization", "*.cookie", "*.apiKey", "*.apiKeys", "*.token", "*.password", '*["set-cookie"]', '*["x-api-key"]',
  "headers.authorization", "headers.cookie", '*.headers["x-api-key"]',
  "req.headers.authorization", "req.headers.cookie",
];

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
