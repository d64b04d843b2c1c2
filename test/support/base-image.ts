// The local stand-in for node:24-bookworm-slim (Docker Hub is unreachable in CI), built once by
// server/build-base-image.sh and reused (the script skips the work when the tag exists).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runOk } from "./proc.ts";
import { ensureDockerd } from "./docker.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Ensures dockerd runs and the base image exists; returns its tag. First build ~2 min, then instant. */
export async function ensureBaseImage(): Promise<string> {
  await ensureDockerd();
  const binDir = join(ROOT, "node_modules", ".bin");
  const r = await runOk("bash", [join(ROOT, "server", "build-base-image.sh")], {
    cwd: ROOT, timeoutMs: 15 * 60_000, env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}` },
  });
  const tag = r.stdout.trim().split("\n").pop();
  if (!tag) throw new Error(`build-base-image.sh printed no tag\n${r.stderr}`);
  return tag;
}
