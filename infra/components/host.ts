// McpHost: the droplet and what surrounds it (SSH key, firewall, optional reserved IP and DNS records), plus a
// remote command that waits for cloud-init before anything else touches the host.
import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import * as command from "@pulumi/command";
import { renderCloudInit } from "../render/cloud-init.ts";
import { pickDropletSize, findDropletSize, swapMbFor, type MemoryBudget } from "../render/droplet-size.ts";
import { remoteScript } from "../render/remote-script.ts";
import { ANY_ADDRESS } from "../config.ts";

export type Connection = command.types.input.remote.ConnectionArgs;

export interface McpHostArgs {
  /** DigitalOcean region slug, e.g. fra1. */
  region: string;
  /** Droplet size slug; default: the smallest Basic size that fits memoryBudget. */
  size?: string;
  /** What the containers need; two slots run side by side during a deploy. Default 256 MB, 1 vCPU. */
  memoryBudget?: Partial<MemoryBudget>;
  /** Droplet image slug (default: Ubuntu 24.04 LTS). */
  image?: string;
  /** OpenSSH public key line: registered with DigitalOcean and authorized for the deploy user. */
  sshPublicKey: string;
  /** Private key for the remote commands (secret); default: the local SSH agent. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Deploy user created by cloud-init (docker group, passwordless sudo). Default "deploy". */
  sshUser?: string;
  sshPort?: number;
  /** Sources allowed to reach SSH. Required and non-empty; 0.0.0.0/0 or ::/0 only with allowSshFromAnywhere. */
  adminCidrs: string[];
  allowSshFromAnywhere?: boolean;
  /** Give the droplet a reserved IPv4 that survives replacement. */
  reservedIp?: boolean;
  /** A/AAAA records for `domain` in the DigitalOcean-hosted `zone`. */
  dns?: { zone: string; domain: string; ttl?: number };
  tags?: string[];
  /** Bound on the cloud-init wait (seconds, default 900). */
  cloudInitTimeoutSeconds?: number;
}

/** Programs the deployment scripts need on the host (cloud-init installs them). */
export const REQUIRED_HOST_COMMANDS = ["docker", "nginx", "certbot", "curl"];

export function validateHostArgs(a: McpHostArgs): void {
  if (!Array.isArray(a.adminCidrs) || a.adminCidrs.length === 0) {
    throw new Error("McpHost adminCidrs: list at least one CIDR allowed to reach SSH (e.g. 203.0.113.7/32); SSH is never opened silently");
  }
  const world = a.adminCidrs.filter((c) => ANY_ADDRESS.includes(c));
  if (world.length > 0 && !a.allowSshFromAnywhere) {
    throw new Error(`McpHost adminCidrs: ${world.join(", ")} opens SSH to everyone; pass allowSshFromAnywhere: true to mean it`);
  }
  if (a.dns && a.dns.domain !== a.dns.zone && !a.dns.domain.endsWith(`.${a.dns.zone}`)) {
    throw new Error(`McpHost dns: domain ${a.dns.domain} is not inside zone ${a.dns.zone}`);
  }
}

/** The record name of `domain` relative to `zone` ("@" for the apex). */
export function recordName(domain: string, zone: string): string {
  return domain === zone ? "@" : domain.slice(0, -(zone.length + 1));
}

export class McpHost extends pulumi.ComponentResource {
  readonly sshKey: digitalocean.SshKey;
  readonly droplet: digitalocean.Droplet;
  readonly firewall: digitalocean.Firewall;
  readonly reservedIp?: digitalocean.ReservedIp;
  readonly dnsRecords: digitalocean.DnsRecord[];
  /** Runs `cloud-init status --wait` (bounded) and checks the tools; depend on it before touching the host. */
  readonly ready: command.remote.Command;
  /** Public IPv4: the reserved IP when requested, else the droplet's. */
  readonly ipv4: pulumi.Output<string>;
  readonly ipv6: pulumi.Output<string>;
  readonly dropletId: pulumi.Output<string>;
  /** SSH connection for remote commands (secret when it carries a private key). */
  readonly connection: pulumi.Output<Connection>;
  readonly sizeSlug: string;
  readonly userData: string;

  constructor(name: string, args: McpHostArgs, opts?: pulumi.ComponentResourceOptions) {
    validateHostArgs(args);
    super("selfhosted-mcp:index:McpHost", name, {}, opts);
    const user = args.sshUser ?? "deploy";
    const sshPort = args.sshPort ?? 22;
    const budget: MemoryBudget = { containerMemoryMb: 256, containerCpus: 1, ...args.memoryBudget };
    this.sizeSlug = args.size ?? pickDropletSize(budget).slug;
    const memoryMb = findDropletSize(this.sizeSlug)?.memoryMb ?? 4096;
    this.userData = renderCloudInit({ user, sshAuthorizedKeys: [args.sshPublicKey], sshPort, swapMb: swapMbFor(memoryMb) });
    const parent = { parent: this };

    this.sshKey = new digitalocean.SshKey(`${name}-key`, { name: `${name}-deploy`, publicKey: args.sshPublicKey }, parent);
    this.droplet = new digitalocean.Droplet(`${name}-droplet`, {
      name, region: args.region, size: this.sizeSlug, image: args.image ?? "ubuntu-24-04-x64",
      monitoring: true, ipv6: true, sshKeys: [this.sshKey.fingerprint], userData: this.userData,
      tags: args.tags ?? ["selfhosted-mcp"],
    }, parent);
    const dropletNumericId = this.droplet.id.apply((id) => Number(id));
    this.firewall = new digitalocean.Firewall(`${name}-firewall`, {
      name: `${name}-firewall`,
      dropletIds: [dropletNumericId],
      inboundRules: [
        { protocol: "tcp", portRange: String(sshPort), sourceAddresses: args.adminCidrs },
        { protocol: "tcp", portRange: "80", sourceAddresses: ANY_ADDRESS },
        { protocol: "tcp", portRange: "443", sourceAddresses: ANY_ADDRESS },
        { protocol: "icmp", sourceAddresses: ANY_ADDRESS },
      ],
      outboundRules: [
        { protocol: "tcp", portRange: "1-65535", destinationAddresses: ANY_ADDRESS },
        { protocol: "udp", portRange: "1-65535", destinationAddresses: ANY_ADDRESS },
        { protocol: "icmp", destinationAddresses: ANY_ADDRESS },
      ],
    }, parent);
    if (args.reservedIp) {
      this.reservedIp = new digitalocean.ReservedIp(`${name}-ip`, { region: args.region, dropletId: dropletNumericId }, parent);
    }
    this.ipv4 = this.reservedIp ? this.reservedIp.ipAddress : this.droplet.ipv4Address;
    this.ipv6 = this.droplet.ipv6Address;
    this.dropletId = this.droplet.id;
    this.dnsRecords = [];
    if (args.dns) {
      const rec = recordName(args.dns.domain, args.dns.zone);
      const ttl = args.dns.ttl ?? 300;
      this.dnsRecords.push(
        new digitalocean.DnsRecord(`${name}-a`, { domain: args.dns.zone, type: "A", name: rec, value: this.ipv4, ttl }, parent),
        new digitalocean.DnsRecord(`${name}-aaaa`, { domain: args.dns.zone, type: "AAAA", name: rec, value: this.ipv6, ttl }, parent),
      );
    }

    const connection: Connection = {
      host: this.droplet.ipv4Address, port: sshPort, user, dialErrorLimit: 60, perDialTimeout: 10,
      ...(args.sshPrivateKey !== undefined ? { privateKey: pulumi.secret(args.sshPrivateKey) } : {}),
    };
    this.connection = pulumi.output(connection);
    this.ready = new command.remote.Command(`${name}-ready`, {
      connection: this.connection,
      create: remoteScript("host-ready", {
        CLOUD_INIT_TIMEOUT_SECONDS: args.cloudInitTimeoutSeconds ?? 900,
        REQUIRED_COMMANDS: REQUIRED_HOST_COMMANDS.join(" "),
      }),
      triggers: [this.droplet.id],
      addPreviousOutputInEnv: false,
    }, { parent: this, dependsOn: [this.firewall] });

    this.registerOutputs({ ipv4: this.ipv4, ipv6: this.ipv6, dropletId: this.dropletId });
  }
}
