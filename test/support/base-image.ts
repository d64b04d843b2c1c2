// The local stand-in for node:24-bookworm-slim (Docker Hub is unreachable in CI), built once by
// server/build-base-image.sh and reused (the script skips the work when the tag exists).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runOk, type RunResult } from "./proc.ts";
import { ensureDockerd } from "./docker.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BASE_IMAGE_SCRIPT = join(ROOT, "server", "build-base-image.sh");

/** Runs the build script (Node 24 and npm from node_modules/.bin first on PATH); throws on failure. */
export function runBaseImageScript(): Promise<RunResult> {
  const binDir = join(ROOT, "node_modules", ".bin");
  return runOk("bash", [BASE_IMAGE_SCRIPT], {
    cwd: ROOT, timeoutMs: 15 * 60_000, env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}` },
  });
}

/** Ensures dockerd runs and the base image exists; returns its tag. First build ~2 min, then instant. */
export async function ensureBaseImage(): Promise<string> {
  await ensureDockerd();
  const r = await runBaseImageScript();
  const tag = r.stdout.trim().split("\n").pop();
  if (!tag) throw new Error(`build-base-image.sh printed no tag\n${r.stderr}`);
  return tag;
}
