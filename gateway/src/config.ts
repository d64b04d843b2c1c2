// The gateway's configuration from environment variables, validated with zod at start-up (docs/gateway.md,
// "Configuration"). The shared settings (ports, public URL, Host/Origin lists, API keys, OAUTH_*) follow the reference
// server's rules by reusing its builders (server/src/config.ts); a bad value fails with the variable's name and the fix.
import * as z from "zod";
import {
  ConfigError, LISTENER_ENV, socketPath, bytes, checkApiKeyList, httpSurface, httpUrl, int, list, ms, oauthConfig, oauthEnv, parseEnv,
  readKeyEntries, MiB, type ListenerConfig, type OAuthConfig,
} from "../../server/src/config.ts";
import { isB64Token } from "../../contract/bearer.ts";
import { splitKeyGrant } from "../../contract/api-keys.ts";
import { defaultUpstreamScope, SCOPE_TOKEN, upstreamVar } from "../../contract/gateway-env.ts";
import { SERVER_NAME_SOURCE, TOOL_NAME_MAX_LIMIT } from "./names.ts";

export { ConfigError };

const EnvSchema = z.object({
  ...LISTENER_ENV,
  AUTH_MODE: z.enum(["none", "api-key", "oauth"], { error: 'must be one of "none", "api-key", "oauth"' }).default("api-key"),
  // No scope is required of every token: each upstream has its own (UPSTREAM_<NAME>_SCOPE).
  ...oauthEnv(""),
  API_KEYS: z.string().optional(),
  API_KEYS_FILE: z.string().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { error: "must be one of fatal, error, warn, info, debug, trace, silent" }).default("info"),
  UPSTREAMS: z.string({ error: "required: the upstream servers' names, comma-separated, e.g. weather,notes (each needs UPSTREAM_<NAME>_URL)" }),
  UPSTREAM_TIMEOUT_MS: ms(60_000, 600_000),
  UPSTREAM_CONNECT_TIMEOUT_MS: ms(5000, 60_000),
  UPSTREAM_MAX_BYTES: bytes(4 * MiB, 1024, 64 * MiB),
  UPSTREAM_MAX_INFLIGHT: int(1, 1000, 16, " (calls in flight per upstream)"),
  LIST_TTL_MS: ms(60_000, 24 * 3_600_000),
  HEALTH_CACHE_MS: ms(5000, 3_600_000),
  HEALTH_TIMEOUT_MS: ms(2000, 30_000),
  TOOL_NAME_MAX: int(32, TOOL_NAME_MAX_LIMIT, 64, " (characters)"),
  MAX_SESSIONS: int(1, 100_000, 1000),
  MAX_SESSIONS_PER_CREDENTIAL: int(1, 100_000, 32),
  SESSION_IDLE_MS: ms(30 * 60_000, 24 * 3_600_000),
  MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024, 1024 * 1024, " (bytes)"),
  SHUTDOWN_TIMEOUT_MS: ms(10_000, 120_000),
  REQUEST_TIMEOUT_MS: ms(120_000, 900_000),
});

export interface UpstreamConfig {
  /** The namespace of its tools and prompts (`<name>__<tool>`), its label in metrics, logs and /health. */
  name: string;
  /** Its MCP endpoint (Streamable HTTP), e.g. http://127.0.0.1:8001/mcp; with `socket`, the path and Host sent there. */
  url: string;
  /** A unix socket to reach it through instead of the URL's host and port (UPSTREAM_<NAME>_SOCKET). */
  socket?: string;
  /** Bearer token the gateway presents to it (UPSTREAM_<NAME>_TOKEN), if it requires one. */
  token?: string;
  /** AUTH_MODE=oauth: an access token may use this upstream when its scopes include this one (UPSTREAM_<NAME>_SCOPE). */
  scope: string;
}

export interface GatewayLimits {
  /** Longest wait for one upstream answer (a call, a list page, a read), ms; then the call is cancelled upstream. */
  upstreamTimeoutMs: number;
  /** Longest wait to (re)connect to an upstream (initialize), ms. */
  connectTimeoutMs: number;
  /** Bytes of one upstream HTTP response body (JSON or SSE stream); more aborts that request. */
  upstreamMaxBytes: number;
  /** Calls in flight to one upstream; more are refused at once (not queued). */
  upstreamMaxInflight: number;
  /** How long an upstream's tool/prompt/resource lists are reused before they are fetched again, ms. */
  listTtlMs: number;
  healthCacheMs: number;
  healthTimeoutMs: number;
  /** Longest gateway tool/prompt name (names.ts). */
  toolNameMax: number;
  maxSessions: number;
  maxSessionsPerCredential: number;
  sessionIdleMs: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
}

/** Each API key and the upstream names it may use (every upstream unless its entry names some). */
export type KeyGrants = Map<string, ReadonlySet<string>>;

/**
 * api-key: the keys and their grants. oauth: access tokens (the reference server's resource-server rules, with the
 * gateway's metadata), each upstream granted by its `scope`; API keys with grants too when API_KEYS is set.
 */
export type GatewayAuth = { mode: "none" } | { mode: "api-key"; keys: string[]; grants: KeyGrants }
  | { mode: "oauth"; oauth: OAuthConfig; grants: KeyGrants };

export interface GatewayConfig extends ListenerConfig {
  auth: GatewayAuth;
  logLevel: string;
  upstreams: UpstreamConfig[];
  limits: GatewayLimits;
  shutdownTimeoutMs: number;
}

const SERVER_NAME = new RegExp(`^${SERVER_NAME_SOURCE}$`);
export { upstreamVar };

function readUpstreams(raw: string, source: NodeJS.ProcessEnv): UpstreamConfig[] {
  const names = list().parse(raw);
  if (names.length === 0) throw new ConfigError("UPSTREAMS: names no upstream; list at least one, e.g. UPSTREAMS=weather,notes");
  const bad = names.find((n) => !SERVER_NAME.test(n));
  if (bad !== undefined) throw new ConfigError(`UPSTREAMS: ${JSON.stringify(bad)} is not an upstream name: 1-20 characters, a lowercase letter first, then lowercase letters, digits and - (no _: "__" separates the name from the tool name)`);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new ConfigError(`UPSTREAMS: ${JSON.stringify(twice)} is listed twice; each upstream needs its own name`);
  return names.map((name) => {
    const socketVar = upstreamVar(name, "SOCKET");
    const socket = source[socketVar]?.trim() || undefined;
    const checked = socket === undefined ? undefined : socketPath.safeParse(socket);
    if (checked && !checked.success) throw new ConfigError(`${socketVar}: invalid value ${JSON.stringify(socket)}: ${checked.error.issues[0]!.message}`);
    const urlVar = upstreamVar(name, "URL");
    // Over a socket the URL only gives the path and Host header.
    const url = source[urlVar]?.trim() || (socket ? "http://localhost/mcp" : undefined);
    if (!url) throw new ConfigError(`${urlVar}: required for upstream ${JSON.stringify(name)}: its MCP endpoint, e.g. http://127.0.0.1:8001/mcp (or set ${socketVar})`);
    const parsed = httpUrl.safeParse(url);
    if (!parsed.success || new URL(url).username || new URL(url).password || url.includes("#")) {
      throw new ConfigError(`${urlVar}: invalid value ${JSON.stringify(url)}: must be an http(s) URL without user:password@ or #fragment (put a credential in ${upstreamVar(name, "TOKEN")})`);
    }
    const tokenVar = upstreamVar(name, "TOKEN");
    const token = source[tokenVar]?.trim() || undefined;
    if (token !== undefined && !isB64Token(token)) throw new ConfigError(`${tokenVar}: contains characters a bearer token cannot carry (RFC 6750 §2.1 b64token)`);
    const scopeVar = upstreamVar(name, "SCOPE");
    const scope = source[scopeVar]?.trim() || defaultUpstreamScope(name);
    if (!SCOPE_TOKEN.test(scope)) throw new ConfigError(`${scopeVar}: invalid value ${JSON.stringify(scope)}: must be one OAuth scope (RFC 6749 §3.3: printable ASCII without space, " or \\), e.g. ${defaultUpstreamScope(name)}`);
    return { name, url, ...(socket ? { socket } : {}), ...(token ? { token } : {}), scope };
  });
}

/**
 * API keys with grants. An entry of API_KEYS / API_KEYS_FILE (split like the server's: commas and whitespace) is
 * `<key>` (every upstream) or `<key>:<upstream>[+<upstream>…]` (only those). `:` and `+` after the key are unambiguous:
 * `:` is not a b64token character, and `+` is not allowed in upstream names.
 */
function readGrants(env: { API_KEYS?: string | undefined; API_KEYS_FILE?: string | undefined }, upstreams: UpstreamConfig[]): { keys: string[]; grants: KeyGrants } {
  const { name, entries } = readKeyEntries(env);
  const known = new Set(upstreams.map((u) => u.name));
  const grants = new Map<string, ReadonlySet<string>>();
  entries.forEach((entry, i) => {
    const { key, servers } = splitKeyGrant(entry);
    const named = servers ?? [...known];
    const unknown = named.find((n) => !known.has(n));
    if (unknown !== undefined) throw new ConfigError(`${name}: key ${i + 1} grants ${JSON.stringify(unknown)}, which is not in UPSTREAMS (${[...known].join(", ")}); write <key>:<upstream>[+<upstream>…]`);
    if (grants.has(key)) throw new ConfigError(`${name}: key ${i + 1} is listed twice; give it all its upstreams in one entry`);
    grants.set(key, new Set(named));
  });
  return { keys: checkApiKeyList(name, [...grants.keys()]), grants };
}

function gatewayAuth(e: z.infer<typeof EnvSchema>, resourceUrl: string, upstreams: UpstreamConfig[]): GatewayAuth {
  if (e.AUTH_MODE === "none") return { mode: "none" };
  if (e.AUTH_MODE === "api-key") return { mode: "api-key", ...readGrants(e, upstreams) };
  const { keys, grants } = e.API_KEYS || e.API_KEYS_FILE ? readGrants(e, upstreams) : { keys: undefined, grants: new Map() };
  const oauth: OAuthConfig = {
    ...oauthConfig(e, resourceUrl), ...(keys ? { keys } : {}), resourceName: "selfhosted-mcp gateway",
    // RFC 9728 §2 scopes_supported: what a client asks for to use this resource — each upstream's scope.
    scopesSupported: [...new Set([...e.OAUTH_REQUIRED_SCOPES, ...upstreams.map((u) => u.scope)])],
  };
  return { mode: "oauth", oauth, grants };
}

/** Memory one open session holds in the gateway, MB: 0.36 measured (BENCHMARKS.md, 300 sessions), rounded up. */
export const SESSION_MB = 0.5;
/** The gateway's memory without sessions, MB: 35 measured idle (cgroup charge), with room for lists and calls in flight. */
export const BASE_MB = 64;

/**
 * MAX_SESSIONS when the variable is unset: 1000, or as many sessions as fit the process's memory limit when it has
 * one (`process.constrainedMemory()`: the container's cgroup limit), (limit - BASE_MB) / SESSION_MB, at least 1. So
 * idle sessions (kept SESSION_IDLE_MS) cannot grow the gateway into its OOM kill, which would end every session.
 */
export function defaultMaxSessions(constrainedBytes: number | undefined): number {
  if (!constrainedBytes || constrainedBytes >= 2 ** 50) return 1000;
  return Math.max(1, Math.min(1000, Math.floor((constrainedBytes / MiB - BASE_MB) / SESSION_MB)));
}

/** Parses and validates the gateway's environment; throws ConfigError naming the variable on bad input. */
export function loadGatewayConfig(source: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const e = parseEnv(EnvSchema, source);
  const surface = httpSurface(e);
  const upstreams = readUpstreams(e.UPSTREAMS, source);
  const auth = gatewayAuth(e, surface.resourceUrl, upstreams);
  if (e.UPSTREAM_TIMEOUT_MS >= e.REQUEST_TIMEOUT_MS) {
    throw new ConfigError(`UPSTREAM_TIMEOUT_MS: ${e.UPSTREAM_TIMEOUT_MS} must be below REQUEST_TIMEOUT_MS (${e.REQUEST_TIMEOUT_MS}), so an upstream's timeout reaches the client as the upstream's error`);
  }
  const maxSessions = source.MAX_SESSIONS?.trim() ? e.MAX_SESSIONS : defaultMaxSessions(process.constrainedMemory());
  return {
    port: e.PORT, host: e.HOST, listenSocket: e.LISTEN_SOCKET, metricsPort: e.METRICS_PORT, metricsHost: e.METRICS_HOST, eventLoopResolutionMs: e.METRICS_EVENT_LOOP_RESOLUTION_MS,
    ...surface, auth, logLevel: e.LOG_LEVEL, upstreams, shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    limits: {
      upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS, connectTimeoutMs: e.UPSTREAM_CONNECT_TIMEOUT_MS, upstreamMaxBytes: e.UPSTREAM_MAX_BYTES,
      upstreamMaxInflight: e.UPSTREAM_MAX_INFLIGHT, listTtlMs: e.LIST_TTL_MS, healthCacheMs: e.HEALTH_CACHE_MS,
      healthTimeoutMs: e.HEALTH_TIMEOUT_MS, toolNameMax: e.TOOL_NAME_MAX, maxSessions,
      maxSessionsPerCredential: Math.min(e.MAX_SESSIONS_PER_CREDENTIAL, maxSessions), sessionIdleMs: e.SESSION_IDLE_MS,
      maxBodyBytes: e.MAX_BODY_BYTES, requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    },
  };
}

