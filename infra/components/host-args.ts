// McpHost's argument rules (zod), one per argument: McpHost checks its args with hostArgsSchema before it registers
// anything, and the example stack builds its config schema from HOST_FIELDS (examples/stack/config.ts), so a stack
// value and a component argument are accepted or refused by the same rule. Defaults: infra/defaults.ts.
import * as z from "zod";
import { DO_SSH_KEY_REF } from "../render/ssh-keys.ts";
import { CONTAINER_RESOURCES, fittingDropletSize, noFittingSizeMessage } from "../render/droplet-size.ts";
import { DEFAULTS } from "../defaults.ts";
import { domain } from "../../contract/values.ts";
import { parseArgs } from "../../contract/args-error.ts";
import type { McpHostArgs } from "./host.ts";

const CIDR4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\/(?:3[0-2]|[12]?\d)$/;
const CIDR6 = /^[0-9a-f:]+:[0-9a-f:]*\/(?:12[0-8]|1[01]\d|[1-9]?\d)$/i;

/** Every IPv4 and IPv6 address: the public ports use it; SSH only with allowSshFromAnywhere. */
export const ANY_ADDRESS = ["0.0.0.0/0", "::/0"];

export const tcpPort = z.number().int("must be a whole number").min(1, "must be a TCP port (1-65535)").max(65535, "must be a TCP port (1-65535)");

/** The rule of each McpHost argument (plain values; secrets and Pulumi inputs are not checked here). */
export const HOST_FIELDS = {
  region: z.string().regex(/^[a-z]{3}\d$/, "must be a DigitalOcean region slug such as nyc3, fra1, sgp1"),
  size: z.string().regex(/^[a-z0-9-]+$/, "must be a droplet size slug such as s-1vcpu-1gb"),
  resizeDisk: z.boolean(),
  swapMb: z.number().int("must be a whole number of MB").min(0, "must be 0 (no swap) or more MB").max(65536),
  dropletImage: z.string().regex(/^[a-z0-9.-]+$/, "must be an image slug such as ubuntu-24-04-x64"),
  memoryMb: CONTAINER_RESOURCES.memoryMb,
  cpus: CONTAINER_RESOURCES.cpus,
  sshPublicKey: z.string().trim().regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+=*( .*)?$/,
    "must be an OpenSSH public key line (the contents of ~/.ssh/id_ed25519.pub)"),
  sshKey: z.string().toLowerCase().regex(DO_SSH_KEY_REF,
    "must be the MD5 fingerprint (aa:bb:...:ff, from ssh-keygen -l -E md5) or numeric id of a key on your DigitalOcean account"),
  sshAgentSocket: z.string().startsWith("/", "must be the absolute path of an SSH agent socket"),
  sshUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a Unix user name"),
  sshPort: tcpPort,
  adminCidrs: z.array(z.string().refine((c) => CIDR4.test(c) || CIDR6.test(c), "must be a CIDR such as 203.0.113.7/32"))
    .min(1, "must list at least one CIDR allowed to reach SSH (your address, e.g. 203.0.113.7/32); SSH is never opened silently"),
  allowSshFromAnywhere: z.boolean(),
  reservedIp: z.boolean(),
} as const;

/** adminCidrs that open SSH to everyone, refused unless allowSshFromAnywhere (the one place this rule lives). */
export function worldOpenCidrs(adminCidrs: readonly string[], allowSshFromAnywhere: boolean | undefined): string[] {
  return allowSshFromAnywhere ? [] : adminCidrs.filter((c) => ANY_ADDRESS.includes(c));
}

/** Whether `name` is `zone` or a name inside it. */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

const F = HOST_FIELDS;
/** The arguments' shape without the cross-argument rules (SelfHostedMcp picks its host arguments from it). */
export const hostArgsObject = z.object({
  region: F.region, size: F.size.optional(), resizeDisk: F.resizeDisk.optional(), dropletImage: F.dropletImage.optional(),
  resources: z.object({ memoryMb: F.memoryMb, cpus: F.cpus, otherContainersMemoryMb: z.number().int().min(0).max(1 << 20) }).partial().optional(),
  sshPublicKey: F.sshPublicKey, sshKeys: z.array(F.sshKey).optional(), sshAgentSocket: F.sshAgentSocket.optional(),
  sshUser: F.sshUser.optional(), sshPort: F.sshPort.optional(), adminCidrs: F.adminCidrs, allowSshFromAnywhere: F.allowSshFromAnywhere.optional(),
  reservedIp: F.reservedIp.optional(), swapMb: F.swapMb.optional(),
  dns: z.object({ zone: domain, domain, ttl: z.number().int().min(30).max(86400).optional() }).optional(),
  cloudInitTimeoutSeconds: z.number().int().min(60).max(3600).optional(),
}).loose();

export const hostArgsSchema = hostArgsObject.superRefine((a, ctx) => {
  const world = worldOpenCidrs(a.adminCidrs, a.allowSshFromAnywhere);
  if (world.length > 0) ctx.addIssue({ code: "custom", path: ["adminCidrs"], message: `${world.join(", ")} opens SSH to everyone; pass allowSshFromAnywhere: true to mean it` });
  if (a.dns && !inZone(a.dns.domain, a.dns.zone)) ctx.addIssue({ code: "custom", path: ["dns"], message: `domain ${a.dns.domain} is not inside zone ${a.dns.zone}` });
  const resources = { memoryMb: DEFAULTS.memoryMb, cpus: DEFAULTS.cpus, ...a.resources };
  if (a.size === undefined && !fittingDropletSize(resources)) ctx.addIssue({ code: "custom", path: ["resources", "memoryMb"], message: noFittingSizeMessage(resources) });
});

/** Checks McpHost's plain arguments; throws InvalidArgsError ("McpHost <arg>: ...") naming each bad one. */
export function validateHostArgs(a: McpHostArgs): void {
  parseArgs("McpHost", hostArgsSchema, a);
}
