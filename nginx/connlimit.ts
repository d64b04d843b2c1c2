// The kernel's share of the slow-client defence. nginx applies limit_conn only once a request's header is complete,
// so a client that opens many connections and never finishes the TLS handshake or the header holds a worker
// connection each until client_header_timeout, reconnecting at will: nginx alone cannot bound connections per client
// before the header (its http module has no per-address accept limit). The host firewall can: iptables' connlimit
// match refuses (TCP reset) a new connection to nginx's ports from an address that already has `perAddress` open.
// DigitalOcean's cloud firewall has no such rule, so this runs on the droplet: an idempotent script (own chain,
// flushed and refilled) and a oneshot systemd unit that applies it at boot, before nginx.
import * as z from "zod";
import { parseOptions } from "./options.ts";
import { InvalidArgsError, argIssue } from "../contract/args-error.ts";

export const CONNLIMIT_CHAIN = "SMCP-CONNLIMIT";
export const CONNLIMIT_UNIT = "selfhosted-mcp-connlimit";
export const DEFAULT_CONNLIMIT_SCRIPT_PATH = "/usr/local/sbin/selfhosted-mcp-connlimit";

const port = z.number().int().min(1).max(65535);
const connlimitSchema = z.object({
  /** TCP ports nginx listens on (the public HTTP and HTTPS ports). */
  ports: z.array(port).min(1).max(15, "iptables multiport takes at most 15 ports").default([80, 443]),
  /**
   * Concurrent connections per IPv4 address (and per IPv6 /64, one host's usual prefix). Above it, new connections
   * get a TCP reset. Leave room above nginx's per-IP limit_conn (20 requests) for idle keep-alive connections and
   * clients behind one NAT; keep (attacking addresses × perAddress) below nginx's worker_connections.
   */
  perAddress: z.number().int().min(8).max(65_536).default(128),
  ipv6PrefixLength: z.number().int().min(48).max(128).default(64),
  /** Also install the rule for IPv6 (ip6tables). */
  ipv6: z.boolean().default(true),
}).strict();

export type ConnlimitOptionsInput = z.input<typeof connlimitSchema>;

/** `#!/bin/sh` applying the rule (idempotent: re-running replaces the chain's content, the INPUT jump is added once). */
export function renderConnlimitScript(options: ConnlimitOptionsInput = {}): string {
  const o = parseOptions(connlimitSchema, options, "connection limit");
  const families = [["iptables", 32], ...(o.ipv6 ? [["ip6tables", o.ipv6PrefixLength] as const] : [])] as const;
  return [
    "#!/bin/sh",
    `# Managed by selfhosted-mcp: at most ${o.perAddress} concurrent TCP connections per client address to ports`,
    `# ${o.ports.join(",")} (nginx); more get a TCP reset before nginx spends a connection slot on them.`,
    "set -eu",
    "apply() {",
    `  "$1" -w -N ${CONNLIMIT_CHAIN} 2>/dev/null || "$1" -w -F ${CONNLIMIT_CHAIN}`,
    `  "$1" -w -A ${CONNLIMIT_CHAIN} -p tcp --syn -m multiport --dports ${o.ports.join(",")} \\`,
    `    -m connlimit --connlimit-above ${o.perAddress} --connlimit-mask "$2" -j REJECT --reject-with tcp-reset`,
    `  "$1" -w -C INPUT -j ${CONNLIMIT_CHAIN} 2>/dev/null || "$1" -w -I INPUT 1 -j ${CONNLIMIT_CHAIN}`,
    "}",
    ...families.map(([cmd, mask]) => `apply ${cmd} ${mask}`),
    "",
  ].join("\n");
}

/** A oneshot unit that runs the script at boot, before nginx accepts connections. */
export function renderConnlimitUnit(scriptPath: string = DEFAULT_CONNLIMIT_SCRIPT_PATH): string {
  if (!/^\/[A-Za-z0-9._\/-]+$/.test(scriptPath)) {
    throw new InvalidArgsError("connection limit unit", [argIssue(["scriptPath"], `must be an absolute path of letters, digits and . _ / - (got ${JSON.stringify(scriptPath)})`)]);
  }
  return [
    "[Unit]",
    "Description=selfhosted-mcp: per-address connection limit in front of nginx",
    "Before=nginx.service",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=${scriptPath}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
