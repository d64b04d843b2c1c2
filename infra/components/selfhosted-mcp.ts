// SelfHostedMcp: the common case — one MCP server on its own droplet behind nginx with TLS — composed from
// McpHost, McpImage and McpDeployment (all exported; compose them yourself to bring your own droplet or registry).
import * as pulumi from "@pulumi/pulumi";
import { McpHost, type McpHostArgs } from "./host.ts";
import { McpImage, docrRegionFor, type McpImageBuild, type ExternalRegistry, type DocrRegistry } from "./image.ts";
import { McpDeployment, type McpDeploymentArgs } from "./deployment.ts";
import { deployServers, serverLimits, type DeployedServer, type McpServerArgs, type McpGatewayArgs } from "./servers.ts";
import { gatewayMounts, gatewayScopeEnv, gatewayUpstreamEnv, gatewayUpstreamTokens, oauthIssuerEnv } from "../render/servers.ts";
import { packagePath, packageVersion } from "../package-files.ts";
import { GATEWAY_DOCKERFILE } from "../../contract/image-build.ts";
import { McpMonitoring, type McpMonitoringArgs } from "../monitoring/do-monitoring.ts";
import { McpSmokeTimer, type McpSmokeTimerArgs } from "../monitoring/smoke-timer-component.ts";
import { McpMonitoringStack, planMonitoringStack, type McpMonitoringStackArgs } from "../monitoring/monitoring-stack.ts";
import { splitList } from "../../contract/list.ts";
import { scrapeTargets, serverSmokeTimers } from "./servers-monitoring.ts";
import { publicHealthPath } from "../../nginx/index.ts";
import { validateSelfHostedMcpArgs, MANAGED_ENV } from "./selfhosted-mcp-args.ts";
import { DEFAULTS } from "../defaults.ts";

export { MANAGED_ENV, type McpServerArgs, type McpGatewayArgs };

/** Host settings passed through to McpHost (see McpHostArgs); size defaults to the smallest that fits `resources`. */
type HostPassThrough = "connectionLimit" | "size" | "resizeDisk" | "swapMb" | "sshPublicKey" | "sshKeys" | "sshPrivateKey" | "sshPrivateKeyPassword"
  | "sshAgentSocket" | "sshUser" | "sshPort" | "adminCidrs" | "allowSshFromAnywhere" | "reservedIp";

export interface SelfHostedMcpArgs extends Pick<McpHostArgs, HostPassThrough> {
  /** Public host name, e.g. mcp.example.com. */
  domain: string;
  /** DigitalOcean region (default fra1). */
  region?: string;
  dropletImage?: string;
  /** DigitalOcean-hosted DNS zone holding `domain`: A/AAAA records are managed when set. */
  dnsZone?: string;
  /** The server: a build context (default: this package's server/) or a prebuilt image pinned by digest. */
  server?: { build?: McpImageBuild; image?: string; repository?: string; tag?: string };
  /**
   * Several servers instead of `server` (docs/infra.md "Several servers behind one gateway"): each in its own
   * containers at `https://<domain>/<name>/mcp`, all behind the gateway at `https://<domain>/mcp`. `env`, `secrets`,
   * `port`, `metricsPort`, `healthPath` and `app` then belong to the gateway; `resources`, `rateLimit` and
   * `maxBodySize` are every server's defaults. `auth` covers both: API key entries `<key>:<server>+<server>` grant only
   * those servers. With `auth.mode` oauth the gateway and every server are OAuth resources of `auth.oauth`'s issuer
   * (the gateway grants each server by scope, `servers[].oauthScope`); `apiKeys` are then still required (the gateway's
   * token to each server derives from them) and keep working next to OAuth.
   */
  servers?: McpServerArgs[];
  /** The gateway in front of `servers` (ignored without them). */
  gateway?: McpGatewayArgs;
  /** Any registry. */
  registry?: ExternalRegistry;
  /**
   * DigitalOcean Container Registry (name globally unique; see DocrRegistry). Its region defaults to the droplet's
   * when DOCR has storage there. One of registry / docr is needed unless server.image is a public image.
   */
  docr?: DocrRegistry;
  /** Non-secret environment of the server. */
  env?: Record<string, pulumi.Input<string>>;
  /** Secret environment (written only to the host's env file, mode 0600). */
  secrets?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * `oauth` (with mode oauth; required with `servers`): the authorization server (issuer and JWKS URL) the server, or
   * the gateway and every server of `servers`, trust: their OAUTH_ISSUER / OAUTH_JWKS_URL (docs/server.md).
   */
  auth?: { mode: "none" | "api-key" | "oauth"; apiKeys?: pulumi.Input<string>; oauth?: { issuer: string; jwksUrl: string } };
  /** nginx limits per client IP; false disables. */
  rateLimit?: { perSecond: number; burst?: number } | false;
  maxBodySize?: string;
  /** Addresses nginx listens on (default all IPv4 and IPv6: "*", "[::]"). */
  listenAddresses?: string[];
  resources?: { memoryMb?: number; cpus?: number };
  acme: { email: string; server?: string; caBundle?: string; certbotConfigDir?: string };
  /** Blue slot ports (green: +1). Defaults 8000 / 9090. */
  port?: number;
  metricsPort?: number;
  healthPath?: string;
  /** Bound on the health gate of a deploy (default 90 s). */
  healthTimeoutSeconds?: number;
  /** Seconds the old slot keeps running after the switch (default 5). */
  drainSeconds?: number;
  /** Seconds between Docker's health probes of every container (default 30; McpDeployment healthCheckIntervalSeconds). */
  healthCheckIntervalSeconds?: number;
  /** Short name of the server on the host (containers, nginx names). Default "mcp". */
  app?: string;
  /** DigitalOcean uptime check on healthUrl + droplet CPU/memory/disk alerts (McpMonitoring); off when absent. */
  monitoring?: Omit<McpMonitoringArgs, "healthUrl" | "dropletIds">;
  /**
   * Prometheus + Alertmanager + node_exporter on the droplet (McpMonitoringStack): evaluates the package's alert rules
   * against both slots and notifies the receivers (at least one; their secrets in `secrets`); off when absent. With
   * `servers`: every server's slots (label `server`) and the gateway's (job selfhosted-mcp-gateway).
   */
  alertStack?: Omit<McpMonitoringStackArgs, "connection" | "app" | "port" | "metricsPort" | "servers" | "dependsOn" | "hostId" | "host">;
  /**
   * Smoke-test systemd timer on the droplet (McpSmokeTimer); off when absent. Its `textfileDir` defaults to the
   * alert stack's node_exporter textfile directory, so the smoke metrics reach Prometheus. With `servers` it checks
   * the gateway (with `token`) and, with a timer each, every server through its route with a key granting it.
   */
  smokeTimer?: Omit<McpSmokeTimerArgs, "connection" | "app" | "url" | "dependsOn" | "hostId" | "server">;
}

export class SelfHostedMcp extends pulumi.ComponentResource {
  readonly host: McpHost;
  readonly image: McpImage;
  /** The deployment behind `https://<domain>/mcp`: the server's, or the gateway's with `servers`. */
  readonly deployment: McpDeployment;
  /** With `servers`: each server's image and deployment, in order. */
  readonly servers: DeployedServer[] = [];
  readonly url: pulumi.Output<string>;
  readonly healthUrl: pulumi.Output<string>;
  readonly ipv4: pulumi.Output<string>;
  readonly imageDigest: pulumi.Output<string>;
  readonly dropletId: pulumi.Output<string>;
  readonly monitoring?: McpMonitoring;
  readonly alertStack?: McpMonitoringStack;
  readonly smokeTimer?: McpSmokeTimer;
  /** With `servers` and `smokeTimer`: each server's own timer, in order. */
  readonly serverSmokeTimers: McpSmokeTimer[] = [];

  constructor(name: string, args: SelfHostedMcpArgs, opts?: pulumi.ComponentResourceOptions) {
    const app = args.app ?? DEFAULTS.app;
    const port = args.port ?? DEFAULTS.port;
    const metricsPort = args.metricsPort ?? DEFAULTS.metricsPort;
    // Options that fail only in a later component are checked before anything registers.
    validateSelfHostedMcpArgs(args);
    const scraped = args.servers ? { servers: scrapeTargets(args.servers) } : {};
    if (args.alertStack) {
      const { secrets, ...options } = args.alertStack;
      planMonitoringStack({ ...options, app, port, metricsPort, ...scraped }, secrets);
    }
    super("selfhosted-mcp:index:SelfHostedMcp", name, {}, opts);
    const memoryMb = args.resources?.memoryMb ?? DEFAULTS.memoryMb;
    const cpus = args.resources?.cpus ?? DEFAULTS.cpus;
    const multi = args.servers !== undefined;
    const gatewayMemoryMb = args.gateway?.memoryMb ?? GATEWAY_MEMORY_MB;
    const hostArgs: McpHostArgs = {
      region: args.region ?? DEFAULTS.region, resources: multi ? multiResources(args, memoryMb, cpus, gatewayMemoryMb) : { memoryMb, cpus },
      sshPublicKey: args.sshPublicKey, adminCidrs: args.adminCidrs,
      ...pick(args, ["connectionLimit", "size", "resizeDisk", "swapMb", "sshKeys", "sshPrivateKey", "sshPrivateKeyPassword", "sshAgentSocket", "sshUser", "sshPort",
        "allowSshFromAnywhere", "reservedIp"]),
      ...(args.dropletImage ? { dropletImage: args.dropletImage } : {}),
      ...(args.dnsZone ? { dns: { zone: args.dnsZone, domain: args.domain } } : {}),
    };
    this.host = new McpHost(`${name}-host`, hostArgs, { parent: this });
    // The image behind /mcp (the server's, or the gateway's); it carries the stack's registry.
    const image = multi ? gatewayImage(args.gateway ?? {}, args.server?.repository) : args.server ?? {};
    this.image = new McpImage(`${name}-image`, {
      ...(image.build ? { build: image.build } : {}),
      ...(image.image ? { image: image.image } : {}),
      ...(image.repository ? { repository: image.repository } : {}),
      ...(image.tag ? { tag: image.tag } : {}),
      ...(args.registry ? { registry: args.registry } : {}),
      ...(!args.registry && args.docr ? { docr: { ...args.docr, ...docrRegion(args.docr, hostArgs.region) } } : {}),
    }, { parent: this });

    const authMode = args.auth?.mode ?? DEFAULTS.authMode;
    const oauth = authMode === "oauth" ? args.auth?.oauth : undefined;
    const publicUrl = `https://${args.domain}`;
    const host = this.host;
    const limits: McpDeploymentArgs["limits"] = {
      perIp: args.rateLimit === false ? false : { rate: `${args.rateLimit?.perSecond ?? DEFAULTS.rateLimitPerSecond}r/s`, burst: args.rateLimit?.burst ?? DEFAULTS.rateLimitBurst },
      ...(args.maxBodySize ? { maxBodySize: args.maxBodySize } : {}),
    };
    const shared = {
      connection: host.connection, hostReady: host.ready, hostId: host.dropletId, host: host.droplet, domain: args.domain,
      acmeEmail: args.acme.email, ...pick(args, ["drainSeconds", "healthCheckIntervalSeconds"]),
    };
    if (multi) {
      this.servers = deployServers({
        parent: this, name, shared, repository: args.server?.repository ?? DEFAULTS.imageRepository, pullConfig: this.image.pullConfig,
        ...(this.image.pushRegistry ? { pushRegistry: this.image.pushRegistry } : {}),
        authMode, ...(args.auth?.apiKeys ? { keyEntries: args.auth.apiKeys } : {}), ...(oauth ? { oauth } : {}),
        defaults: { memoryMb, cpus, limits, healthTimeoutSeconds: args.healthTimeoutSeconds },
      }, args.servers!);
    }
    const names = this.servers.map((s) => s.name);
    // An OAuth resource (the server, or the gateway): its issuer, audience = PUBLIC_URL/mcp (its default); the gateway
    // also a scope per server.
    const oauthEnv = oauth ? { ...oauthIssuerEnv(oauth), ...(multi ? gatewayScopeEnv(args.servers!) : {}) } : {};
    const apiKeys = args.auth?.apiKeys ?? "";
    // Single server: its keys as given. Gateway: the entries with their grants, and a token per server (render/servers.ts).
    const secretEnv = pulumi.secret(pulumi.all([pulumi.output(args.secrets ?? {}), apiKeys])
      .apply(([s, keys]) => ({
        ...s, ...(keys ? { API_KEYS: splitList(keys).join(",") } : {}),
        ...(keys && multi && authMode !== "none" ? gatewayUpstreamTokens(splitList(keys), names) : {}),
      }) as Record<string, string>));
    this.deployment = new McpDeployment(`${name}-deploy`, {
      ...shared,
      // The reserved IP and DNS records move to a (new) droplet only after it deployed; then the certificate.
      publish: (deployed) => host.publish([deployed]),
      image: this.image.digest, pullConfig: this.image.pullConfig,
      app, port, metricsPort,
      memoryMb: multi ? gatewayMemoryMb : memoryMb, cpus: multi ? args.gateway?.cpus ?? cpus : cpus, healthPath: args.healthPath ?? DEFAULTS.healthPath,
      ...pick(args, ["healthTimeoutSeconds"]),
      ...(args.acme.server ? { acmeServer: args.acme.server } : {}),
      ...(args.acme.caBundle ? { acmeCaBundle: args.acme.caBundle } : {}),
      ...(args.acme.certbotConfigDir ? { certbotConfigDir: args.acme.certbotConfigDir } : {}),
      limits,
      ...(args.listenAddresses?.length ? { nginx: { listenAddresses: args.listenAddresses } } : {}),
      env: { ...args.env, PUBLIC_URL: publicUrl, AUTH_MODE: authMode, ...(multi ? gatewayUpstreamEnv(names) : {}), ...oauthEnv },
      secretEnv,
      ...(multi ? {
        routes: args.servers!.map((s) => ({ name: s.name, healthPath: s.healthPath ?? DEFAULTS.healthPath, limits: serverLimits(s, limits) })),
        readOnlyDirs: gatewayMounts(names),
        // Its site includes every server's upstream include, and its slots mount their socket directories.
        deployAfter: this.servers.map((s) => s.deployment.deploy),
      } : {}),
    }, { parent: this });

    this.ipv4 = this.host.ipv4;
    this.dropletId = this.host.dropletId;
    this.imageDigest = this.image.digest;
    this.url = pulumi.output(`${publicUrl}/mcp`);
    // The nginx location the deployment renders for the server's healthPath (one value: the run contract's).
    this.healthUrl = pulumi.output(`${publicUrl}${publicHealthPath("/mcp", args.healthPath ?? DEFAULTS.healthPath)}`);
    if (args.monitoring) {
      this.monitoring = new McpMonitoring(`${name}-monitoring`, { ...args.monitoring, healthUrl: this.healthUrl, dropletIds: [this.dropletId] }, { parent: this });
    }
    if (args.alertStack) {
      // Scrape targets are the slots' static loopback ports: it needs a ready host, not a deploy.
      this.alertStack = new McpMonitoringStack(`${name}-alert-stack`, {
        ...args.alertStack, connection: host.connection, app, port, metricsPort, ...scraped,
        hostId: host.dropletId, host: host.droplet, dependsOn: [host.ready],
      }, { parent: this });
    }
    if (args.smokeTimer) {
      const textfileDir = args.smokeTimer.textfileDir ?? this.alertStack?.textfileDir;
      // A private ACME CA (acme.caBundle) signs the site's certificate: the smoke test must trust it too.
      const caBundle = args.smokeTimer.caBundle ?? args.acme.caBundle;
      this.smokeTimer = new McpSmokeTimer(`${name}-smoke`, {
        ...args.smokeTimer, ...(textfileDir ? { textfileDir } : {}), ...(caBundle ? { caBundle } : {}), connection: host.connection, hostId: host.dropletId, app, url: publicUrl,
        dependsOn: [this.deployment.deploy, this.deployment.certificate!],
      }, { parent: this, deletedWith: host.droplet });
      const { token: _gatewayToken, ...options } = args.smokeTimer;
      this.serverSmokeTimers = serverSmokeTimers({
        parent: this, name, domain: args.domain, options: { ...options, ...(textfileDir ? { textfileDir } : {}), ...(caBundle ? { caBundle } : {}) },
        connection: host.connection, hostId: host.dropletId, dependsOn: [this.deployment.certificate!], deletedWith: host.droplet,
        ...(authMode !== "none" && args.auth?.apiKeys !== undefined ? { keyEntries: args.auth.apiKeys } : {}),
      }, this.servers);
    }
    this.registerOutputs({ url: this.url, healthUrl: this.healthUrl, ipv4: this.ipv4, imageDigest: this.imageDigest, dropletId: this.dropletId });
  }
}

/** The gateway's default container memory limit, MB (docs/gateway.md "Measured": 80-116 MiB RSS, three servers). */
export const GATEWAY_MEMORY_MB = 192;

/**
 * The gateway image: this package's gateway (gateway/Dockerfile) unless an image or a build with its own `context`
 * is given; a build without `context` (e.g. `{ baseImage, platform }`) builds this package's gateway with those.
 */
function gatewayImage(g: McpGatewayArgs, repository: string | undefined): NonNullable<SelfHostedMcpArgs["server"]> {
  if (g.image !== undefined) return { image: g.image };
  const build = g.build?.context !== undefined ? g.build
    : { ...g.build, context: packagePath(".").replace(/\/+$/, ""), dockerfile: packagePath(GATEWAY_DOCKERFILE) };
  return { build, tag: g.tag ?? `gateway-v${packageVersion()}`, ...(repository ? { repository } : {}) };
}

/**
 * The droplet's memory budget with `servers`: every container at its limit, plus a second slot of the largest one
 * (deploys run one after the other, so at most one pair overlaps; infra/render/droplet-size.ts).
 */
function multiResources(args: SelfHostedMcpArgs, memoryMb: number, cpus: number, gatewayMemoryMb: number) {
  const limits = [gatewayMemoryMb, ...args.servers!.map((s) => s.memoryMb ?? memoryMb)];
  const largest = Math.max(...limits);
  return {
    memoryMb: largest, otherContainersMemoryMb: limits.reduce((a, b) => a + b, 0) - largest,
    cpus: Math.max(cpus, args.gateway?.cpus ?? cpus, ...args.servers!.map((s) => s.cpus ?? cpus)),
  };
}

/** The droplet's region for the registry unless one is given, and only where DOCR stores data (else DO picks). */
function docrRegion(docr: DocrRegistry, dropletRegion: string): { region?: string } {
  const region = docr.region ?? docrRegionFor(dropletRegion);
  return region ? { region } : {};
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
