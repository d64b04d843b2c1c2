// The droplet's package mirror, for what the product installs with apt-get after boot (today: the monitoring stack's
// prometheus, prometheus-alertmanager and prometheus-node-exporter, infra/render/scripts/monitoring-install.sh). A
// droplet reaches its distribution's mirror; the rehearsal's VM has no network beyond the host, so the host downloads
// those packages and what they need beyond the VM image (`apt-get download`, from the host's own Debian sources),
// indexes them (apt-ftparchive) into a flat repository cached per package set, and the guest gets it as an apt source
// (`deb [trusted=yes] file:…`). The product's own `apt-get install` then runs unchanged in the guest: its first
// attempt finds no package lists, its `apt-get update` reads this repository, the install resolves and unpacks.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run, runOk } from "../../test/support/proc.ts";
import { VM_CACHE_DIR, type VmImage } from "./image.ts";
import type { DropletVm } from "./droplet-vm.ts";

/** Where the repository lands in the guest, and its apt source. */
export const GUEST_MIRROR_DIR = "/var/lib/selfhosted-mcp-rehearsal/apt";
const GUEST_SOURCE = "/etc/apt/sources.list.d/selfhosted-mcp-rehearsal.list";

/** The packages `names` need beyond `installed` (package names), by apt-cache's recursive dependencies (no Recommends). */
export async function missingClosure(names: readonly string[], installed: ReadonlySet<string>): Promise<string[]> {
  const r = await runOk("apt-cache", ["depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
    "--no-breaks", "--no-replaces", "--no-enhances", ...names]);
  // Package lines start in column 0; "<virtual>" names have no file to download (a real provider is listed too).
  const closure = new Set(r.stdout.split("\n").filter((l) => /^[a-z0-9][a-z0-9+.-]*$/.test(l)));
  return [...closure].filter((p) => !installed.has(p)).sort();
}

/**
 * The flat repository for `names` on top of `image` (cached in VM_CACHE_DIR/apt-<key>; key: the image's package list
 * and the names), downloading it when missing. Throws with apt's output when a package cannot be downloaded.
 */
export async function ensureAptMirror(names: readonly string[], image: VmImage, log: (l: string) => void = () => undefined): Promise<string> {
  const installed = new Set(image.packages.split("\n").map((l) => l.split(" ")[0]!).filter(Boolean));
  const key = createHash("sha256").update(image.packages).update(JSON.stringify([...names].sort())).digest("hex").slice(0, 16);
  const dir = join(VM_CACHE_DIR, `apt-${key}`);
  if (existsSync(join(dir, "Packages"))) return dir;
  const wanted = await missingClosure(names, installed);
  log(`downloading ${wanted.length} package(s) for the droplet's mirror: ${wanted.join(" ")}`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    let got = await run("apt-get", ["download", "-q", ...wanted], { cwd: tmp, timeoutMs: 600_000 });
    // The host's package lists may be missing or stale (a fresh machine): refresh once and retry.
    if (got.code !== 0) {
      await run("apt-get", ["update", "-q"], { timeoutMs: 600_000 });
      got = await run("apt-get", ["download", "-q", ...wanted], { cwd: tmp, timeoutMs: 600_000 });
    }
    if (got.code !== 0) throw new Error(`apt-get download failed (exit ${got.code}):\n${(got.stdout + got.stderr).trim().split("\n").slice(-15).join("\n")}`);
    await runOk("sh", ["-c", "apt-ftparchive packages . > Packages"], { cwd: tmp });
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally { rmSync(tmp, { recursive: true, force: true }); }
  return dir;
}

/** Copies the repository into the guest (tar, base64 over the SSH session's stdin) and makes it an apt source. */
export async function provideAptMirror(vm: DropletVm, dir: string): Promise<void> {
  const files = readdirSync(dir).filter((f) => f.endsWith(".deb") || f === "Packages");
  const tar = execFileSync("tar", ["-C", dir, "-cf", "-", ...files], { maxBuffer: 1 << 30 });
  await vm.sshOk(`sudo -n sh -c 'rm -rf ${GUEST_MIRROR_DIR} && mkdir -p ${GUEST_MIRROR_DIR} && base64 -d | tar -C ${GUEST_MIRROR_DIR} -xf - && ` +
    `echo "deb [trusted=yes] file:${GUEST_MIRROR_DIR} ./" > ${GUEST_SOURCE}'`, { input: tar.toString("base64"), timeoutMs: 600_000 });
}
