// Renders the nginx site file for one domain. The file is meant to be included at http{} level — Debian's and
// Ubuntu's stock nginx.conf include /etc/nginx/sites-enabled/* and conf.d/*.conf there — so it carries its own
// http-level definitions (log format, credential map, rate-limit zones, upstreams), all prefixed with the siteId.
import {
  siteOptionsSchema, parseOptions, resolvedPath, publicHealthPath, defaultSiteId,
  type SiteOptionsInput, type SiteOptions, type ServerOptions, type ServerLimits,
} from "./options.ts";
import { upstreamIncludePath } from "./upstream.ts";
import { keyNames, renderKeyMaps, type KeyNames } from "./keys.ts";

/** Mozilla "intermediate" TLS 1.2 suites (TLS 1.3 suites are always on in OpenSSL and need no list). */
export const TLS_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

export const ACME_CHALLENGE_PATH = "/.well-known/acme-challenge/";

/** Renders the site configuration (validated options; throws InvalidArgsError naming the bad option). */
export function renderNginxConfig(options: SiteOptionsInput): string {
  const o = parseOptions(siteOptionsSchema, options, "nginx site");
  const n = names(o);
  const blocks = [
    `# Managed by selfhosted-mcp: nginx site for ${o.domain} (phase: ${o.phase}).\n` +
    `# Include at http{} level (e.g. /etc/nginx/sites-enabled/). Never logs Authorization or query strings.`,
    httpLevel(o, n),
    httpServer(o, n),
  ];
  if (o.phase === "tls") blocks.push(tlsServer(o, n));
  return blocks.join("\n\n") + "\n";
}

interface Names {
  id: string;
  logFormat: string;
  keys: KeyNames;
  upstream(s: ServerOptions): string;
  zone(s: ServerOptions, kind: "ip" | "cred" | "conn"): string;
  limited(s: ServerOptions): string;
  tooLarge: string;
}

function names(o: SiteOptions): Names {
  const id = o.siteId ?? defaultSiteId(o.domain);
  return {
    id,
    logFormat: `${id}_json`,
    keys: keyNames(id),
    upstream: (s) => `${id}_${s.name}`,
    zone: (s, kind) => `${id}_${s.name}_${kind}`,
    limited: (s) => `@${id}_${s.name}_rate_limited`,
    tooLarge: `@${id}_too_large`,
  };
}

const indent = (lines: string[], by = "    ") => lines.map((l) => (l ? by + l : l)).join("\n");

function httpLevel(o: SiteOptions, n: Names): string {
  const out = [
    "# Access log without Authorization, cookies or query strings (tokens never reach a log).",
    `log_format ${n.logFormat} escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr","host":"$host",'`,
    `    '"method":"$request_method","uri":"$uri","status":$status,"bytes_sent":$bytes_sent,'`,
    `    '"request_length":$request_length,"request_time":$request_time,"upstream_addr":"$upstream_addr",'`,
    `    '"upstream_status":"$upstream_status","upstream_response_time":"$upstream_response_time",'`,
    `    '"limit_req":"$limit_req_status","user_agent":"$http_user_agent","request_id":"$request_id"}';`,
  ];
  if (o.phase === "tls") out.push("", ...serverDefinitions(o, n));
  return out.join("\n");
}

/** nginx reuses upstream connections unless keepaliveConnections is false; keepaliveTimeSeconds bounds each one's life. */
function upstreamKeepalive({ keepaliveConnections: n, keepaliveTimeSeconds: t }: ServerOptions["limits"]): string[] {
  if (n === false) return [];
  return [`    keepalive ${n};`, ...(t === undefined ? [] : [`    keepalive_time ${t}s;`, `    keepalive_timeout ${t}s;`])];
}

/** Zones, the credential map and upstream blocks: only needed once /mcp is served (TLS phase). */
function serverDefinitions(o: SiteOptions, n: Names): string[] {
  const out = [...renderKeyMaps(n.id), ""];
  for (const s of o.servers) {
    const { perIp, perCredential, connectionsPerIp } = s.limits;
    if (connectionsPerIp !== false) out.push(`limit_conn_zone $binary_remote_addr zone=${n.zone(s, "conn")}:10m;`);
    if (perIp) out.push(`limit_req_zone ${n.keys.ipKey} zone=${n.zone(s, "ip")}:10m rate=${perIp.rate};`);
    if (perCredential) out.push(`limit_req_zone ${n.keys.credential} zone=${n.zone(s, "cred")}:10m rate=${perCredential.rate};`);
    out.push(
      `upstream ${n.upstream(s)} {`,
      `    # The live slot's address: a unix-socket symlink the deployment re-points (no reload), or HOST:PORT.`,
      `    include ${upstreamIncludePath(s.name, o.upstreamIncludeDir)};`,
      ...upstreamKeepalive(s.limits),
      "}",
    );
  }
  return out;
}

function listen(o: SiteOptions, port: number, suffix: string): string[] {
  return o.listenAddresses.map((a) => `listen ${a}:${port}${suffix};`);
}

function common(o: SiteOptions, n: Names): string[] {
  const t = o.timeouts;
  return [
    `server_name ${o.domain};`,
    "server_tokens off;",
    o.accessLog === "off" ? "access_log off;" : `access_log ${o.accessLog} ${n.logFormat};`,
    `error_log ${o.errorLog};`,
    "# Slow clients: bounded header (and, on nginx < 1.25.5, TLS handshake) time, pauses in the body and in reading,",
    "# idle keep-alive; timed-out connections are reset, so their socket buffers are freed at once.",
    `client_header_timeout ${t.clientHeaderSeconds}s;`,
    `client_body_timeout ${t.clientBodySeconds}s;`,
    `send_timeout ${t.sendSeconds}s;`,
    `keepalive_timeout ${t.keepaliveSeconds}s;`,
    "reset_timedout_connection on;",
  ];
}

function httpServer(o: SiteOptions, n: Names): string {
  const port = o.httpsPort === 443 ? "" : `:${o.httpsPort}`;
  return `server {\n${indent([
    ...listen(o, o.httpPort, ""),
    ...common(o, n),
    "",
    `location ^~ ${ACME_CHALLENGE_PATH} {`,
    `    root ${o.acmeWebroot};`,
    "    default_type text/plain;",
    "    try_files $uri =404;",
    "}",
    "location / {",
    `    return 301 https://${o.domain}${port}$request_uri;`,
    "}",
  ])}\n}`;
}

/** Security headers; repeated in every location that adds its own header (add_header does not merge). */
function securityHeaders(o: SiteOptions): string[] {
  const h = o.hsts;
  const hsts = [`max-age=${h.maxAgeSeconds}`, h.includeSubDomains && "includeSubDomains", h.preload && "preload"]
    .filter(Boolean).join("; ");
  return [
    `add_header Strict-Transport-Security "${hsts}" always;`,
    `add_header X-Content-Type-Options "nosniff" always;`,
    `add_header X-Frame-Options "DENY" always;`,
    `add_header Referrer-Policy "no-referrer" always;`,
    `add_header Content-Security-Policy "default-src 'none'; frame-ancestors 'none'" always;`,
  ];
}

function jsonError(o: SiteOptions, location: string, status: number, code: number, message: string, extra: string[]): string[] {
  const body = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code, message } });
  return [
    `location ${location} {`,
    "    types { }",
    "    default_type application/json;",
    ...extra.map((l) => `    ${l}`),
    ...securityHeaders(o).map((l) => `    ${l}`),
    `    return ${status} '${body}';`,
    "}",
  ];
}

function retryAfter(l: ServerLimits): number {
  if (l.retryAfterSeconds) return l.retryAfterSeconds;
  const intervals = [l.perIp, l.perCredential].flatMap((r) => {
    if (!r) return [];
    const m = /^(\d+)r\/([sm])$/.exec(r.rate)!;
    return [(m[2] === "m" ? 60 : 1) / Number(m[1])];
  });
  return Math.max(1, Math.ceil(Math.max(0, ...intervals)));
}

/** Proxy settings shared by every proxied location (set once at server level, inherited). */
const PROXY_DEFAULTS = [
  "proxy_http_version 1.1;",
  `proxy_set_header Connection "";`,
  "proxy_set_header Host $host;",
  "# nginx is the edge: client-supplied X-Forwarded-* headers are replaced, not appended to.",
  "proxy_set_header X-Real-IP $remote_addr;",
  "proxy_set_header X-Forwarded-For $remote_addr;",
  "proxy_set_header X-Forwarded-Proto $scheme;",
  "proxy_set_header X-Forwarded-Host $host;",
  "proxy_connect_timeout 5s;",
  "# Streaming (SSE) both ways: nothing buffered, and upstreams cannot turn buffering back on.",
  "proxy_buffering off;",
  "proxy_request_buffering off;",
  "# Unbuffered, nginx reads at most proxy_buffer_size per read and sends each read as its own TLS record (nginx docs,",
  "# proxy_buffering). The default (one page, 4k) split a tools/list answer (~8 KB) into 3 records and writes; 16k",
  "# takes a typical answer in one. Streams are unaffected (data is still sent as soon as it arrives); the cost is",
  "# 12 KB more per proxied request in flight. busy_buffers must be >= buffer_size and < the proxy_buffers total.",
  "proxy_buffer_size 16k;",
  "proxy_busy_buffers_size 16k;",
  "proxy_cache off;",
  "proxy_ignore_headers X-Accel-Buffering;",
  "gzip off;",
  ...["X-Powered-By", "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
    "Content-Security-Policy"].map((h) => `proxy_hide_header ${h};`),
];

function limitDirectives(s: ServerOptions, n: Names): string[] {
  const { perIp, perCredential, connectionsPerIp } = s.limits;
  return [
    ...[[perIp, "ip"] as const, [perCredential, "cred"] as const].flatMap(([l, kind]) =>
      l ? [`limit_req zone=${n.zone(s, kind)}${l.burst > 0 ? ` burst=${l.burst} nodelay` : ""};`] : []),
    ...(connectionsPerIp === false ? [] : [`limit_conn ${n.zone(s, "conn")} ${connectionsPerIp};`]),
    "limit_req_status 429;",
    "limit_conn_status 429;",
    "# Rejections are in the access log (status 429, limit_req); at error level they would flood the error log.",
    "limit_req_log_level warn;",
    "limit_conn_log_level warn;",
    "# error_page in a location replaces the server's list: repeat 413 here.",
    `error_page 413 ${n.tooLarge};`,
    `error_page 429 ${n.limited(s)};`,
  ];
}

function serverLocations(o: SiteOptions, s: ServerOptions, n: Names): string[] {
  const path = resolvedPath(s, o.servers.length);
  const wait = retryAfter(s.limits);
  return [
    `# MCP server "${s.name}": ${path} -> upstream /mcp.`,
    `location = ${path} {`,
    ...limitDirectives(s, n).map((l) => `    ${l}`),
    `    client_max_body_size ${s.limits.maxBodySize};`,
    `    proxy_read_timeout ${s.limits.readTimeoutSeconds}s;`,
    `    proxy_send_timeout ${s.limits.readTimeoutSeconds}s;`,
    `    proxy_pass http://${n.upstream(s)}/mcp;`,
    "}",
    "# OAuth protected-resource metadata (RFC 9728) for this server's resource URL.",
    `location = /.well-known/oauth-protected-resource${path} {`,
    ...limitDirectives(s, n).map((l) => `    ${l}`),
    "    client_max_body_size 1k;",
    `    proxy_pass http://${n.upstream(s)};`,
    "}",
    `# Deep health check for uptime monitors and the deploy's own probe: GET/HEAD only, same limits.`,
    `location = ${publicHealthPath(path, s.healthPath)} {`,
    ...limitDirectives(s, n).map((l) => `    ${l}`),
    "    limit_except GET { deny all; }",
    "    client_max_body_size 1k;",
    `    proxy_pass http://${n.upstream(s)}${s.healthPath};`,
    "}",
    ...jsonError(o, n.limited(s), 429, -32000, `Rate limit exceeded: retry after ${wait} s`,
      [`add_header Retry-After "${wait}" always;`]),
  ];
}

/**
 * Server-rewrite phase, before any phase that can write an error-log line (limits, access rules, proxying): refuse
 * what nginx would copy into its error log, i.e. a query string (`request: "POST /mcp?access_token=…"`) and a Referer
 * beyond an origin. Browsers send only the origin cross-origin (the default `strict-origin-when-cross-origin` policy).
 */
function refusals(n: Names): string[] {
  const body = (message: string) => JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32600, message } });
  return [
    "default_type application/json;",
    `if (${n.keys.queryRefused}) { return 400 '${body("Query strings are refused: send credentials in the Authorization header")}'; }`,
    `if (${n.keys.refererRefused}) { return 400 '${body("A Referer with a path or query is refused: send at most the origin")}'; }`,
  ];
}

function tlsServer(o: SiteOptions, n: Names): string {
  const live = `${o.certbotConfigDir}/live/${o.certName ?? o.domain}`;
  const stapling = o.ocspStapling ? [
    "ssl_stapling on;",
    "ssl_stapling_verify on;",
    `ssl_trusted_certificate ${live}/chain.pem;`,
    `resolver ${o.ocspStapling.resolvers.join(" ")} valid=300s;`,
    "resolver_timeout 5s;",
  ] : ["# OCSP stapling off (the CA has no OCSP responder)."];
  return `server {\n${indent([
    ...listen(o, o.httpsPort, o.http2 ? " ssl http2" : " ssl"),
    ...common(o, n),
    "",
    `ssl_certificate ${live}/fullchain.pem;`,
    `ssl_certificate_key ${live}/privkey.pem;`,
    "ssl_protocols TLSv1.2 TLSv1.3;",
    `ssl_ciphers ${TLS_CIPHERS};`,
    "ssl_prefer_server_ciphers off;",
    "ssl_session_timeout 1d;",
    `ssl_session_cache shared:${n.id}_tls:10m;`,
    "ssl_session_tickets off;",
    ...stapling,
    "",
    ...securityHeaders(o),
    ...refusals(n),
    ...PROXY_DEFAULTS,
    `error_page 413 ${n.tooLarge};`,
    ...jsonError(o, n.tooLarge, 413, -32600, "Request body too large", []),
    "",
    ...o.servers.flatMap((s) => [...serverLocations(o, s, n), ""]),
    "# Metrics stay on the container's loopback port: never proxied.",
    "location = /metrics { return 404; }",
    "location / { return 404; }",
  ])}\n}`;
}
