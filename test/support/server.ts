// Starts the reference MCP server (server/src/main.ts) as a real child process on free loopback ports and waits
// for GET /livez. Output (JSON logs) is captured in memory for assertions (logs()). Every wait is bounded.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitFor } from "./proc.ts";

export const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "server", "src", "main.ts");

export interface ServerExit { code: number | null; signal: NodeJS.Signals | null }

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  /** The MCP endpoint, `${url}/mcp`. */
  mcpUrl: string;
  port: number;
  metricsPort: number;
  pid: number;
  /** DATA_DIR used (a fresh temp dir unless env.DATA_DIR was given; removed on stop only if created here). */
  dataDir: string;
  /** Everything the process wrote to stdout and stderr so far. */
  logs(): string;
  /** stdout lines parsed as JSON (non-JSON lines skipped). */
  logEntries(): Record<string, unknown>[];
  /** Waits (bounded, default 5 s) for a JSON log entry matching `match`; log lines arrive asynchronously over a pipe. */
  waitForLog(match: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends a signal (default SIGTERM), waits up to 15 s (then SIGKILL) and returns how it exited. */
  stop(signal?: NodeJS.Signals): Promise<ServerExit>;
  /** Resolves when the process exits on its own. */
  exited: Promise<ServerExit>;
}

/** Default wait for a started server's /livez: generous, a bound against a hang, not a speed goal. */
export const START_TIMEOUT_MS = 60_000;

export interface StartOptions {
  /** Keep the temp DATA_DIR on stop (to restart on the same data). */
  keepDataDir?: boolean;
  /** Max wait for /livez (default 60 s: a start under load average 16 on 2 cores took 10-20 s). */
  timeoutMs?: number;
  /** The program to run instead of server/src/main.ts (the gateway: test/support/gateway.ts). */
  main?: string;
  /** How PORT and METRICS_PORT are picked when `env` does not set them (default freePort). */
  pickPort?: () => Promise<number>;
}

/**
 * Spawns `node server/src/main.ts` with a clean environment: PATH/HOME from the parent plus defaults
 * HOST=127.0.0.1, PORT/METRICS_PORT free ports, AUTH_MODE=none, LOG_LEVEL=info, DATA_DIR a temp dir,
 * UPSTREAM_URL a closed loopback port (tests never reach the internet) — each overridable by `env`.
 */
export async function startServer(env: Record<string, string> = {}, opts: StartOptions = {}): Promise<RunningServer> {
  // freePort() closes the port it found before the server binds it, so another process (tests run beside each other)
  // can take it first. Only then, and only for ports this helper picked, start again on fresh ones (bounded: 3 tries).
  for (let attempt = 1; ; attempt++) {
    try { return await startOnce(env, opts); } catch (e) {
      if (!(e instanceof PortTakenError) || attempt >= 3) throw e;
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(env: Record<string, string>, opts: StartOptions): Promise<RunningServer> {
  const pick = opts.pickPort ?? freePort;
  const port = env.PORT ? Number(env.PORT) : await pick();
  const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : await pick();
  const ownDataDir = !env.DATA_DIR;
  const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), "mcp-data-"));
  const fullEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    HOST: "127.0.0.1",
    AUTH_MODE: "none",
    LOG_LEVEL: "info",
    UPSTREAM_URL: "http://127.0.0.1:9",
    ...env,
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    DATA_DIR: dataDir,
  };
  const child = spawn(process.execPath, [opts.main ?? MAIN], { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let stdout = "";
  child.stdout.on("data", (d) => { out += d; stdout += d; });
  child.stderr.on("data", (d) => { out += d; });
  const exited = new Promise<ServerExit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => { done = true; });

  const url = `http://127.0.0.1:${port}`;
  const cleanup = () => { if (ownDataDir && !opts.keepDataDir) rmSync(dataDir, { recursive: true, force: true }); };
  try {
    await Promise.race([
      waitFor("server /livez", async () => {
        if (done) return true;
        const r = await fetch(`${url}/livez`, { signal: AbortSignal.timeout(1000) });
        return r.ok;
      }, { timeoutMs: opts.timeoutMs ?? START_TIMEOUT_MS, intervalMs: 50 }),
      exited,
    ]);
    if (done) throw new Error(`server exited during start-up (${JSON.stringify(await exited)})`);
  } catch (e) {
    if (!done) child.kill("SIGKILL");
    await exited;
    cleanup();
    const picked = [env.PORT ? undefined : port, env.METRICS_PORT ? undefined : metricsPort].filter((p) => p !== undefined);
    const taken = out.includes("EADDRINUSE") && picked.some((p) => out.includes(`127.0.0.1:${p}`));
    throw new (taken ? PortTakenError : Error)(`${(e as Error).message}\n--- server output ---\n${out}`);
  }

  const logEntries = () => stdout.split("\n").flatMap((l) => { try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; } });
  return {
    url, mcpUrl: `${url}/mcp`, port, metricsPort, pid: child.pid!, dataDir, exited,
    logs: () => out,
    logEntries,
    waitForLog: (match, timeoutMs = 5000) => waitFor("a matching log entry", () => logEntries().find(match), { timeoutMs, intervalMs: 20 }),
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (!done) {
        child.kill(signal);
        let timer: NodeJS.Timeout | undefined;
        const ok = await Promise.race([exited.then(() => true), new Promise<false>((r) => { timer = setTimeout(() => r(false), 15_000); })]);
        clearTimeout(timer);
        if (!ok) child.kill("SIGKILL");
      }
      const r = await exited;
      cleanup();
      return r;
    },
  };
}
