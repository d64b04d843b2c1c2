// The programs the rehearsal plays the cloud with, and the Debian packages that bring them. Missing ones are
// installed when running as root; otherwise the error names them and the exact command to install them.
import { run } from "../support/proc.ts";

/** program → Debian package */
export const REQUIRED_PROGRAMS: Record<string, string> = {
  dockerd: "docker.io", docker: "docker.io", "docker-registry": "docker-registry",
  pebble: "pebble", "pebble-challtestsrv": "pebble", nginx: "nginx", certbot: "certbot",
  "/usr/sbin/sshd": "openssh-server", ssh: "openssh-client", "ssh-keygen": "openssh-client", "ssh-keyscan": "openssh-client",
  // The droplet's deploy user elevates with `sudo -n` (cloud-init grants it passwordless sudo), as on Ubuntu.
  sudo: "sudo", visudo: "sudo",
  "cloud-init": "cloud-init", curl: "curl", openssl: "openssl",
};

async function missingPrograms(): Promise<string[]> {
  const missing: string[] = [];
  for (const p of Object.keys(REQUIRED_PROGRAMS)) {
    const r = await run("sh", ["-c", `command -v ${p}`]);
    if (r.code !== 0) missing.push(p);
  }
  return missing;
}

/** Ensures every program is present; installs the packages when root, else throws with the exact fix. */
export async function ensureHostPrograms(log: (l: string) => void = () => undefined): Promise<void> {
  let missing = await missingPrograms();
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((p) => REQUIRED_PROGRAMS[p]!))];
  if (process.getuid?.() !== 0) {
    throw new Error(`the rehearsal needs these programs: ${missing.join(", ")}\n` +
      `install them as root: apt-get install -y --no-install-recommends ${pkgs.join(" ")}\n` +
      "(the rehearsal also runs dockerd, sshd, nginx and creates the droplet's deploy user, so it must run as root)");
  }
  log(`installing Debian packages: ${pkgs.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const upd = await run("apt-get", ["update", "-qq"], { env, timeoutMs: 300_000 });
  if (upd.code !== 0) throw new Error(`apt-get update failed:\n${upd.stderr}`);
  const inst = await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...pkgs], { env, timeoutMs: 900_000 });
  if (inst.code !== 0) throw new Error(`apt-get install ${pkgs.join(" ")} failed:\n${inst.stderr}`);
  missing = await missingPrograms();
  if (missing.length) throw new Error(`still missing after installing ${pkgs.join(" ")}: ${missing.join(", ")}`);
}

/** The rehearsal must be root: it starts sshd/nginx on the host's ports and creates the droplet's users. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("the rehearsal plays a whole droplet on this machine (sshd, nginx on ports 80/443, a deploy user): run it as root, e.g. `sudo npm run rehearse`");
  }
}
