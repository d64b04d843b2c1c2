// McpHost: the droplet and what surrounds it (SSH key, firewall, optional reserved IP and DNS records), plus a
// remote command that waits for cloud-init before anything else touches the host.
import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import * as command from "@pulumi/command";
import { renderCloudInit } from "../render/cloud-init.ts";
import { pickDropletSize, findDropletSize, swapMbFor, type ContainerResources } from "../render/droplet-size.ts";
import { renderHostReady } from "../render/host-ready.ts";
import { renderConnlimitScript, type ConnlimitOptionsInput } from "../../nginx/index.ts";
import { validateHostArgs, ANY_ADDRESS } from "./host-args.ts";
import { DEFAULTS } from "../defaults.ts";
import { UPGRADE_FROM_TRIGGERS } from "./upgrades.ts";

export type Connection = command.types.input.remote.ConnectionArgs;

/**
 * The identity of the host a remote command targets: `hostId` (McpHost.dropletId) when given, else the connection's
 * address. Commands put it into their create/update string (onHost), so a new host — even at the same address — is
 * an input change: an in-place update that runs them again there.
 */
export function hostIdentity(hostId: pulumi.Input<string> | undefined, connection: pulumi.Input<Connection>): pulumi.Output<string> {
  return hostId !== undefined ? pulumi.output(hostId) : pulumi.unsecret(pulumi.output(connection).apply((c) => String(c.host)));
}

export interface McpHostArgs {
  /** DigitalOcean region slug, e.g. fra1 (ForceNew: a change replaces the droplet). */
  region: string;
  /** Droplet size slug; default: the smallest Basic size that fits `resources`. A change resizes in place. */
  size?: string;
  /**
   * Grow the disk with a resize (default false). The provider's default is true, but a grown disk can never shrink:
   * with false only CPU/RAM change and a later downsize stays possible (terraform-provider-digitalocean resize_disk).
   */
  resizeDisk?: boolean;
  /** What one server container may use (McpDeployment's memoryMb/cpus); two slots run side by side during a deploy. Default 256 MB, 1 CPU. */
  resources?: Partial<ContainerResources>;
  /** Droplet image slug (default: Ubuntu 24.04 LTS; ForceNew). */
  dropletImage?: string;
  /** OpenSSH public key line authorized for the deploy user (in the user-data: a change replaces the droplet). */
  sshPublicKey: string;
  /**
   * SSH keys already on the DigitalOcean account (numeric ids or MD5 fingerprints, `ssh-keygen -l -E md5 -f key.pub`)
   * the droplet is created with. When absent, sshPublicKey is uploaded as a new DigitalOcean SSH key — which the API
   * refuses (422 "SSH Key is already in use on your account") when that key is on the account already.
   */
  sshKeys?: string[];
  /** Private key for the remote commands (secret); default: the SSH agent. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Passphrase of an encrypted sshPrivateKey (secret). */
  sshPrivateKeyPassword?: pulumi.Input<string>;
  /** SSH agent socket for the remote commands; default: SSH_AUTH_SOCK of the `pulumi` process. */
  sshAgentSocket?: string;
  /** Deploy user created by cloud-init (docker group, passwordless sudo). Default "deploy". */
  sshUser?: string;
  sshPort?: number;
  /** Sources allowed to reach SSH. Required and non-empty; 0.0.0.0/0 or ::/0 only with allowSshFromAnywhere. */
  adminCidrs: string[];
  allowSshFromAnywhere?: boolean;
  /** Give the droplet a reserved IPv4 that survives replacement (assigned by publish()). */
  reservedIp?: boolean;
  /** A/AAAA records for `domain` in the DigitalOcean-hosted `zone` (created by publish()). */
  dns?: { zone: string; domain: string; ttl?: number };
  tags?: string[];
  /** Swap file in MB, set up by the host-ready command (in place on resize). Default: 1024 up to 2 GB RAM, else 0. */
  swapMb?: number;
  /**
   * Per-address connection limit the host-ready command installs in front of nginx (iptables connlimit, see
   * nginx/connlimit.ts): default at most 128 concurrent connections per IPv4 address / IPv6 /64 on 80 and 443.
   * Options are validated when the command renders (errors name the option).
   */
  connectionLimit?: ConnlimitOptionsInput;
  /** Bound on the cloud-init wait (seconds, default 900). */
  cloudInitTimeoutSeconds?: number;
}

/**
 * SSH dial bounds. @pulumi/command 1.2.1 retries a failed dial up to dialErrorLimit times, each bounded by
 * perDialTimeout seconds, sleeping 0.15 s growing 1.5x up to 5 s between tries (provider/pkg/provider/remote/
 * connection.go dialWithRetry; pulumi sdk/go/common/util/retry). The defaults hold for every command that has a
 * delete, so a delete against a host that is gone (or an admin address that changed) fails within
 * sshDialBudgetSeconds (~90 s) with the provider's "after N failed attempts: dial tcp ...". Only host-ready, which
 * waits for a booting droplet and deletes nothing, is patient.
 */
export const SSH_DIAL = { dialErrorLimit: 6, perDialTimeout: 10 } as const;
export const SSH_DIAL_BOOTING = { dialErrorLimit: 40, perDialTimeout: 10 } as const;
export const sshDialBudgetSeconds = (d: { dialErrorLimit: number; perDialTimeout: number }) => d.dialErrorLimit * (d.perDialTimeout + 5);

/** Swap file the host-ready command manages (a name nothing else uses). */
export const SWAP_FILE = "/swapfile.selfhosted-mcp";

/** Programs the deployment scripts need on the host (cloud-init installs them). */
export const REQUIRED_HOST_COMMANDS = ["docker", "nginx", "certbot", "curl"];

/** Checks McpHost's arguments (host-args.ts) and renders the connection limit once (its errors name the option). */
function checkHostArgs(a: McpHostArgs): void {
  validateHostArgs(a);
  if (a.connectionLimit) renderConnlimitScript(a.connectionLimit);
}

/** The record name of `domain` relative to `zone` ("@" for the apex). */
export function recordName(domain: string, zone: string): string {
  return domain === zone ? "@" : domain.slice(0, -(zone.length + 1));
}

export class McpHost extends pulumi.ComponentResource {
  /** The uploaded key; absent when sshKeys names keys already on the account. */
  readonly sshKey?: digitalocean.SshKey;
  readonly droplet: digitalocean.Droplet;
  readonly firewall: digitalocean.Firewall;
  /** The reserved address (assigned to the droplet by publish()). */
  readonly reservedIp?: digitalocean.ReservedIp;
  /** The reserved IP's assignment to the droplet (set by publish()). */
  reservedIpAssignment?: digitalocean.ReservedIpAssignment;
  readonly dnsRecords: digitalocean.DnsRecord[] = [];
  /** Runs `cloud-init status --wait` (bounded), checks the tools and sizes the swap; depend on it before touching the host. */
  readonly ready: command.remote.Command;
  /** Public IPv4: the reserved IP when requested, else the droplet's. */
  readonly ipv4: pulumi.Output<string>;
  readonly ipv6: pulumi.Output<string>;
  readonly dropletId: pulumi.Output<string>;
  /** SSH connection for remote commands (secret when it carries a private key); bounded dials (SSH_DIAL). */
  readonly connection: pulumi.Output<Connection>;
  readonly sizeSlug: string;
  readonly userData: string;
  readonly #args: McpHostArgs;
  readonly #name: string;

  constructor(name: string, args: McpHostArgs, opts?: pulumi.ComponentResourceOptions) {
    checkHostArgs(args);
    super("selfhosted-mcp:index:McpHost", name, {}, opts);
    this.#args = args;
    this.#name = name;
    const user = args.sshUser ?? DEFAULTS.sshUser;
    const sshPort = args.sshPort ?? DEFAULTS.sshPort;
    this.sizeSlug = args.size ?? pickDropletSize({ memoryMb: DEFAULTS.memoryMb, cpus: DEFAULTS.cpus, ...args.resources }).slug;
    const memoryMb = findDropletSize(this.sizeSlug)?.memoryMb ?? 4096;
    this.userData = renderCloudInit({ user, sshAuthorizedKeys: [args.sshPublicKey], sshPort });
    const parent = { parent: this };

    if (!args.sshKeys?.length) {
      this.sshKey = new digitalocean.SshKey(`${name}-key`, { name: `${pulumi.getProject()}-${pulumi.getStack()}-${name}`, publicKey: args.sshPublicKey }, parent);
    }
    this.droplet = new digitalocean.Droplet(`${name}-droplet`, {
      name, region: args.region, size: this.sizeSlug, resizeDisk: args.resizeDisk ?? DEFAULTS.resizeDisk, image: args.dropletImage ?? DEFAULTS.dropletImage,
      monitoring: true, ipv6: true, sshKeys: this.sshKey ? [this.sshKey.fingerprint] : args.sshKeys!, userData: this.userData,
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
      // The address alone (ReservedIp without droplet_id); publish() assigns it once the droplet serves.
      this.reservedIp = new digitalocean.ReservedIp(`${name}-ip`, { region: args.region }, parent);
    }
    this.ipv4 = this.reservedIp ? this.reservedIp.ipAddress : this.droplet.ipv4Address;
    this.ipv6 = this.droplet.ipv6Address;
    this.dropletId = this.droplet.id;

    const connection = (dial: { dialErrorLimit: number; perDialTimeout: number }): pulumi.Output<Connection> => pulumi.output({
      host: this.droplet.ipv4Address, port: sshPort, user, ...dial,
      ...(args.sshPrivateKey !== undefined ? { privateKey: pulumi.secret(args.sshPrivateKey) } : {}),
      ...(args.sshPrivateKeyPassword !== undefined ? { privateKeyPassword: pulumi.secret(args.sshPrivateKeyPassword) } : {}),
      ...(args.sshAgentSocket ? { agentSocketPath: args.sshAgentSocket } : {}),
    });
    this.connection = connection(SSH_DIAL);
    // No triggers (they would replace it, see deployment.ts). The droplet id, the swap size and the connection limit are script inputs: a new droplet, a resize or another
    // limit re-runs it in place (infra/render/host-ready.ts).
    const ready = this.droplet.id.apply((id) => renderHostReady({
      hostId: id, cloudInitTimeoutSeconds: args.cloudInitTimeoutSeconds ?? 900, requiredCommands: REQUIRED_HOST_COMMANDS,
      swapMb: args.swapMb ?? swapMbFor(memoryMb), swapFile: SWAP_FILE, ...(args.connectionLimit ? { connectionLimit: args.connectionLimit } : {}),
    }));
    this.ready = new command.remote.Command(`${name}-ready`, {
      connection: connection(SSH_DIAL_BOOTING), create: ready, update: ready, addPreviousOutputInEnv: false,
    }, { parent: this, ...UPGRADE_FROM_TRIGGERS, dependsOn: [this.firewall] });

    this.registerOutputs({ ipv4: this.ipv4, ipv6: this.ipv6, dropletId: this.dropletId });
  }

  /**
   * Points the public address at this droplet once it serves: assigns the reserved IP and creates the A/AAAA
   * records, all after `after` (the deployment). A replacement droplet thus takes over the address only when it has
   * booted and deployed; the old assignment's delete unassigns only if the IP still points at the old droplet
   * (terraform-provider-digitalocean reservedip/resource_reserved_ip_assignment.go), so create-before-delete is safe.
   * Returns what it registered (the certificate step waits for it).
   */
  publish(after: pulumi.Resource[]): pulumi.Resource[] {
    const a = this.#args;
    const opts = { parent: this, dependsOn: after };
    const out: pulumi.Resource[] = [];
    if (this.reservedIp) {
      this.reservedIpAssignment = new digitalocean.ReservedIpAssignment(`${this.#name}-ip-assignment`, { ipAddress: this.reservedIp.ipAddress, dropletId: this.droplet.id.apply(Number) }, opts);
      out.push(this.reservedIpAssignment!);
    }
    if (a.dns) {
      const rec = recordName(a.dns.domain, a.dns.zone);
      const ttl = a.dns.ttl ?? 300;
      const dnsOpts = { parent: this, dependsOn: [...after, ...out] };
      this.dnsRecords.push(
        new digitalocean.DnsRecord(`${this.#name}-a`, { domain: a.dns.zone, type: "A", name: rec, value: this.ipv4, ttl }, dnsOpts),
        new digitalocean.DnsRecord(`${this.#name}-aaaa`, { domain: a.dns.zone, type: "AAAA", name: rec, value: this.ipv6, ttl }, dnsOpts),
      );
      out.push(...this.dnsRecords);
    }
    return out;
  }
}
