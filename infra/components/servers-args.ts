// The rules of SelfHostedMcp's `servers` and `gateway` arguments (zod), checked with the rest of its arguments
// (selfhosted-mcp-args.ts) before anything registers; the example stack's `servers` key uses the same fields.
import * as z from "zod";
import { digestRef, serverName } from "../../contract/values.ts";
import { slotPortsOf } from "../render/deployment-plan.ts";
import { defaultServerPorts } from "../render/servers.ts";
import { HOST_FIELDS, tcpPort } from "./host-args.ts";
import { DEFAULTS } from "../defaults.ts";

/** At most this many servers on one droplet (each costs a container pair, a volume and nginx zones). */
export const MAX_SERVERS = 16;

const imageTag = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be an image tag such as v1.2.3 or a git commit");

/** Plain fields of one server (the `env` rule and rate limits come from SelfHostedMcp's own fields). */
export function serverSchema(fields: { healthPath: z.ZodType; healthTimeoutSeconds: z.ZodType; maxBodySize: z.ZodType; rateLimit: z.ZodType }) {
  return z.object({
    name: serverName, image: digestRef.optional(), tag: imageTag.optional(),
    memoryMb: HOST_FIELDS.memoryMb.optional(), cpus: HOST_FIELDS.cpus.optional(),
    healthPath: fields.healthPath.optional(), healthTimeoutSeconds: fields.healthTimeoutSeconds.optional(),
    port: tcpPort.optional(), metricsPort: tcpPort.optional(), rateLimit: fields.rateLimit.optional(), maxBodySize: fields.maxBodySize.optional(),
    env: z.record(z.string(), z.unknown()).optional(),
  }).loose();
}

export const gatewaySchema = z.object({
  image: digestRef.optional(), tag: imageTag.optional(), memoryMb: HOST_FIELDS.memoryMb.optional(), cpus: HOST_FIELDS.cpus.optional(),
}).loose();

interface MultiArgs {
  app?: string | undefined; port?: number | undefined; metricsPort?: number | undefined;
  server?: unknown; registry?: unknown; docr?: unknown; auth?: { mode: string } | undefined;
  servers?: { name: string; image?: string | undefined; port?: number | undefined; metricsPort?: number | undefined }[] | undefined;
}

/** Cross-argument rules of `servers`: one form of server, no OAuth, unique names, free ports, a registry for builds. */
export function serversIssues(a: MultiArgs, add: (path: (string | number)[], message: string) => void): void {
  if (!a.servers) return;
  if (a.servers.length === 0 || a.servers.length > MAX_SERVERS) add(["servers"], `must list 1 to ${MAX_SERVERS} servers`);
  if (a.server !== undefined) add(["server"], "give each server's build or image in servers[] (server is the single-server form); remove server");
  if (a.auth?.mode === "oauth") add(["auth", "mode"], "oauth is not supported with servers: the gateway authenticates API keys only (docs/gateway.md); use api-key or none, or one SelfHostedMcp per OAuth server");
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
    const d = defaultServerPorts(s.name);
    claim({ port: s.port ?? d.port, metricsPort: s.metricsPort ?? d.metricsPort }, `server ${s.name}`, ["servers", i, "port"]);
    if (s.image === undefined && a.registry === undefined && a.docr === undefined) {
      add(["servers", i], "a build needs a registry to push to: set registry or docr (or a prebuilt image pinned by digest)");
    }
  });
}
