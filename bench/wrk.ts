// Runs wrk (Debian's wrk 4.1) with tools-call.lua against one URL and returns its parsed summary.
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../test/support/proc.ts";
import { pinnedCommand } from "./cpu-pin.ts";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "tools-call.lua");

export interface WrkOptions {
  url: string;
  bodyFile: string;
  connections: number;
  durationS: number;
  threads?: number;
  token?: string;
  host?: string;
  /** Per-request timeout in seconds (wrk's --timeout); late answers count as timeouts. */
  timeoutS?: number;
  /** CPUs wrk may run on (taskset's list syntax, cpu-pin.ts); default: any. */
  cpus?: string;
}

export interface WrkResult {
  requests: number;
  duration_us: number;
  ok: number;
  bad: number;
  first_bad: string;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: { p50: number; p95: number; p99: number; max: number; mean: number };
  /** ok responses per second. */
  rps: number;
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const threads = Math.min(o.threads ?? 1, o.connections);
  const args = [
    `-t${threads}`, `-c${o.connections}`, `-d${o.durationS}s`, `--timeout`, `${o.timeoutS ?? 10}s`,
    "-s", SCRIPT, o.url, "--", o.bodyFile, o.token ?? "", o.host ?? "",
  ];
  const [cmd, argv] = pinnedCommand(o.cpus, "wrk", args);
  const r = await run(cmd, argv, { timeoutMs: (o.durationS + 60) * 1000 });
  const line = r.stdout.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (r.code !== 0 || !line) throw new Error(`wrk ${args.join(" ")} failed (exit ${r.code})\n${r.stdout}\n${r.stderr}`);
  const parsed = JSON.parse(line.slice("WRK_JSON ".length)) as Omit<WrkResult, "rps">;
  return { ...parsed, rps: parsed.ok / (parsed.duration_us / 1e6) };
}
