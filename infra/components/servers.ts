// SelfHostedMcp's `servers`: several MCP servers on its droplet, each with its own image, blue/green slots, data
// volume, socket and metrics, none with a site of its own (McpDeployment `site: false`); the gateway's deployment owns
// the site, routes `/mcp` to itself and `/<name>/mcp` to each server, and reaches them over their sockets.
// docs/infra.md "Several servers behind one gateway"; the plain rules are infra/render/servers.ts.
import * as pulumi from "@pulumi/pulumi";
import { McpImage, type McpImageBuild, type ExternalRegistry } from "./image.ts";
import { McpDeployment, type McpDeploymentArgs } from "./deployment.ts";
import { packageVersion } from "../package-files.ts";
import { splitList } from "../../contract/list.ts";
import { serverPorts, oauthIssuerEnv, serverApiKeys, serverPublicUrl } from "../render/servers.ts";
import { DEFAULTS } from "../defaults.ts";

/** One of SelfHostedMcp's `servers`. Unset values fall back to SelfHostedMcp's own (resources, rateLimit, ...). */
export interface McpServerArgs {
  /**
   * `[a-z][a-z0-9-]{0,19}`: containers `<name>-blue|green`, volume `<name>-data`, socket directory
   * `/var/lib/selfhosted-mcp/<name>.sockets`, route `https://<domain>/<name>/mcp`, gateway tool names `<name>__<tool>`.
   */
  name: string;
  /** A build context (default: this package's reference server) or a prebuilt image pinned by digest. */
  build?: McpImageBuild;
  image?: string;
  /** Tag of its build in the stack's registry (default `<name>-v<package version>`; one repository for all servers). */
  tag?: string;
  env?: Record<string, pulumi.Input<string>>;
  /** Secret environment (env file, mode 0600). */
  secrets?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  memoryMb?: number;
  cpus?: number;
  healthPath?: string;
  healthTimeoutSeconds?: number;
  /** Blue slot ports (green +1); default from the name (infra/render/servers.ts defaultServerPorts). */
  port?: number;
  metricsPort?: number;
  /**
   * With `auth.mode` oauth: the scope an access token for the gateway must carry to use this server (RFC 6749 §3.3
   * scope-token), default `mcp:server:<name>` (docs/gateway.md "Authentication and authorisation").
   */
  oauthScope?: string;
  /** nginx limits of its route `/<name>/mcp` (own zones); default SelfHostedMcp's. */
  rateLimit?: { perSecond: number; burst?: number } | false;
  maxBodySize?: string;
}

/** The gateway in front of `servers` (gateway/, docs/gateway.md). */
export interface McpGatewayArgs {
  /**
   * Default: this package's gateway (gateway/Dockerfile), pushed to the stack's registry as `gateway-v<version>`.
   * Without `context`, the other fields (baseImage, platform, version, args) apply to that default build.
   */
  build?: McpImageBuild;
  image?: string;
  tag?: string;
  /** Container memory limit, MB (default 192: it measured 80-116 MiB RSS in front of three servers, docs/gateway.md). */
  memoryMb?: number;
  cpus?: number;
}

/** What every server's deployment shares with the gateway's (connection, host, certificate settings, ...). */
export type SharedDeployment = Pick<McpDeploymentArgs, "connection" | "hostReady" | "hostId" | "host" | "domain" | "acmeEmail" | "drainSeconds" | "healthCheckIntervalSeconds">;

export interface ServersContext {
  parent: pulumi.Resource;
  /** SelfHostedMcp's name: resources `<name>-<server>-image`, `<name>-<server>-deploy`. */
  name: string;
  shared: SharedDeployment;
  /** The stack's registry (the gateway image's), for server builds; and its pull credentials. */
  pushRegistry?: ExternalRegistry;
  repository: string;
  pullConfig: pulumi.Input<string>;
  authMode: "none" | "api-key" | "oauth";
  /** The API key entries (with grants), secret. */
  keyEntries?: pulumi.Input<string>;
  /** oauth: the authorization server each server checks tokens for its own route against. */
  oauth?: { issuer: string; jwksUrl: string };
  /** What a server without its own value gets: SelfHostedMcp's memory, CPUs, route limits and health timeout. */
  defaults: { memoryMb: number; cpus: number; limits: McpDeploymentArgs["limits"]; healthTimeoutSeconds?: number | undefined };
}

export interface DeployedServer { name: string; image: McpImage; deployment: McpDeployment; memoryMb: number }

/**
 * Registers each server's image and deployment. Deploys run one after the other (deployAfter), so only one server's
 * two slots overlap at a time; the order only sequences them — a server whose inputs did not change is not run.
 */
export function deployServers(ctx: ServersContext, servers: readonly McpServerArgs[]): DeployedServer[] {
  const parent = { parent: ctx.parent };
  let previous: pulumi.Resource | undefined;
  return servers.map((s) => {
    const image = new McpImage(`${ctx.name}-${s.name}-image`, s.image !== undefined ? { image: s.image } : {
      ...(s.build ? { build: s.build } : {}), repository: ctx.repository, tag: s.tag ?? `${s.name}-v${packageVersion()}`,
      ...(ctx.pushRegistry ? { registry: ctx.pushRegistry } : {}),
    }, parent);
    // api-key and oauth: the keys that grant it, then the gateway's token (under oauth, accepted next to access tokens).
    const keys = ctx.authMode !== "none"
      ? { API_KEYS: pulumi.output(ctx.keyEntries ?? "").apply((k) => serverApiKeys(splitList(k), s.name).join(",")) }
      : {};
    const secretEnv = pulumi.secret(pulumi.all([pulumi.output(s.secrets ?? {}), keys])
      .apply(([secrets, k]) => ({ ...secrets, ...k }) as Record<string, string>));
    const ports = serverPorts(s);
    const memoryMb = s.memoryMb ?? ctx.defaults.memoryMb;
    const healthTimeoutSeconds = s.healthTimeoutSeconds ?? ctx.defaults.healthTimeoutSeconds;
    const deployment = new McpDeployment(`${ctx.name}-${s.name}-deploy`, {
      ...ctx.shared, site: false, app: s.name, image: image.digest, pullConfig: ctx.pullConfig,
      port: ports.port, metricsPort: ports.metricsPort,
      memoryMb, cpus: s.cpus ?? ctx.defaults.cpus, healthPath: s.healthPath ?? DEFAULTS.healthPath,
      ...(healthTimeoutSeconds ? { healthTimeoutSeconds } : {}),
      // Under oauth the server is its own resource, https://<domain>/<name>/mcp (OAUTH_AUDIENCE defaults to PUBLIC_URL/mcp).
      env: { ...s.env, PUBLIC_URL: serverPublicUrl(String(ctx.shared.domain), s.name), AUTH_MODE: ctx.authMode, ...(ctx.oauth ? oauthIssuerEnv(ctx.oauth) : {}) },
      secretEnv,
      ...(previous ? { deployAfter: [previous] } : {}),
    }, parent);
    previous = deployment.deploy;
    return { name: s.name, image, deployment, memoryMb };
  });
}

/** The route limits of a server: its own rate limit and body size, else SelfHostedMcp's. */
export function serverLimits(s: McpServerArgs, fallback: McpDeploymentArgs["limits"]): McpDeploymentArgs["limits"] {
  return {
    ...fallback,
    ...(s.rateLimit === false ? { perIp: false } : s.rateLimit ? { perIp: { rate: `${s.rateLimit.perSecond}r/s`, burst: s.rateLimit.burst ?? DEFAULTS.rateLimitBurst } } : {}),
    ...(s.maxBodySize ? { maxBodySize: s.maxBodySize } : {}),
  };
}
