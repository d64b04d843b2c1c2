// The rehearsal droplet's disk image, built once per machine and cached outside the repository. The cache key is
// the build recipe (build-image.sh) plus the package list the product's user-data installs (infra's HOST_PACKAGES):
// a change to either builds a new image instead of reusing a stale one. Several rehearsals (a user's and the
// tests') may ask at once: the build runs under one flock, into a temporary directory renamed when complete.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { run, runOk, distinctFreePorts } from "../../test/support/proc.ts";
import { HOST_PACKAGES } from "../../infra/render/cloud-init.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const BUILD_SCRIPT = join(HERE, "build-image.sh");
const RECIPE = [BUILD_SCRIPT, join(HERE, "preseed-docker.sh")];

/** Where images are cached: $SELFHOSTED_MCP_VM_CACHE, else /var/cache/selfhosted-mcp/vm (machine-wide, read-only use). */
export const VM_CACHE_DIR = process.env.SELFHOSTED_MCP_VM_CACHE ?? "/var/cache/selfhosted-mcp/vm";

export interface VmImage {
  /** The cached image directory (never written after the build). */
  dir: string;
  /** qcow2 base disk; each instance boots an overlay of it. */
  disk: string;
  kernel: string;
  initrd: string;
  /** "package version" lines of what the image holds. */
  packages: string;
}

/** The image key: recipe + packages (sorted) + the pre-seeded docker image's ID (if any), 16 hex digits. */
export function imageKey(packages: readonly string[] = HOST_PACKAGES, preseedId = ""): string {
  const h = createHash("sha256");
  for (const f of RECIPE) h.update(readFileSync(f));
  return h.update(JSON.stringify([...packages].sort())).update(preseedId).digest("hex").slice(0, 16);
}

function imageAt(dir: string): VmImage | undefined {
  const img = { dir, disk: join(dir, "disk.qcow2"), kernel: join(dir, "vmlinuz"), initrd: join(dir, "initrd.img") };
  if (![img.disk, img.kernel, img.initrd].every((f) => existsSync(f))) return undefined;
  return { ...img, packages: readFileSync(join(dir, "packages.txt"), "utf8") };
}

export interface VmImageSpec {
  /** The packages the user-data installs (pre-installed in the image). */
  packages?: readonly string[];
  /**
   * A local docker image (tag) whose layers are pre-seeded into the guest's docker store (preseed-docker.sh): the
   * server image's base, so a first deploy pulls only the app's layers. Part of the cache key (by image ID).
   */
  preseedImage?: string;
}

/**
 * The cached image for these packages, building it when missing (~3-5 min: mmdebstrap + docker pre-seed + mkfs +
 * qemu-img). Throws with the build's output tail on failure.
 */
export async function ensureVmImage(log: (l: string) => void = () => undefined, spec: VmImageSpec = {}): Promise<VmImage> {
  const packages = spec.packages ?? HOST_PACKAGES;
  const preseedId = spec.preseedImage ? (await runOk("docker", ["image", "inspect", "--format", "{{.Id}}", spec.preseedImage])).stdout.trim() : "";
  const dir = join(VM_CACHE_DIR, `bookworm-${imageKey(packages, preseedId)}`);
  const cached = imageAt(dir);
  if (cached) return cached;
  mkdirSync(VM_CACHE_DIR, { recursive: true, mode: 0o755 });
  log(`building the droplet disk image (once per machine) into ${dir}`);
  const started = Date.now();
  // flock: one build at a time; the second waiter finds the finished image and the script is not run again.
  const script = `[ -e "$1" ] || exec bash "$0" "$@"`;
  const env = spec.preseedImage ? { VM_PRESEED_IMAGE: spec.preseedImage, VM_PRESEED_PORT: String((await distinctFreePorts(1))[0]) } : {};
  const r = await run("flock", ["-w", "1800", join(VM_CACHE_DIR, ".build.lock"), "sh", "-c", script, BUILD_SCRIPT, dir, ...packages],
    { timeoutMs: 2_400_000, env: { ...process.env, ...env } });
  if (r.code !== 0) throw new Error(`building the droplet disk image failed (exit ${r.code}):\n${(r.stdout + r.stderr).trimEnd().split("\n").slice(-30).join("\n")}`);
  const built = imageAt(dir);
  if (!built) throw new Error(`the droplet disk image build finished but ${dir} is incomplete`);
  log(`droplet disk image built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return built;
}
