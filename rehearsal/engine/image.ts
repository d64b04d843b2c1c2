// The docker Image resource's build, shared by the preview (its Check adds build.contextDigest, a hash of the
// context and Dockerfile — pulumi-docker provider/provider.go Check → hashContext) and the executor (build + push).
// The rehearsal's contextDigest is the image ID `docker build -q` yields: with the build cache it changes exactly
// when a file docker sends (after .dockerignore), the Dockerfile, an arg, target or platform changes.
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { run, type RunResult } from "../../test/support/proc.ts";

export interface ImageInputs {
  imageName?: string; skipPush?: boolean;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string>; target?: string; platform?: string; contextDigest?: string };
  registry?: { server?: string; username?: string; password?: string };
}

function resolveDockerfile(root: string, context: string, dockerfile: string | undefined): string {
  if (!dockerfile) return join(context, "Dockerfile");
  const fromCwd = resolve(root, dockerfile);
  if (existsSync(fromCwd) && statSync(fromCwd).isFile()) return fromCwd;
  return resolve(context, dockerfile);
}

/** `docker build` argv for the recorded inputs (paths relative to the program's directory `root`). */
export function buildArgs(i: ImageInputs, root: string, extra: string[]): string[] {
  const b = i.build ?? {};
  const context = resolve(root, String(b.context ?? "."));
  const args = ["build", "-f", resolveDockerfile(root, context, b.dockerfile), ...extra];
  for (const [k, v] of Object.entries(b.args ?? {})) args.push("--build-arg", `${k}=${v}`);
  if (b.target) args.push("--target", String(b.target));
  if (b.platform) args.push("--platform", String(b.platform));
  return [...args, context];
}

/** The image ID of the recorded build (the rehearsal's build.contextDigest). */
export async function contextDigest(i: ImageInputs, root: string): Promise<string> {
  const r: RunResult = await run("docker", buildArgs(i, root, ["-q"]), { timeoutMs: 900_000 });
  if (r.code !== 0) throw new Error(`docker build (context digest) failed:\n${r.stderr.trim().split("\n").slice(-15).join("\n")}`);
  return r.stdout.trim().split("\n").at(-1)!;
}
