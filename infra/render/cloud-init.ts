// The droplet's cloud-config (user-data). Pure and stable: the same inputs give byte-identical output, and it never
// carries a secret: a change here replaces the droplet, and user-data is readable from the droplet's metadata service.
import { stringify } from "yaml";
import * as z from "zod";

export const CloudInitOptionsSchema = z.object({
  /** The deploy user: SSH login for the remote commands; in the docker group, passwordless sudo. */
  user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "user must be a Unix user name"),
  /** OpenSSH public key lines authorized for the deploy user. */
  sshAuthorizedKeys: z.array(z.string().regex(/^\S+ \S+/, "sshAuthorizedKeys entries must be public key lines")).min(1),
  /** sshd port (22 unless the firewall and connection say otherwise). */
  sshPort: z.number().int().min(1).max(65535).default(22),
  /** Swap file size in MB; 0 for none. */
  swapMb: z.number().int().min(0).max(65536).default(0),
  /** Extra Debian/Ubuntu packages. */
  extraPackages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/)).default([]),
});
export type CloudInitOptions = z.input<typeof CloudInitOptionsSchema>;

/** Packages the deployment scripts rely on. */
export const HOST_PACKAGES = ["docker.io", "nginx", "certbot", "curl", "ca-certificates", "unattended-upgrades"];

const SSHD_HARDENING = (port: number, user: string) => [
  "# selfhosted-mcp: keys only, no root, no passwords",
  `Port ${port}`,
  "PermitRootLogin no",
  "PasswordAuthentication no",
  "KbdInteractiveAuthentication no",
  "PubkeyAuthentication yes",
  "X11Forwarding no",
  // Every key an SSH agent offers and the server refuses counts as a failed attempt (OpenSSH auth2.c), so
  // `MaxAuthTries 3` disconnected an admin whose agent holds 4+ keys before the right one was tried ("Too many
  // authentication failures", seen in the rehearsal VM). With keys only, a refused key offer is no guessing risk;
  // 10 leaves room for a busy agent (OpenSSH's default is 6).
  "MaxAuthTries 10",
  `AllowUsers ${user}`,
  "",
].join("\n");

const AUTO_UPGRADES = [
  'APT::Periodic::Update-Package-Lists "1";',
  'APT::Periodic::Unattended-Upgrade "1";',
  'APT::Periodic::AutocleanInterval "7";',
  "",
].join("\n");

/** live-restore keeps containers serving while dockerd is restarted by an unattended upgrade. */
const DOCKER_DAEMON = JSON.stringify({ "live-restore": true, "log-driver": "local" }, null, 2) + "\n";

/** Renders the #cloud-config document. */
export function renderCloudInit(options: CloudInitOptions): string {
  const o = CloudInitOptionsSchema.parse(options);
  const doc: Record<string, unknown> = {
    package_update: true,
    package_upgrade: false,
    packages: [...HOST_PACKAGES, ...o.extraPackages],
    groups: ["docker"],
    users: [{
      name: o.user,
      groups: ["docker", "sudo"],
      shell: "/bin/bash",
      sudo: "ALL=(ALL) NOPASSWD:ALL",
      lock_passwd: true,
      ssh_authorized_keys: o.sshAuthorizedKeys,
    }],
    disable_root: true,
    ssh_pwauth: false,
    write_files: [
      { path: "/etc/ssh/sshd_config.d/60-selfhosted-mcp.conf", permissions: "0644", owner: "root:root", content: SSHD_HARDENING(o.sshPort, o.user) },
      { path: "/etc/apt/apt.conf.d/20auto-upgrades", permissions: "0644", owner: "root:root", content: AUTO_UPGRADES },
      { path: "/etc/docker/daemon.json", permissions: "0644", owner: "root:root", content: DOCKER_DAEMON },
    ],
    ...(o.swapMb > 0 ? { swap: { filename: "/swapfile", size: o.swapMb * 1024 * 1024, maxsize: o.swapMb * 1024 * 1024 } } : {}),
    runcmd: [
      ["systemctl", "enable", "--now", "docker", "unattended-upgrades"],
      // nginx's default site answers every name on :80; the deployment installs its own site.
      ["rm", "-f", "/etc/nginx/sites-enabled/default"],
      ["systemctl", "reload-or-restart", "nginx"],
      ["systemctl", "enable", "--now", "certbot.timer"],
      // Ubuntu's sshd may be socket-activated: regenerate the socket unit for the Port above, then restart.
      ["sh", "-c", "systemctl daemon-reload; systemctl restart ssh.socket 2>/dev/null || true; systemctl restart ssh"],
    ],
  };
  return "#cloud-config\n" + stringify(doc, { lineWidth: 0 });
}
