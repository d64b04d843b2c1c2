// Process helpers shared by every test that drives real programs (docker, nginx, pebble, sshd, the server).
// Every wait is bounded; every daemon started here is stopped by PID.
import { spawn, type SpawnOptions } from "node:child_process";
import { createServer } from "node:net";
import { openSync, closeSync, readFileSync } from "node:fs";

export interface RunResult { code: number | null; stdout: string; stderr: string }

/** Runs a program to completion (bounded by timeoutMs) and returns its output; never throws on exit code. */
export function run(cmd: string, args: string[], opts: SpawnOptions & { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  const { timeoutMs = 120_000, input, ...spawnOpts } = opts;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...spawnOpts, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("close", (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    // A program that exits without reading stdin closes the pipe first: that EPIPE is not the caller's error.
    child.stdin!.on("error", () => {});
    child.stdin!.end(input ?? "");
  });
}

/** Like run, but throws with the program's output when it exits non-zero. */
export async function runOk(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

export interface Daemon {
  pid: number; logFile: string; stop(signal?: NodeJS.Signals): Promise<void>; log(): string;
  /** False once the process has exited (e.g. it could not bind its port). */
  running(): boolean;
}

/** Starts a long-running program in its own process group, output to logFile. */
export function startDaemon(cmd: string, args: string[], logFile: string, opts: SpawnOptions = {}): Daemon {
  const fd = openSync(logFile, "a");
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.unref();
  return {
    pid: child.pid!,
    logFile,
    log: () => { try { return readFileSync(logFile, "utf8"); } catch { return ""; } },
    running: () => child.exitCode === null && child.signalCode === null,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try { process.kill(-child.pid!, signal); } catch { return; }
      const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!killed) { try { process.kill(-child.pid!, "SIGKILL"); } catch { /* gone */ } await exited; }
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value; throws after timeoutMs with the last error. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 30_000, intervalMs = 100 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try { const v = await fn(); if (v) return v as T; } catch (e) { last = e; }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/**
 * Starts several processes at once and returns their handles in order. If any start fails, every start that
 * succeeded is stopped before the first failure is rethrown (Promise.all would lose the siblings' handles and leave
 * them running, which hangs the test file), so a failed `before()` never leaks a process.
 */
type Stoppable = { stop(): Promise<unknown> };
export async function startAll<const S extends readonly (() => Promise<Stoppable>)[]>(starts: S): Promise<{ -readonly [K in keyof S]: Awaited<ReturnType<S[K]>> }> {
  const settled = await Promise.allSettled(starts.map((start) => start()));
  const failed = settled.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length === 0) return settled.map((r) => (r as PromiseFulfilledResult<Stoppable>).value) as { -readonly [K in keyof S]: Awaited<ReturnType<S[K]>> };
  await Promise.allSettled(settled.flatMap((r) => r.status === "fulfilled" ? [r.value.stop()] : []));
  throw failed[0]!.reason;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** n distinct free TCP ports on 127.0.0.1. */
export async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let i = 0; ports.size < n && i < n * 10; i++) ports.add(await freePort());
  if (ports.size < n) throw new Error(`could not find ${n} distinct free ports`);
  return [...ports];
}
