// Configuration from environment variables, validated with zod at start-up. A bad value produces a message that
// names the variable and the fix; main.ts prints it and exits 1.
import { readFileSync } from "node:fs";
import * as z from "zod";
import { checkApiKeyEntries } from "../../contract/api-keys.ts";
import { splitList } from "../../contract/list.ts";
import { meteringConfig, type MeteringConfig } from "./metering/config.ts";

export const int = (min: number, max: number, def: number, unit = "") => {
  const error = `must be an integer from ${min} to ${max}${unit}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error }).default(def);
};
export const port = (def: number) => int(1, 65535, def);
export const ms = (def: number, max: number) => int(1, max, def, " (milliseconds)");
/** A list setting (see list.ts for the splitting rule); `def` is used when the variable is unset or blank. */
export const list = (def = "") => z.string().default(def).transform(splitList);
export const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
export const bytes = (def: number, min: number, max: number) => int(min, max, def, " (bytes)");
export const MiB = 1024 * 1024;
/**
 * The upstream base URL. A path prefix and a query are kept (the query is sent with every request, e.g. a
 * commercial API's `apikey`); userinfo is refused (fetch refuses to send it: WHATWG Fetch, "request URL includes
 * credentials"), and so is a fragment (never sent).
 */
const upstreamUrl = httpUrl
  .refine((u) => { const x = new URL(u); return !x.username && !x.password; }, "must not contain user:password@ (fetch never sends it); put a credential in the query string or in front of the upstream")
  .refine((u) => !u.includes("#"), "must not contain a #fragment (it is never sent)");

/** A unix socket path to listen on (LISTEN_SOCKET). */
export const socketPath = z.string().regex(/^\/[^\0]*[^/]$/, "must be an absolute file path, e.g. /run/selfhosted-mcp/mcp.sock")
  .refine((p) => Buffer.byteLength(p) <= 107, "must be at most 107 bytes long (the unix socket path limit)");

/** The listeners' and HTTP surface's variables, shared with the gateway (gateway/src/config.ts). */
export const LISTENER_ENV = {
  PORT: port(8000),
  HOST: z.string().min(1).default("127.0.0.1"),
  // A unix socket the app also listens on (the deployment points nginx at it and switches slots with a symlink).
  LISTEN_SOCKET: socketPath.optional(),
  METRICS_PORT: port(9090),
  METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  // prom-client's eventLoopMonitoringPrecision: the event-loop delay histogram's timer period (its default, 10).
  METRICS_EVENT_LOOP_RESOLUTION_MS: ms(10, 60_000),
  PUBLIC_URL: httpUrl.optional(),
  ALLOWED_ORIGINS: list(),
  ALLOWED_HOSTS: list(),
};

/** The OAUTH_* variables (shared with the gateway); `requiredScopes` is OAUTH_REQUIRED_SCOPES' default. */
export const oauthEnv = (requiredScopes: string) => ({
  OAUTH_ISSUER: httpUrl.optional(),
  OAUTH_JWKS_URL: httpUrl.optional(),
  // RFC 8707 §2: a resource indicator is an absolute URI; compared in canonical form (auth.ts).
  OAUTH_AUDIENCE: z.url({ error: "must be an absolute URL (the resource indicator tokens are issued for, RFC 8707), e.g. https://mcp.example.com/mcp" }).optional(),
  OAUTH_CLOCK_TOLERANCE_S: int(0, 300, 5, " (seconds)"),
  OAUTH_METADATA_CHECK: z.enum(["required", "warn", "off"], { error: 'must be one of "required", "warn", "off"' }).default("warn"),
  OAUTH_REQUIRED_SCOPES: list(requiredScopes),
});

const EnvSchema = z.object({
  ...LISTENER_ENV,
  AUTH_MODE: z.enum(["none", "api-key", "oauth"], { error: 'must be one of "none", "api-key", "oauth"' }).default("api-key"),
  API_KEYS: z.string().optional(),
  API_KEYS_FILE: z.string().optional(),
  ...oauthEnv("mcp:tools"),
  DATA_DIR: z.string().min(1).default("./data"),
  UPSTREAM_URL: upstreamUrl.default("https://api.open-meteo.com"),
  UPSTREAM_MAX_BYTES: bytes(MiB, 1024, 64 * MiB),
  UPSTREAM_TIMEOUT_MS: ms(5000, 60_000),
  UPSTREAM_RETRIES: int(0, 5, 2),
  HEALTH_CACHE_MS: ms(30_000, 3_600_000),
  HEALTH_UPSTREAM_TIMEOUT_MS: ms(2000, 30_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { error: "must be one of fatal, error, warn, info, debug, trace, silent" }).default("info"),
  MCP_SESSIONS: z.enum(["stateless", "stateful"], { error: 'must be "stateless" or "stateful"' }).default("stateless"),
  MAX_SESSIONS: int(1, 100_000, 1000),
  MAX_SESSIONS_PER_CREDENTIAL: int(1, 100_000, 32),
  MAX_SESSION_INIT_BYTES: bytes(64 * 1024, 1024, MiB),
  MAX_BATCH_CALLS: int(1, 100, 10),
  NOTES_QUOTA_BYTES: bytes(10 * MiB, 1024, 1024 * MiB),
  NOTES_TOTAL_QUOTA_BYTES: bytes(1024 * MiB, 1024, 1024 * 1024 * MiB),
  SEARCH_TIMEOUT_MS: ms(2000, 60_000),
  SESSION_IDLE_MS: ms(30 * 60_000, 24 * 3_600_000),
  MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024, 1024 * 1024, " (bytes)"),
  SHUTDOWN_TIMEOUT_MS: ms(10_000, 120_000),
  REQUEST_TIMEOUT_MS: ms(60_000, 600_000),
  // Metering and the plan gate (metering/config.ts turns these into Config.metering).
  METER: z.enum(["ledger", "webhook", "off"], { error: 'must be one of "ledger", "webhook", "off"' }).default("ledger"),
  METER_WEBHOOK_URL: httpUrl.optional(),
  METER_WEBHOOK_SECRET: z.string().min(16, "must be at least 16 characters (generate one with: openssl rand -hex 32)").optional(),
  METER_WEBHOOK_BATCH: int(1, 1000, 100, " (events per POST)"),
  METER_WEBHOOK_TIMEOUT_MS: ms(5000, 60_000),
  METER_WEBHOOK_BACKOFF_MS: ms(1000, 60_000),
  METER_WEBHOOK_MAX_BACKOFF_MS: ms(300_000, 3_600_000),
  API_KEY_PLANS: list(),
  PLAN_CLAIM: z.string().regex(/^[A-Za-z_][\w.:/-]{0,99}$/, "must be a JWT claim name, e.g. plan").default("plan"),
  PLAN_DEFAULT: z.enum(["free", "paid"], { error: 'must be "free" or "paid"' }).default("paid"),
});

export type AuthConfig =
  | { mode: "none" }
  | { mode: "api-key"; keys: string[] }
  | OAuthConfig;

/**
 * AUTH_MODE=oauth. `keys`: API keys accepted next to access tokens (API_KEYS / API_KEYS_FILE when set; a service
 * client such as the gateway in front of several servers), each granted `requiredScopes`. `scopesSupported` and
 * `resourceName` go into the RFC 9728 metadata (default: requiredScopes, the reference server's name).
 */
export interface OAuthConfig {
  mode: "oauth"; issuer: string; jwksUrl: string; audience: string; requiredScopes: string[]; clockToleranceS: number;
  metadataCheck: "required" | "warn" | "off"; keys?: string[]; scopesSupported?: string[]; resourceName?: string;
}

/** Bounds on every input that costs memory, disk or CPU (docs/server.md, "Limits"). */
export interface Limits {
  /** Live stateful sessions, all credentials together; when full, the biggest holder's least recently used one is closed. */
  maxSessions: number;
  /** Live stateful sessions of one credential; when full, that credential's least recently used one is closed. */
  maxSessionsPerCredential: number;
  /** Bytes of an `initialize` request body that opens a stateful session (its payload is kept for the session). */
  maxSessionInitBytes: number;
  /** Calls in one JSON-RPC batch (only protocol 2025-03-26 has batches). */
  maxBatchCalls: number;
  /** Bytes of one upstream response body after decompression (the Content-Length is checked against it first). */
  upstreamMaxBytes: number;
  /** Bytes of notes (title + body + tags) one credential may store, and all credentials together. */
  notesQuotaBytes: number;
  notesTotalQuotaBytes: number;
  /** Longest a search may run (in its worker thread) before it is stopped with an error. */
  searchTimeoutMs: number;
}

/** Where the app listens and what it answers to (LISTENER_ENV); shared with the gateway. */
export interface ListenerConfig {
  port: number;
  host: string;
  /** Unix socket the MCP app also listens on (mode 0666, replacing a stale file), or undefined. */
  listenSocket: string | undefined;
  metricsPort: number;
  metricsHost: string;
  /**
   * METRICS_EVENT_LOOP_RESOLUTION_MS (default 10, 1-60000): the period of the timer behind the nodejs_eventloop_lag_*
   * summary metrics (prom-client collectDefaultMetrics `eventLoopMonitoringPrecision`, Node's monitorEventLoopDelay
   * `resolution`). Each sample is the time between two of its firings, so the reported lag includes it; the timer
   * wakes an idle process 1000/resolution times a second.
   */
  eventLoopResolutionMs: number;
  publicUrl: string;
  /** The MCP endpoint's absolute URL: the OAuth resource identifier. */
  resourceUrl: string;
  allowedOrigins: string[];
  allowedHosts: string[];
}

export interface Config extends ListenerConfig {
  auth: AuthConfig;
  dataDir: string;
  upstream: { url: string; timeoutMs: number; retries: number; maxBytes: number };
  health: { cacheMs: number; upstreamTimeoutMs: number };
  logLevel: string;
  sessions: "stateless" | "stateful";
  limits: Limits;
  sessionIdleMs: number;
  maxBodyBytes: number;
  shutdownTimeoutMs: number;
  /** Every request to /mcp is answered within this (request-deadline.ts): its result, or a -32603 error. */
  requestTimeoutMs: number;
  metering: MeteringConfig;
}

export class ConfigError extends Error {}

/** Runs `f`, turning a thrown message string (metering/config.ts returns plain strings) into a ConfigError. */
function withConfigError<T>(f: () => T | string): T {
  const r = f();
  if (typeof r === "string") throw new ConfigError(r);
  return r;
}

const LOOPBACK = ["127.0.0.1", "localhost", "[::1]"];

/**
 * The raw entries of API_KEYS (comma/whitespace-separated) or API_KEYS_FILE (a file, same splitting) and the name of
 * the variable they came from. Shared with the gateway (gateway/src/config.ts), whose entries also carry grants.
 */
export function readKeyEntries(env: { API_KEYS?: string | undefined; API_KEYS_FILE?: string | undefined }): { name: string; entries: string[] } {
  if (env.API_KEYS && env.API_KEYS_FILE) throw new ConfigError("API_KEYS and API_KEYS_FILE are both set: set only one of them");
  let raw = env.API_KEYS ?? "";
  if (env.API_KEYS_FILE) {
    try { raw = readFileSync(env.API_KEYS_FILE, "utf8"); } catch (e) {
      throw new ConfigError(`API_KEYS_FILE: cannot read ${env.API_KEYS_FILE} (${(e as NodeJS.ErrnoException).code ?? "error"}): point it at a readable file with one key per line`);
    }
  }
  return { name: env.API_KEYS_FILE ? "API_KEYS_FILE" : "API_KEYS", entries: splitList(raw) };
}

/**
 * Checks API keys read from the variable `name` against the shared rule (contract/api-keys.ts: at least one, each
 * ≥ 16 characters and a b64token). Returns the keys; throws ConfigError naming the variable. Shared with the gateway.
 */
export function checkApiKeyList(name: string, keys: string[]): string[] {
  if (keys.length === 0) throw new ConfigError(`${name}: AUTH_MODE=api-key needs at least one key in API_KEYS (comma-separated) or API_KEYS_FILE (one per line); set AUTH_MODE=none explicitly to run without auth`);
  const checked = checkApiKeyEntries(keys);
  if (checked.keys) return checked.keys;
  throw new ConfigError(`${name}: ${checked.problem}`);
}

function readKeys(env: z.infer<typeof EnvSchema>): string[] {
  const { name, entries } = readKeyEntries(env);
  return checkApiKeyList(name, entries);
}

function authConfig(env: z.infer<typeof EnvSchema>, resourceUrl: string): AuthConfig {
  switch (env.AUTH_MODE) {
    case "none": return { mode: "none" };
    case "api-key": return { mode: "api-key", keys: readKeys(env) };
    case "oauth": {
      const keys = env.API_KEYS || env.API_KEYS_FILE ? readKeys(env) : undefined;
      return { ...oauthConfig(env, resourceUrl), ...(keys ? { keys } : {}) };
    }
  }
}

type OAuthEnv = z.infer<z.ZodObject<ReturnType<typeof oauthEnv>>>;

/** AUTH_MODE=oauth from the OAUTH_* variables (shared with the gateway); the audience defaults to `resourceUrl`. */
export function oauthConfig(env: OAuthEnv, resourceUrl: string): OAuthConfig {
  if (!env.OAUTH_ISSUER) throw new ConfigError("OAUTH_ISSUER: required when AUTH_MODE=oauth (the authorization server's issuer URL)");
  if (!env.OAUTH_JWKS_URL) throw new ConfigError("OAUTH_JWKS_URL: required when AUTH_MODE=oauth (the issuer's JWKS URL, e.g. its jwks_uri)");
  return {
    mode: "oauth", issuer: env.OAUTH_ISSUER, jwksUrl: env.OAUTH_JWKS_URL, audience: new URL(env.OAUTH_AUDIENCE ?? resourceUrl).href,
    requiredScopes: env.OAUTH_REQUIRED_SCOPES, clockToleranceS: env.OAUTH_CLOCK_TOLERANCE_S, metadataCheck: env.OAUTH_METADATA_CHECK,
  };
}

/**
 * Reads the variables `schema` names from `source` (values trimmed; blank = unset) and validates them. Throws a
 * ConfigError naming the first bad variable, its value (unless the name says it is a secret) and the rule.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, source: NodeJS.ProcessEnv): z.infer<S> {
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = source[key];
    env[key] = v === undefined || v.trim() === "" ? undefined : v.trim();
  }
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? "environment");
    const shown = /KEY|SECRET|TOKEN/.test(name) ? "" : ` ${JSON.stringify(env[name] ?? "")}`;
    throw new ConfigError(`${name}: invalid value${shown}: ${issue.message}`);
  }
  return parsed.data;
}

export interface HttpSurface { publicUrl: string; resourceUrl: string; allowedOrigins: string[]; allowedHosts: string[] }

/**
 * The public URL (PUBLIC_URL, default http://HOST:PORT), the /mcp resource URL, and the Host/Origin allow-lists
 * (origin.ts): the public origin and loopback unless ALLOWED_ORIGINS is set; the public host, loopback and ALLOWED_HOSTS.
 */
export function httpSurface(e: { PUBLIC_URL?: string | undefined; HOST: string; PORT: number; ALLOWED_ORIGINS: string[]; ALLOWED_HOSTS: string[] }): HttpSurface {
  const publicUrl = (e.PUBLIC_URL ?? `http://${e.HOST.includes(":") ? `[${e.HOST}]` : e.HOST}:${e.PORT}`).replace(/\/+$/, "");
  const pub = new URL(publicUrl);
  const loopbackOrigins = LOOPBACK.map((h) => `http://${h}:${e.PORT}`);
  const allowedOrigins = e.ALLOWED_ORIGINS.length > 0 ? e.ALLOWED_ORIGINS : [pub.origin, ...loopbackOrigins];
  for (const o of allowedOrigins) {
    if (!URL.canParse(o) || new URL(o).origin !== o) throw new ConfigError(`ALLOWED_ORIGINS: ${JSON.stringify(o)} is not an origin (scheme://host[:port], no path)`);
  }
  const allowedHosts = [...new Set([pub.hostname, ...LOOPBACK, ...e.ALLOWED_HOSTS].map((h) => h.toLowerCase()))];
  return { publicUrl, resourceUrl: `${publicUrl}/mcp`, allowedOrigins, allowedHosts };
}

/** Parses and validates the environment; throws ConfigError naming the variable on bad input. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const e = parseEnv(EnvSchema, source);
  const { publicUrl, resourceUrl, allowedOrigins, allowedHosts } = httpSurface(e);
  const auth = authConfig(e, resourceUrl);
  return {
    port: e.PORT, host: e.HOST, listenSocket: e.LISTEN_SOCKET, metricsPort: e.METRICS_PORT, metricsHost: e.METRICS_HOST, eventLoopResolutionMs: e.METRICS_EVENT_LOOP_RESOLUTION_MS,
    publicUrl, resourceUrl, allowedOrigins, allowedHosts,
    auth,
    dataDir: e.DATA_DIR,
    upstream: { url: e.UPSTREAM_URL, timeoutMs: e.UPSTREAM_TIMEOUT_MS, retries: e.UPSTREAM_RETRIES, maxBytes: e.UPSTREAM_MAX_BYTES },
    health: { cacheMs: e.HEALTH_CACHE_MS, upstreamTimeoutMs: e.HEALTH_UPSTREAM_TIMEOUT_MS },
    logLevel: e.LOG_LEVEL, sessions: e.MCP_SESSIONS, sessionIdleMs: e.SESSION_IDLE_MS,
    limits: {
      maxSessions: e.MAX_SESSIONS, maxSessionsPerCredential: Math.min(e.MAX_SESSIONS_PER_CREDENTIAL, e.MAX_SESSIONS),
      maxSessionInitBytes: e.MAX_SESSION_INIT_BYTES, maxBatchCalls: e.MAX_BATCH_CALLS, upstreamMaxBytes: e.UPSTREAM_MAX_BYTES,
      notesQuotaBytes: e.NOTES_QUOTA_BYTES, notesTotalQuotaBytes: e.NOTES_TOTAL_QUOTA_BYTES, searchTimeoutMs: e.SEARCH_TIMEOUT_MS,
    },
    maxBodyBytes: e.MAX_BODY_BYTES, shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS, requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    metering: withConfigError(() => meteringConfig(e, auth)),
  };
}
