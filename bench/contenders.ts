// The benchmark contenders: the raw node:http echo (ceiling), the bare-SDK baseline, the reference server direct
// (api-key auth + metrics + info logging to a file), and the reference server behind nginx with TLS.
// Each gets its own process (so its peak RSS is its own) and a request body file for tools-call.lua.
import { writeFileSync, statSync, symlinkSync, copyFileSync, mkdtempSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, runOk } from "../test/support/proc.ts";
import { spawnNode, memory, children, type BenchProcess, type Memory } from "./processes.ts";
import { startTlsFront, BENCH_DOMAIN, type TlsFront } from "./nginx-tls.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const MAIN = join(HERE, "..", "server", "src", "main.ts");
export const BENCH_KEY = "bench-key-0123456789abcdef0123456789abcdef";

export interface Contender {
  id: string;
  label: string;
  url: string;
  /** Request body file per measured method (tools-call.lua): tools/list and tools/call. */
  bodies: Record<Method, string>;
  token?: string;
  host?: string;
  /** Peak RSS (VmHWM, kB) of the server process(es) and, for (c), nginx's master + workers. */
  peakRss(): { serverKb: number; nginxKb?: number };
  /** The server process's memory now (sampled after each cell: its private, anonymous part is what grows). */
  memoryNow(): Memory;
  /** Processes whose CPU time is charged to this contender: the server and (for (c)) nginx master + workers. */
  cpuPids(): { server: number; proxy: number[] };
  /** Bytes of log output written so far. */
  logBytes(): number;
  stop(): Promise<void>;
}

export const toolsCall = (name: string, args: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } });
export const toolsList = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });

/** The MCP methods the bench measures: `list` = tools/list, `call` = tools/call (each contender's cheapest tool). */
export const METHODS = ["list", "call"] as const;
export type Method = (typeof METHODS)[number];

/** Writes the tools/list body and the given tools/call body to `<work>/<id>-<method>.json`. */
function bodyFiles(work: string, id: string, call: string): Record<Method, string> {
  const files = { list: join(work, `${id}-list.json`), call: join(work, `${id}-call.json`) };
  writeFileSync(files.list, toolsList);
  writeFileSync(files.call, call);
  return files;
}

async function rpc(url: string, body: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const r = await fetch(url, {
    method: "POST", body, signal: AbortSignal.timeout(10_000),
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
  });
  const json = await r.json() as Record<string, unknown>;
  if (!r.ok || !json.result) throw new Error(`setup call failed: HTTP ${r.status} ${JSON.stringify(json)}`);
  return json.result as Record<string, unknown>;
}

/** How every Node contender is started: extra node flags (e.g. --cpu-prof) and NODE_OPTIONS (e.g. a heap cap). */
export interface NodeFlags { nodeArgs?: string[]; nodeOptions?: string }
const nodeEnv = (f: NodeFlags): Record<string, string> => (f.nodeOptions ? { NODE_OPTIONS: f.nodeOptions } : {});

async function plainNode(id: string, label: string, script: string, work: string, body: string, flags: NodeFlags): Promise<Contender> {
  const port = await freePort();
  const proc = await spawnNode(id, { script: join(HERE, script), env: { PORT: String(port), ...nodeEnv(flags) }, logFile: join(work, `${id}.log`), readyUrl: `http://127.0.0.1:${port}/livez` });
  return {
    id, label, url: `http://127.0.0.1:${port}/mcp`, bodies: bodyFiles(work, id, body),
    peakRss: () => ({ serverKb: memory(proc.pid).hwmKb }),
    cpuPids: () => ({ server: proc.pid, proxy: [] }),
    memoryNow: () => memory(proc.pid),
    logBytes: () => statSync(proc.logFile).size,
    stop: () => proc.stop(),
  };
}

/** `bodyFile`: the tools/call get_note body; `bodies`: that and a tools/list body. */
export interface ReferenceServer { proc: BenchProcess; port: number; bodyFile: string; bodies: Record<Method, string>; noteId: string }

/** The reference server (server/src/main.ts) as deployed: api-key auth, metrics registry, info logs (to a file). */
export async function referenceServer(id: string, work: string, flags: NodeFlags, env: Record<string, string> = {}, main = MAIN): Promise<ReferenceServer> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const proc = await spawnNode(id, {
    script: main,
    env: {
      HOST: "127.0.0.1", PORT: String(port), METRICS_PORT: String(metricsPort), AUTH_MODE: "api-key", API_KEYS: BENCH_KEY,
      LOG_LEVEL: "info", DATA_DIR: join(work, `${id}-data`), UPSTREAM_URL: "http://127.0.0.1:9", ...nodeEnv(flags), ...env,
    },
    logFile: join(work, `${id}.log`), readyUrl: `http://127.0.0.1:${port}/livez`, nodeArgs: flags.nodeArgs,
  });
  const auth = { authorization: `Bearer ${BENCH_KEY}` };
  const saved = await rpc(`http://127.0.0.1:${port}/mcp`, toolsCall("save_note", { request_id: `bench-${id}-seed`, title: "bench", body: "a note read by every benchmark call" }), auth);
  const noteId = ((saved.structuredContent as { note: { id: string } }).note).id;
  const bodies = bodyFiles(work, id, toolsCall("get_note", { id: noteId }));
  return { proc, port, bodyFile: bodies.call, bodies, noteId };
}

export interface ContenderOptions {
  profileDir?: string;
  nodeOptions?: string;
  /** Another server/src/main.ts (e.g. a patched copy) measured direct as "(b′)", for before/after comparisons. */
  candidateMain?: string;
  /** Entry point of the reference server for (b) and (c); default server/src/main.ts (see compileServer). */
  referenceMain?: string;
  /** How nginx reaches (c): "socket" (the deployment's: LISTEN_SOCKET, connections reused ≤ 1 s) or "tcp" (reused unbounded). */
  upstream?: "socket" | "tcp";
}

/**
 * Compiles the server with its own tsconfig into `outDir`, as the image's Dockerfile does, and returns the compiled
 * main.js: production runs JavaScript, not type-stripped TypeScript (which costs memory at load time).
 */
export async function compileServer(outDir: string): Promise<string> {
  await runOk(join(HERE, "..", "node_modules", ".bin", "tsc"), ["-p", join(HERE, "..", "server", "tsconfig.json"), "--outDir", outDir], { timeoutMs: 300_000 });
  symlinkSync(join(HERE, "..", "node_modules"), join(outDir, "node_modules"));
  copyFileSync(join(HERE, "..", "package.json"), join(outDir, "package.json"));
  return join(outDir, "server", "src", "main.js");
}

export async function startContenders(work: string, opts: ContenderOptions = {}): Promise<Contender[]> {
  const profiled: NodeFlags = { nodeArgs: opts.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.profileDir}`] : [], nodeOptions: opts.nodeOptions };
  const plain: NodeFlags = { nodeOptions: opts.nodeOptions };
  const echo = await plainNode("echo", "raw node:http echo (ceiling)", "baseline-echo.ts", work, toolsCall("echo", { text: "hello" }), plain);
  const sdk = await plainNode("a", "(a) bare SDK baseline", "baseline-sdk.ts", work, toolsCall("echo", { text: "hello" }), profiled);
  const direct = await referenceServer("b", work, profiled, {}, opts.referenceMain);
  // nginx's workers (another user) must reach the socket: its directory is traversable, unlike `work`.
  const socketDir = mkdtempSync(join(tmpdir(), "bench-socket-"));
  chmodSync(socketDir, 0o755);
  const socket = join(socketDir, "mcp.sock");
  const viaSocket = (opts.upstream ?? "socket") === "socket";
  const proxied = await referenceServer("c", work, profiled, { PUBLIC_URL: `https://${BENCH_DOMAIN}`, ...(viaSocket ? { LISTEN_SOCKET: socket } : {}) }, opts.referenceMain);
  const candidate = opts.candidateMain ? await referenceServer("b2", work, profiled, {}, opts.candidateMain) : undefined;
  let front: TlsFront;
  try { front = await startTlsFront(viaSocket ? { socket } : { port: proxied.port }); } catch (e) {
    await Promise.all([echo.stop(), sdk.stop(), direct.proc.stop(), proxied.proc.stop(), candidate?.proc.stop()]);
    throw e;
  }
  const ref = (id: string, label: string, r: typeof direct, url: string, extra: Partial<Contender>, nginx?: TlsFront): Contender => ({
    id, label, url, bodies: r.bodies, token: BENCH_KEY, ...extra,
    peakRss: () => ({
      serverKb: memory(r.proc.pid).hwmKb,
      ...(nginx ? { nginxKb: [nginx.pid(), ...children(nginx.pid())].reduce((s, p) => s + memory(p).hwmKb, 0) } : {}),
    }),
    memoryNow: () => memory(r.proc.pid),
    cpuPids: () => ({ server: r.proc.pid, proxy: nginx ? [nginx.pid(), ...children(nginx.pid())] : [] }),
    logBytes: () => statSync(r.proc.logFile).size,
    stop: async () => { await nginx?.stop(); await r.proc.stop(); },
  });
  return [
    echo, sdk,
    ref("b", "(b) reference, direct (auth+metrics+logs)", direct, `http://127.0.0.1:${direct.port}/mcp`, {}),
    { ...ref("c", `(c) reference via nginx TLS (${viaSocket ? "unix socket" : "TCP"} upstream)`, proxied, front.url, { host: BENCH_DOMAIN }, front),
      stop: async () => { await front.stop(); await proxied.proc.stop(); rmSync(socketDir, { recursive: true, force: true }); } },
    ...(candidate ? [ref("b2", `(b′) candidate ${opts.candidateMain}, direct`, candidate, `http://127.0.0.1:${candidate.port}/mcp`, {})] : []),
  ];
}
