// SelfHostedMcp: the common case — one MCP server on its own droplet behind nginx with TLS — composed from
// McpHost, McpImage and McpDeployment (all exported; compose them yourself to bring your own droplet or registry).
import * as pulumi from "@pulumi/pulumi";
import { McpHost, type McpHostArgs } from "./host.ts";
import { McpImage, docrRegionFor, type McpImageBuild, type ExternalRegistry, type DocrRegistry } from "./image.ts";
import { McpDeployment } from "./deployment.ts";
import { McpMonitoring, type McpMonitoringArgs } from "../monitoring/do-monitoring.ts";
import { McpSmokeTimer, type McpSmokeTimerArgs } from "../monitoring/smoke-timer-component.ts";
import { McpMonitoringStack, planMonitoringStack, type McpMonitoringStackArgs } from "../monitoring/monitoring-stack.ts";
import { splitList } from "../../contract/list.ts";
import { publicHealthPath } from "../../nginx/index.ts";
import { validateSelfHostedMcpArgs, MANAGED_ENV } from "./selfhosted-mcp-args.ts";
import { DEFAULTS } from "../defaults.ts";

export { MANAGED_ENV };

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
  auth?: { mode: "none" | "api-key" | "oauth"; apiKeys?: pulumi.Input<string> };
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
  /** Short name of the server on the host (containers, nginx names). Default "mcp". */
  app?: string;
  /** DigitalOcean uptime check on healthUrl + droplet CPU/memory/disk alerts (McpMonitoring); off when absent. */
  monitoring?: Omit<McpMonitoringArgs, "healthUrl" | "dropletIds">;
  /**
   * Prometheus + Alertmanager + node_exporter on the droplet (McpMonitoringStack): evaluates the package's alert rules
   * against both slots and notifies the receivers (at least one; their secrets in `secrets`); off when absent.
   */
  alertStack?: Omit<McpMonitoringStackArgs, "connection" | "app" | "port" | "metricsPort" | "dependsOn" | "hostId" | "host">;
  /**
   * Smoke-test systemd timer on the droplet (McpSmokeTimer); off when absent. Its `textfileDir` defaults to the
   * alert stack's node_exporter textfile directory, so the smoke metrics reach Prometheus.
   */
  smokeTimer?: Omit<McpSmokeTimerArgs, "connection" | "app" | "url" | "dependsOn" | "hostId">;
}

export class SelfHostedMcp extends pulumi.ComponentResource {
  readonly host: McpHost;
  readonly image: McpImage;
  readonly deployment: McpDeployment;
  readonly url: pulumi.Output<string>;
  readonly healthUrl: pulumi.Output<string>;
  readonly ipv4: pulumi.Output<string>;
  readonly imageDigest: pulumi.Output<string>;
  readonly dropletId: pulumi.Output<string>;
  readonly monitoring?: McpMonitoring;
  readonly alertStack?: McpMonitoringStack;
  readonly smokeTimer?: McpSmokeTimer;

  constructor(name: string, args: SelfHostedMcpArgs, opts?: pulumi.ComponentResourceOptions) {
    const app = args.app ?? DEFAULTS.app;
    const port = args.port ?? DEFAULTS.port;
    const metricsPort = args.metricsPort ?? DEFAULTS.metricsPort;
    // Options that fail only in a later component are checked before anything registers.
    validateSelfHostedMcpArgs(args);
    if (args.alertStack) {
      const { secrets, ...options } = args.alertStack;
      planMonitoringStack({ ...options, app, port, metricsPort }, secrets);
    }
    super("selfhosted-mcp:index:SelfHostedMcp", name, {}, opts);
    const memoryMb = args.resources?.memoryMb ?? DEFAULTS.memoryMb;
    const cpus = args.resources?.cpus ?? DEFAULTS.cpus;
    const hostArgs: McpHostArgs = {
      region: args.region ?? DEFAULTS.region, resources: { memoryMb, cpus },
      sshPublicKey: args.sshPublicKey, adminCidrs: args.adminCidrs,
      ...pick(args, ["connectionLimit", "size", "resizeDisk", "swapMb", "sshKeys", "sshPrivateKey", "sshPrivateKeyPassword", "sshAgentSocket", "sshUser", "sshPort",
        "allowSshFromAnywhere", "reservedIp"]),
      ...(args.dropletImage ? { dropletImage: args.dropletImage } : {}),
      ...(args.dnsZone ? { dns: { zone: args.dnsZone, domain: args.domain } } : {}),
    };
    this.host = new McpHost(`${name}-host`, hostArgs, { parent: this });
    this.image = new McpImage(`${name}-image`, {
      ...(args.server?.build ? { build: args.server.build } : {}),
      ...(args.server?.image ? { image: args.server.image } : {}),
      ...(args.server?.repository ? { repository: args.server.repository } : {}),
      ...(args.server?.tag ? { tag: args.server.tag } : {}),
      ...(args.registry ? { registry: args.registry } : {}),
      ...(!args.registry && args.docr ? { docr: { ...args.docr, ...docrRegion(args.docr, hostArgs.region) } } : {}),
    }, { parent: this });

    const authMode = args.auth?.mode ?? DEFAULTS.authMode;
    const publicUrl = `https://${args.domain}`;
    const secretEnv = pulumi.secret(pulumi.all([pulumi.output(args.secrets ?? {}), args.auth?.apiKeys ?? ""])
      .apply(([s, keys]) => ({ ...s, ...(keys ? { API_KEYS: splitList(keys).join(",") } : {}) }) as Record<string, string>));
    const host = this.host;
    this.deployment = new McpDeployment(`${name}-deploy`, {
      connection: host.connection, hostReady: host.ready, hostId: host.dropletId, host: host.droplet,
      // The reserved IP and DNS records move to a (new) droplet only after it deployed; then the certificate.
      publish: (deployed) => host.publish([deployed]),
      image: this.image.digest, pullConfig: this.image.pullConfig,
      app, domain: args.domain, port, metricsPort,
      memoryMb, cpus, healthPath: args.healthPath ?? DEFAULTS.healthPath,
      ...pick(args, ["healthTimeoutSeconds", "drainSeconds"]),
      acmeEmail: args.acme.email,
      ...(args.acme.server ? { acmeServer: args.acme.server } : {}),
      ...(args.acme.caBundle ? { acmeCaBundle: args.acme.caBundle } : {}),
      ...(args.acme.certbotConfigDir ? { certbotConfigDir: args.acme.certbotConfigDir } : {}),
      limits: {
        perIp: args.rateLimit === false ? false : { rate: `${args.rateLimit?.perSecond ?? DEFAULTS.rateLimitPerSecond}r/s`, burst: args.rateLimit?.burst ?? DEFAULTS.rateLimitBurst },
        ...(args.maxBodySize ? { maxBodySize: args.maxBodySize } : {}),
      },
      ...(args.listenAddresses?.length ? { nginx: { listenAddresses: args.listenAddresses } } : {}),
      env: { ...args.env, PUBLIC_URL: publicUrl, AUTH_MODE: authMode },
      secretEnv,
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
        ...args.alertStack, connection: host.connection, app, port, metricsPort,
        hostId: host.dropletId, host: host.droplet, dependsOn: [host.ready],
      }, { parent: this });
    }
    if (args.smokeTimer) {
      const textfileDir = args.smokeTimer.textfileDir ?? this.alertStack?.textfileDir;
      this.smokeTimer = new McpSmokeTimer(`${name}-smoke`, {
        ...args.smokeTimer, ...(textfileDir ? { textfileDir } : {}), connection: host.connection, hostId: host.dropletId, app, url: publicUrl,
        dependsOn: [this.deployment.deploy, this.deployment.certificate],
      }, { parent: this, deletedWith: host.droplet });
    }
    this.registerOutputs({ url: this.url, healthUrl: this.healthUrl, ipv4: this.ipv4, imageDigest: this.imageDigest, dropletId: this.dropletId });
  }
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
