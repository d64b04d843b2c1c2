// The per-server upstream include file. The site config's `upstream` block for server NAME includes
// `<upstreamIncludeDir>/<NAME>.upstream.conf`, which holds the one address of the live (blue or green) container:
// - a unix socket path (what McpDeployment renders): a symlink the deployment re-points at the live slot's socket,
//   so a switch needs no nginx reload (why: docs/infra.md, "Zero-downtime switch without an nginx reload"). New connections follow the link at once; cached ones keep reaching the old slot,
//   so bound their life with `keepaliveTimeSeconds` (or set `keepaliveConnections: false`) and stop the old slot
//   only after that time;
// - or HOST:PORT: a fixed upstream (tests, benchmarks, a server managed elsewhere). Switching slots by rewriting it and
//   reloading is not supported (same reason).
import * as z from "zod";
import { DEFAULT_UPSTREAM_INCLUDE_DIR, parseOptions } from "./options.ts";

/** Path convention: `<dir>/<name>.upstream.conf` (dir defaults to /etc/nginx/selfhosted-mcp). */
export function upstreamIncludePath(name: string, dir: string = DEFAULT_UPSTREAM_INCLUDE_DIR): string {
  return `${dir.replace(/\/+$/, "")}/${name}.upstream.conf`;
}

const socketSchema = z.object({
  /** Absolute path of the unix socket (or of a symlink to it) nginx connects to. */
  socket: z.string().regex(/^\/[A-Za-z0-9._\/-]+$/, "must be an absolute path of letters, digits and . _ / -"),
  comment: z.string().regex(/^[^\n\r]*$/, "must be a single line").max(200).optional(),
}).strict();

const tcpSchema = z.object({
  /** Host the container listens on (loopback with --network host). */
  host: z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[a-z0-9.-]+)$/,
    "must be an IPv4 address, a bracketed IPv6 address or a host name").default("127.0.0.1"),
  port: z.number({ error: "must be a TCP port number" }).int().min(1, "must be 1-65535").max(65535, "must be 1-65535"),
  /** Free-form note written as a comment (e.g. the slot and image digest); single line, no secrets. */
  comment: z.string().regex(/^[^\n\r]*$/, "must be a single line").max(200).optional(),
}).strict();

export type UpstreamIncludeOptions = z.input<typeof socketSchema> | z.input<typeof tcpSchema>;

/** Renders the include file content: `server unix:PATH max_fails=0;` or `server HOST:PORT max_fails=0;` (one live slot). */
export function renderUpstreamInclude(options: UpstreamIncludeOptions): string {
  if ("socket" in options) {
    const o = parseOptions(socketSchema, options, "upstream include");
    const note = o.comment ? `# ${o.comment}\n` : "";
    return `# Managed by selfhosted-mcp: the live slot is whatever ${o.socket} points at (switched without a reload).\n${note}` +
      `server unix:${o.socket} max_fails=0;\n`;
  }
  const o = parseOptions(tcpSchema, options, "upstream include");
  const note = o.comment ? `# ${o.comment}\n` : "";
  return `# Managed by selfhosted-mcp: the upstream (a fixed address).\n${note}` +
    `server ${o.host}:${o.port} max_fails=0;\n`;
}
