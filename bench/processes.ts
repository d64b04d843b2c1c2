// Process plumbing for the benchmarks: spawn a Node server with its output in a log file (never piped into the
// benchmark process, which would steal CPU from the load generator), wait until it answers, read its memory
// from /proc, stop it by PID. Every wait is bounded.
import { spawn } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { waitFor, sleep } from "../test/support/proc.ts";

export interface BenchProcess {
  name: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Script to run with the same Node binary as the benchmark (Node 24, type stripping). */
  script: string;
  env: Record<string, string>;
  logFile: string;
  /** URL polled until it answers 200 (e.g. /livez). */
  readyUrl: string;
  /** Extra node flags, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"]. */
  nodeArgs?: string[];
}

export async function spawnNode(name: string, o: SpawnOptions): Promise<BenchProcess> {
  const fd = openSync(o.logFile, "a");
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), o.script], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...o.env },
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  let exited = false;
  const exit = new Promise<void>((r) => child.once("exit", () => { exited = true; r(); }));
  try {
    await waitFor(`${name} ready`, async () => {
      if (exited) throw new Error(`${name} exited during start-up`);
      return (await fetch(o.readyUrl, { signal: AbortSignal.timeout(1000) })).ok;
    }, { timeoutMs: 30_000, intervalMs: 100 });
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${(e as Error).message}\n${readFileSync(o.logFile, "utf8").slice(-2000)}`);
  }
  return {
    name, pid: child.pid!, logFile: o.logFile,
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const done = await Promise.race([exit.then(() => true), sleep(15_000).then(() => false)]);
      if (!done) { child.kill("SIGKILL"); await exit; }
    },
  };
}

/** Resident memory in kB: now (rss = anon + file-backed + shmem) and the peak (VmHWM). */
export interface Memory { rssKb: number; hwmKb: number; anonKb: number; fileKb: number }

/** Current and peak resident set size of a process, from /proc/PID/status. */
export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssKb: kb("VmRSS"), hwmKb: kb("VmHWM"), anonKb: kb("RssAnon"), fileKb: kb("RssFile") };
}

/** Direct children of a process (e.g. nginx workers of the master). */
export function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { return []; }
}

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc/PID/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS_PER_S;
}
