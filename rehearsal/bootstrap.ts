// The programs the rehearsal plays the cloud with, and the Debian packages that bring them: both from the one list
// .ci/debian-packages (which .ci/bootstrap installs in full). Missing ones are installed when running as root;
// otherwise the error names them and the exact command to install them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../test/support/proc.ts";
import { REPO_ROOT } from "./plan.ts";

export const DEBIAN_PACKAGES_FILE = join(REPO_ROOT, ".ci", "debian-packages");

export interface DebianPackage { name: string; programs: string[] }

/** `.ci/debian-packages`: one package a line, then the programs the rehearsal needs from it; `#` comments. */
export function readDebianPackages(file = DEBIAN_PACKAGES_FILE): DebianPackage[] {
  const pkgs: DebianPackage[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [name, ...programs] = line.trim().split(/\s+/);
    if (!name || name.startsWith("#")) continue;
    if (pkgs.some((p) => p.name === name)) throw new Error(`${file}: package ${name} is named twice`);
    pkgs.push({ name, programs });
  }
  return pkgs;
}

/** program → Debian package, for the packages of the list that name programs. */
export function requiredPrograms(pkgs = readDebianPackages()): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pkgs) for (const prog of p.programs) out[prog] = p.name;
  return out;
}

async function missingPrograms(required: Record<string, string>): Promise<string[]> {
  const missing: string[] = [];
  for (const p of Object.keys(required)) {
    const r = await run("sh", ["-c", `command -v ${p}`]);
    if (r.code !== 0) missing.push(p);
  }
  return missing;
}

/** Ensures every program is present; installs the packages when root, else throws with the exact fix. */
export async function ensureHostPrograms(log: (l: string) => void = () => undefined): Promise<void> {
  const required = requiredPrograms();
  let missing = await missingPrograms(required);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((p) => required[p]!))];
  if (process.getuid?.() !== 0) {
    throw new Error(`the rehearsal needs these programs: ${missing.join(", ")}\n` +
      `install them as root: apt-get install -y --no-install-recommends ${pkgs.join(" ")}\n` +
      "(the rehearsal also runs dockerd and builds the droplet VM's disk image with mmdebstrap, so it must run as root)");
  }
  log(`installing Debian packages: ${pkgs.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const upd = await run("apt-get", ["update", "-qq"], { env, timeoutMs: 300_000 });
  if (upd.code !== 0) throw new Error(`apt-get update failed:\n${upd.stderr}`);
  const inst = await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...pkgs], { env, timeoutMs: 900_000 });
  if (inst.code !== 0) throw new Error(`apt-get install ${pkgs.join(" ")} failed:\n${inst.stderr}`);
  missing = await missingPrograms(required);
  if (missing.length) throw new Error(`still missing after installing ${pkgs.join(" ")}: ${missing.join(", ")}`);
}

/** The rehearsal must be root: it runs dockerd, installs missing packages and builds the VM image (mmdebstrap). */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("the rehearsal runs dockerd and builds its droplet VM's disk image (mmdebstrap as root): run it as root, e.g. `sudo npm run rehearse`");
  }
}
