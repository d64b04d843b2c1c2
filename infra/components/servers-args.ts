// The rules of SelfHostedMcp's `servers` and `gateway` arguments (zod), checked with the rest of its arguments
// (selfhosted-mcp-args.ts) before anything registers; the example stack's `servers` key uses the same fields.
import * as z from "zod";
import { digestRef, serverName } from "../../contract/values.ts";
import { SCOPE_TOKEN } from "../../contract/gateway-env.ts";
import { slotPortsOf } from "../render/deployment-plan.ts";
import { serverPorts } from "../render/servers.ts";
import { HOST_FIELDS, tcpPort } from "./host-args.ts";
import { DEFAULTS } from "../defaults.ts";

/** At most this many servers on one droplet (each costs a container pair, a volume and nginx zones). */
export const MAX_SERVERS = 16;

const imageTag = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be an image tag such as v1.2.3 or a git commit");

/** A server's OAuth scope at the gateway (RFC 6749 §3.3 scope-token; default mcp:server:<name>, contract/gateway-env.ts). */
export const oauthScopeSchema = z.string().regex(SCOPE_TOKEN, "must be one OAuth scope (RFC 6749 §3.3: printable ASCII without space, \" or \\), e.g. mcp:server:weather");

/** Plain fields of one server (the `env` rule and rate limits come from SelfHostedMcp's own fields). */
export function serverSchema(fields: { healthPath: z.ZodType; healthTimeoutSeconds: z.ZodType; maxBodySize: z.ZodType; rateLimit: z.ZodType }) {
  return z.object({
    name: serverName, image: digestRef.optional(), tag: imageTag.optional(),
    memoryMb: HOST_FIELDS.memoryMb.optional(), cpus: HOST_FIELDS.cpus.optional(),
    healthPath: fields.healthPath.optional(), healthTimeoutSeconds: fields.healthTimeoutSeconds.optional(),
    port: tcpPort.optional(), metricsPort: tcpPort.optional(), rateLimit: fields.rateLimit.optional(), maxBodySize: fields.maxBodySize.optional(),
    env: z.record(z.string(), z.unknown()).optional(),
    oauthScope: oauthScopeSchema.optional(),
  }).loose();
}

const issuerUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
/** `auth.oauth`: the authorization server the OAuth resources of the stack trust. */
export const oauthSchema = z.object({ issuer: issuerUrl, jwksUrl: issuerUrl }).strict();

/** Set from `auth.oauth`: a value in `env` would silently lose. */
const OAUTH_MANAGED_ENV = ["OAUTH_ISSUER", "OAUTH_JWKS_URL"];

export const gatewaySchema = z.object({
  image: digestRef.optional(), tag: imageTag.optional(), memoryMb: HOST_FIELDS.memoryMb.optional(), cpus: HOST_FIELDS.cpus.optional(),
}).loose();

interface MultiArgs {
  app?: string | undefined; port?: number | undefined; metricsPort?: number | undefined;
  server?: unknown; registry?: unknown; docr?: unknown; env?: Record<string, unknown> | undefined;
  auth?: { mode: string; apiKeys?: unknown; oauth?: unknown } | undefined;
  servers?: { name: string; image?: string | undefined; port?: number | undefined; metricsPort?: number | undefined; env?: Record<string, unknown> | undefined }[] | undefined;
}

/**
 * The rules of `auth.oauth`: required by `servers` with oauth (the gateway and each server check tokens), only with
 * mode oauth, and then OAUTH_ISSUER / OAUTH_JWKS_URL in no `env`. With servers, oauth also needs `apiKeys`: the
 * gateway's token to each server is derived from them (infra/render/servers.ts upstreamToken).
 */
export function oauthIssues(a: MultiArgs, add: (path: (string | number)[], message: string) => void): void {
  const mode = a.auth?.mode;
  if (a.auth?.oauth !== undefined && mode !== "oauth") add(["auth", "oauth"], `only applies with auth.mode oauth (it is ${mode ?? "api-key"}); remove it`);
  if (mode !== "oauth") return;
  if (a.servers && a.auth?.oauth === undefined) add(["auth", "oauth", "issuer"], "servers with oauth: the gateway and every server check access tokens of one authorization server; set its issuer and jwksUrl");
  if (a.servers && a.auth?.apiKeys === undefined) add(["auth", "apiKeys"], "servers with oauth still need at least one API key: the gateway's token to each server is derived from the keys (which keep working, with their grants, next to OAuth)");
  if (a.auth?.oauth === undefined) return;
  const envs: [Record<string, unknown> | undefined, (string | number)[]][] = [[a.env, []], ...(a.servers ?? []).map((s, i): [Record<string, unknown> | undefined, (string | number)[]] => [s.env, ["servers", i]])];
  for (const [env, at] of envs) {
    const set = OAUTH_MANAGED_ENV.filter((k) => env?.[k] !== undefined);
    if (set.length) add([...at, "env"], `${set.join(", ")}: set from auth.oauth; remove from env`);
  }
}

/** Cross-argument rules of `servers`: one form of server, unique names, free ports, a registry for builds. */
export function serversIssues(a: MultiArgs, add: (path: (string | number)[], message: string) => void): void {
  if (!a.servers) return;
  if (a.servers.length === 0 || a.servers.length > MAX_SERVERS) add(["servers"], `must list 1 to ${MAX_SERVERS} servers`);
  if (a.server !== undefined) add(["server"], "give each server's build or image in servers[] (server is the single-server form); remove server");
  const app = a.app ?? DEFAULTS.app;
  // Every loopback port of every slot: the gateway's first, then each server's (explicit or from its name).
  const used = new Map<number, string>();
  const claim = (ports: { port: number; metricsPort: number }, owner: string, at: (string | number)[]) => {
    for (const slot of Object.values(slotPortsOf(ports))) {
      for (const p of [slot.port, slot.metricsPort]) {
        const other = used.get(p);
        if (other !== undefined) add(at, `port ${p} of ${owner} is also used by ${other}: set ${at.join(".")} (and metricsPort) to free ports, each slot uses port and port+1`);
        used.set(p, owner);
      }
    }
  };
  claim({ port: a.port ?? DEFAULTS.port, metricsPort: a.metricsPort ?? DEFAULTS.metricsPort }, `the gateway (${app})`, ["port"]);
  const seen = new Map<string, number>();
  a.servers.forEach((s, i) => {
    if (s.name === app) add(["servers", i, "name"], `"${s.name}" is the gateway's app name; pick another server name (or another app)`);
    const first = seen.get(s.name);
    if (first !== undefined) add(["servers", i, "name"], `duplicates servers[${first}].name "${s.name}": names must be unique`);
    seen.set(s.name, i);
    claim(serverPorts(s), `server ${s.name}`, ["servers", i, "port"]);
    if (s.image === undefined && a.registry === undefined && a.docr === undefined) {
      add(["servers", i], "a build needs a registry to push to: set registry or docr (or a prebuilt image pinned by digest)");
    }
  });
}
