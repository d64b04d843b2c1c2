// Options of the nginx site renderer: a zod schema with production defaults. Every error names the option
// (its path, e.g. `servers[1].limits.perIp.rate`) and says what a valid value looks like.
import * as z from "zod";
import { domain, absPath, appName } from "../contract/values.ts";
import { parseArgs } from "../contract/args-error.ts";

/** Let's Encrypt's ACME directories; any other ACME server is selected by its directory URL. */
export const ACME_DIRECTORIES = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

export const DEFAULT_UPSTREAM_INCLUDE_DIR = "/etc/nginx/selfhosted-mcp";
export const DEFAULT_ACME_WEBROOT = "/var/www/selfhosted-mcp-acme";
export const DEFAULT_CERTBOT_CONFIG_DIR = "/etc/letsencrypt";

/** The shared value rules (contract/values.ts); re-exported under the names this module always had. */
export { domain, absPath };
const name = appName;
const rate = z.string().regex(/^[1-9][0-9]{0,5}r\/[sm]$/,
  'must be a positive request rate such as "10r/s" or "600r/m" (a rate of 0 is not allowed: disable the limit with false)');
const burst = z.number().int("must be a whole number").min(0).max(10_000);
const size = z.string().regex(/^[1-9][0-9]{0,6}[km]?$/, 'must be a positive size such as "1m", "512k" or "1048576"');
const seconds = (max: number) => z.number().int("must be a whole number of seconds").min(1).max(max);

const requestLimit = (defRate: string, defBurst: number) =>
  z.union([z.literal(false), z.object({ rate, burst: burst.default(defBurst) }).strict()])
    .default({ rate: defRate, burst: defBurst });

const limitsSchema = z.object({
  /** Requests per client IP (limit_req keyed by $binary_remote_addr). */
  perIp: requestLimit("10r/s", 20),
  /** Requests per credential (limit_req keyed by the bearer token's tail, never logged). */
  perCredential: requestLimit("5r/s", 10),
  /** Concurrent requests (incl. open streams) per client IP (limit_conn); false disables. */
  connectionsPerIp: z.union([z.literal(false), z.number().int().min(1).max(100_000)]).default(20),
  /** client_max_body_size: larger bodies get 413. */
  maxBodySize: size.default("1m"),
  /** proxy_read_timeout / proxy_send_timeout: how long a stream may stay silent. */
  readTimeoutSeconds: seconds(86_400).default(3600),
  /** Retry-After on 429; default: the slowest enabled rate's interval, at least 1 s. */
  retryAfterSeconds: seconds(3600).optional(),
  /** Upstream keep-alive connections cached per worker; false: a new connection per request. */
  keepaliveConnections: z.union([z.literal(false), z.number().int().min(1).max(1024)]).default(16),
  /**
   * Upstream keepalive_time and keepalive_timeout: how long nginx reuses one upstream connection, and keeps it idle.
   * With a switched unix-socket link (see upstream.ts), cached connections reach the old slot for at most this long.
   */
  keepaliveTimeSeconds: seconds(3600).optional(),
}).strict();

/**
 * Client-side timeouts (http module, `ngx_http_core_module`); the defaults bound how long one connection can hold a
 * worker slot without making progress. nginx 1.22–1.24 also bound the TLS handshake by client_header_timeout (the
 * listening socket's post_accept_timeout); nginx >= 1.25.5 has its own ssl_handshake_timeout (default 60 s).
 */
const timeoutsSchema = z.object({
  /** client_header_timeout: the whole request header (and the TLS handshake before it) must arrive within this; else 408 (closed, no body). */
  clientHeaderSeconds: seconds(300).default(10),
  /** client_body_timeout: longest pause between two reads of the request body; else 408 (closed). */
  clientBodySeconds: seconds(300).default(10),
  /** send_timeout: longest pause between two writes to a client that stopped reading (also SSE streams); then closed. */
  sendSeconds: seconds(3600).default(30),
  /** keepalive_timeout: how long an idle client connection is kept open between requests. */
  keepaliveSeconds: z.number().int().min(0).max(3600).default(20),
}).strict();

const serverSchema = z.object({
  /** Short name: used for the upstream include file, zone names and the default path `/<name>/mcp`. */
  name,
  /** Public path of this server's MCP endpoint; default `/mcp` for a single server, `/<name>/mcp` for several. */
  path: absPath.regex(/\/mcp$/, "must end with /mcp (e.g. /mcp or /weather/mcp)").optional(),
  /**
   * The server's deep health path (the run contract's healthPath). nginx proxies `<prefix><healthPath>` to it, where
   * prefix is the MCP path without its trailing `/mcp`: `/health` for `/mcp`, `/weather/health` for `/weather/mcp`.
   */
  healthPath: absPath.refine((p) => p !== "/" && !p.endsWith("/mcp"), "must be a path such as /health (not / and not ending in /mcp)").default("/health"),
  limits: limitsSchema.default(limitsSchema.parse({})),
}).strict();

const hstsSchema = z.object({
  maxAgeSeconds: z.number().int().min(0).max(63_072_000).default(63_072_000),
  includeSubDomains: z.boolean().default(false),
  preload: z.boolean().default(false),
}).strict();

/** An nginx listen address: "*", an IPv4 address or a bracketed IPv6 address. */
export const listenAddressSchema = z.string().regex(/^(\*|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])$/,
  'must be "*", an IPv4 address or a bracketed IPv6 address such as "[::]"');

export const siteOptionsSchema = z.object({
  /** The public host name; also the certificate name in certbot's live directory unless certName is set. */
  domain,
  /** "http-only" before a certificate exists (ACME challenge + redirect); "tls" once certbot has issued one. */
  phase: z.enum(["http-only", "tls"], { error: 'must be "http-only" or "tls"' }),
  servers: z.array(serverSchema).min(1, "must list at least one MCP server"),
  /** Prefix of every http-level name (zones, map variable, upstreams, log format); default from the domain. */
  siteId: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, "must match [a-z][a-z0-9_]{0,39}").optional(),
  /** Addresses nginx listens on; production default: all IPv4 and IPv6 addresses. */
  listenAddresses: z.array(listenAddressSchema).min(1).default(["*", "[::]"]),
  httpPort: z.number().int().min(1).max(65535).default(80),
  httpsPort: z.number().int().min(1).max(65535).default(443),
  http2: z.boolean().default(true),
  acmeWebroot: absPath.default(DEFAULT_ACME_WEBROOT),
  certbotConfigDir: absPath.default(DEFAULT_CERTBOT_CONFIG_DIR),
  certName: z.string().regex(/^[A-Za-z0-9._-]{1,253}$/, "must be a certbot certificate name (letters, digits, . _ -)").optional(),
  /** OCSP stapling: needs a CA with an OCSP responder (Let's Encrypt has none since 2025; pebble neither). */
  ocspStapling: z.union([z.literal(false), z.object({
    resolvers: z.array(z.string().regex(/^[0-9a-fA-F.:\[\]]+$/, "must be an IP address")).min(1).default(["127.0.0.53"]),
  }).strict()]).default(false),
  hsts: hstsSchema.default(hstsSchema.parse({})),
  timeouts: timeoutsSchema.default(timeoutsSchema.parse({})),
  upstreamIncludeDir: absPath.default(DEFAULT_UPSTREAM_INCLUDE_DIR),
  accessLog: z.union([z.literal("off"), absPath]).default("/var/log/nginx/selfhosted-mcp.access.log"),
  errorLog: absPath.default("/var/log/nginx/selfhosted-mcp.error.log"),
}).strict().superRefine((o, ctx) => {
  const seenNames = new Map<string, number>();
  const seenPaths = new Map<string, number>();
  o.servers.forEach((s, i) => {
    const p = resolvedPath(s, o.servers.length);
    const n = seenNames.get(s.name);
    if (n !== undefined) ctx.addIssue({ code: "custom", path: ["servers", i, "name"], message: `duplicates servers[${n}].name "${s.name}": names must be unique` });
    // Every public location of a server (its MCP path and its health path) is unique and not reserved.
    for (const [key, at] of [["path", p], ["healthPath", publicHealthPath(p, s.healthPath)]] as const) {
      const q = seenPaths.get(at);
      if (q !== undefined) ctx.addIssue({ code: "custom", path: ["servers", i, key], message: `"${at}" is already used by servers[${q}]: give each server its own path (e.g. /${s.name}/mcp)` });
      if (reserved(at)) ctx.addIssue({ code: "custom", path: ["servers", i, key], message: `"${at}" is reserved (ACME challenge, metadata or metrics)` });
      seenPaths.set(at, i);
    }
    seenNames.set(s.name, i);
  });
  if (o.httpPort === o.httpsPort) ctx.addIssue({ code: "custom", path: ["httpsPort"], message: "must differ from httpPort" });
});

export type SiteOptionsInput = z.input<typeof siteOptionsSchema>;
export type SiteOptions = z.output<typeof siteOptionsSchema>;
export type ServerOptions = SiteOptions["servers"][number];
export type ServerLimits = ServerOptions["limits"];

export function resolvedPath(s: { name: string; path?: string | undefined }, serverCount: number): string {
  return s.path ?? (serverCount === 1 ? "/mcp" : `/${s.name}/mcp`);
}

const reserved = (p: string) => p.startsWith("/.well-known/") || p === "/metrics" || p.startsWith("/metrics/");

/**
 * Public path of a server's deep health check: its MCP path without the trailing `/mcp`, then the server's own
 * health path (default `/health`): `("/mcp", "/healthz")` → `/healthz`, `("/weather/mcp")` → `/weather/health`.
 */
export function publicHealthPath(mcpPath: string, healthPath = "/health"): string {
  return `${mcpPath.replace(/\/mcp$/, "")}${healthPath}`;
}

/** Validates renderer options with `schema`; throws InvalidArgsError naming each option, with the value it got. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  return parseArgs(what, schema, input, { echo: true });
}

/** siteId default: the domain with every non-alphanumeric character replaced by `_`, truncated. */
export function defaultSiteId(domainName: string): string {
  return `smcp_${domainName.replace(/[^a-z0-9]/g, "_")}`.slice(0, 40);
}
