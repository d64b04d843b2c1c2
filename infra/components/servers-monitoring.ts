// What the alert stack and the smoke timer watch with SelfHostedMcp `servers` (docs/operability.md "Several
// servers"): Prometheus scrapes every server's two slots, labelled `server="<name>"`, plus the gateway as its own job
// (scrapeTargets); and each server gets its own smoke timer, through its route `https://<domain>/<name>/mcp` with a
// key that grants it, its textfile series labelled `server="<name>"` (serverSmokeTimers). Why the routes and not the
// gateway: a route run checks that server's own /health and calls its read-only tools with the examples it declares,
// and its result is that server's alone; through the gateway one run would mix every server into one result.
import * as pulumi from "@pulumi/pulumi";
import { McpSmokeTimer, type McpSmokeTimerArgs } from "../monitoring/smoke-timer-component.ts";
import { serverApiKeys, serverPorts, serverPublicUrl } from "../render/servers.ts";
import { splitList } from "../../contract/list.ts";
import type { DeployedServer, McpServerArgs } from "./servers.ts";

/** The alert stack's `servers`: each server's name and blue-slot /metrics port (green +1; render/servers.ts). */
export function scrapeTargets(servers: readonly McpServerArgs[]): { name: string; metricsPort: number }[] {
  return servers.map((s) => ({ name: s.name, metricsPort: serverPorts(s).metricsPort }));
}

/**
 * The key a server's smoke run presents on its route: the first API key whose entry grants the server (`<key>`
 * grants all, `<key>:a+b` only a and b), else the gateway's token for it, which the server accepts too
 * (render/servers.ts serverApiKeys: the granted keys, then that token).
 */
export function serverSmokeKey(keyEntries: readonly string[], server: string): string {
  return serverApiKeys(keyEntries, server)[0]!;
}

export interface ServerSmokeContext {
  parent: pulumi.Resource;
  /** SelfHostedMcp's name: timers `<name>-smoke-<server>`. */
  name: string;
  domain: string;
  /** The smoke timer options the gateway's timer gets (interval, textfileDir, runnerImage, ...); its token is not used. */
  options: Omit<McpSmokeTimerArgs, "connection" | "app" | "url" | "dependsOn" | "hostId" | "token" | "server">;
  connection: McpSmokeTimerArgs["connection"];
  hostId: pulumi.Input<string>;
  /** The stack's API key entries (with grants), when auth is not `none`. */
  keyEntries?: pulumi.Input<string>;
  /** Installed after these too (the certificate: the route answers over TLS). */
  dependsOn: pulumi.Input<pulumi.Resource>[];
  deletedWith: pulumi.Resource;
}

/** One smoke timer per server (unit `selfhosted-mcp-smoke-<server>`, state in the server's own directory). */
export function serverSmokeTimers(ctx: ServerSmokeContext, servers: readonly DeployedServer[]): McpSmokeTimer[] {
  return servers.map((s) => new McpSmokeTimer(`${ctx.name}-smoke-${s.name}`, {
    ...ctx.options, connection: ctx.connection, hostId: ctx.hostId, app: s.name, server: s.name,
    url: serverPublicUrl(ctx.domain, s.name),
    ...(ctx.keyEntries !== undefined
      ? { token: pulumi.secret(pulumi.output(ctx.keyEntries).apply((k) => serverSmokeKey(splitList(k), s.name))) }
      : {}),
    dependsOn: [s.deployment.deploy, ...ctx.dependsOn],
  }, { parent: ctx.parent, deletedWith: ctx.deletedWith }));
}
