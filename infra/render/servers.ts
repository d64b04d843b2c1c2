// Several servers on one droplet behind one gateway (SelfHostedMcp `servers`, docs/infra.md "Several servers"): the
// plain values the components derive per server — loopback ports, public URL, the keys each server accepts — and
// the gateway's environment (its upstreams over the servers' unix sockets). Pure: no Pulumi, no I/O.
import { createHash, createHmac } from "node:crypto";
import { splitKeyGrant } from "../../contract/api-keys.ts";
import { defaultUpstreamScope, upstreamVar } from "../../contract/gateway-env.ts";
import { defaultSocketDir } from "./deployment-plan.ts";

/** Where the gateway's slots see each server's socket directory (read-only): `<dir>/<server>/live.sock`. */
export const UPSTREAM_MOUNT_DIR = "/run/selfhosted-mcp-upstreams";

/** Default blue-slot ports of a server: even ports 8100-8898 picked by a hash of its name, metrics at +1000. */
export const SERVER_PORT_BASE = 8100;
export const SERVER_PORT_SLOTS = 400;
export const SERVER_METRICS_OFFSET = 1000;

/**
 * A server's default loopback ports (green: +1). They depend on its name only, so adding or removing another server
 * never changes them (which would redeploy it); two names that meet in the same slot are refused by SelfHostedMcp,
 * which asks for an explicit `port` then.
 */
export function defaultServerPorts(name: string): { port: number; metricsPort: number } {
  const slot = createHash("sha256").update(name).digest().readUInt32BE(0) % SERVER_PORT_SLOTS;
  const port = SERVER_PORT_BASE + 2 * slot;
  return { port, metricsPort: port + SERVER_METRICS_OFFSET };
}

/** A server's loopback ports: its own `port` / `metricsPort`, else the defaults from its name. */
export function serverPorts(s: { name: string; port?: number | undefined; metricsPort?: number | undefined }): { port: number; metricsPort: number } {
  const d = defaultServerPorts(s.name);
  return { port: s.port ?? d.port, metricsPort: s.metricsPort ?? d.metricsPort };
}

/** A server's PUBLIC_URL: its resource is `<domain>/<name>/mcp` (RFC 9728 metadata at the path-suffixed URL). */
export function serverPublicUrl(domain: string, name: string): string {
  return `https://${domain}/${name}`;
}

/**
 * The bearer token the gateway presents to `server` (UPSTREAM_<NAME>_TOKEN), derived from the stack's API keys:
 * HMAC-SHA256(key = every key entry, in order; message = the server's name), hex. Secret like its inputs, stable across
 * runs (no new secret to store), and different per server; rotating any API key rotates every token.
 */
export function upstreamToken(keyEntries: readonly string[], server: string): string {
  return createHmac("sha256", keyEntries.join("\n")).update(`selfhosted-mcp gateway upstream ${server}`).digest("hex");
}

/**
 * The API keys `server` accepts on its own route: each key whose entry grants it (`<key>` grants every server,
 * `<key>:a+b` only a and b; contract/api-keys.ts splitKeyGrant), then the gateway's token for it.
 */
export function serverApiKeys(keyEntries: readonly string[], server: string): string[] {
  const granted = keyEntries.map(splitKeyGrant).filter((g) => !g.servers || g.servers.includes(server)).map((g) => g.key);
  return [...granted, upstreamToken(keyEntries, server)];
}

/** The gateway's plain environment: its upstreams, each reached through the server's live.sock (mounted read-only). */
export function gatewayUpstreamEnv(servers: readonly string[]): Record<string, string> {
  return {
    UPSTREAMS: servers.join(","),
    ...Object.fromEntries(servers.map((s) => [upstreamVar(s, "SOCKET"), `${UPSTREAM_MOUNT_DIR}/${s}/live.sock`])),
  };
}

/** The authorization server every OAuth resource of the stack trusts (the gateway's and each server's OAUTH_*). */
export function oauthIssuerEnv(oauth: { issuer: string; jwksUrl: string }): Record<string, string> {
  return { OAUTH_ISSUER: oauth.issuer, OAUTH_JWKS_URL: oauth.jwksUrl };
}

/**
 * The gateway's per-upstream scopes under OAuth (UPSTREAM_<NAME>_SCOPE): a token may use a server when its scopes
 * include the server's `oauthScope`, default `mcp:server:<name>` (contract/gateway-env.ts, docs/gateway.md).
 */
export function gatewayScopeEnv(servers: readonly { name: string; oauthScope?: string | undefined }[]): Record<string, string> {
  return Object.fromEntries(servers.map((s) => [upstreamVar(s.name, "SCOPE"), s.oauthScope ?? defaultUpstreamScope(s.name)]));
}

/** The gateway's secret upstream tokens (api-key and oauth modes). */
export function gatewayUpstreamTokens(keyEntries: readonly string[], servers: readonly string[]): Record<string, string> {
  return Object.fromEntries(servers.map((s) => [upstreamVar(s, "TOKEN"), upstreamToken(keyEntries, s)]));
}

/** The servers' socket directories, as the gateway's slots mount them (read-only). */
export function gatewayMounts(servers: readonly string[]): { source: string; target: string }[] {
  return servers.map((s) => ({ source: defaultSocketDir(s), target: `${UPSTREAM_MOUNT_DIR}/${s}` }));
}
