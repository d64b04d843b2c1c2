// The rehearsal's state directory (.rehearsal/ by default, gitignored): keys, the recorded plan, what each
// executed resource looked like (for trigger diffs and delete scripts) and the PIDs of what it started.
// Everything here may hold secrets: files are written with mode 0600 inside a 0700 directory.
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync, renameSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "../test/support/proc.ts";
import { REPO_ROOT } from "./plan.ts";

export const DEFAULT_STATE_DIR = join(REPO_ROOT, ".rehearsal");

export function ensureStateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

export function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** Atomic write, mode 0600. */
export function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, file);
}

export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Stops a process we started (its process group first, as startDaemon makes each daemon a group leader). */
export async function stopPid(pid: number | undefined, timeoutMs = 15_000): Promise<void> {
  if (!pidAlive(pid)) return;
  const signal = (sig: NodeJS.Signals) => {
    try { process.kill(-pid!, sig); } catch { try { process.kill(pid!, sig); } catch { /* gone */ } }
  };
  signal("SIGTERM");
  signal("SIGCONT"); // a stopped process (SIGSTOP: a droplet VM made unreachable) handles its SIGTERM only once continued
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(pid)) signal("SIGKILL");
}
