// CPU pinning for `npm run bench` (default on a machine with 2 or more CPUs): every contender's processes — the
// server, nginx's master and workers — on one CPU, the size of a 1-vCPU droplet, and the load generator (wrk, which
// also does the TLS of (c)'s clients) on the others, so the client's work never takes CPU from what is measured and
// each contender gets the same single core. Unpinned, wrk, nginx and the server share every core, and a 3-process
// chain (c) pays for wrk's TLS on its own cores while the 2-process baseline (a) does not.
// Mechanism: taskset(1) (util-linux) — `taskset -a -p -c LIST PID` sets the affinity of every thread of PID; processes
// forked later (nginx workers after a reload) inherit it (sched_setaffinity(2)).
import { cpus } from "node:os";
import { runOk } from "../test/support/proc.ts";

/** CPU lists in taskset's syntax: `server` for the contenders, `load` for wrk. */
export interface Pinning { server: string; load: string }

/**
 * `mode` "auto" (the default): pin when the machine has at least 2 CPUs (server on the last one, wrk on the rest);
 * "off": no pinning. Throws on any other mode.
 */
export function planPinning(mode: string, cpuCount = cpus().length): Pinning | undefined {
  if (mode === "off") return undefined;
  if (mode !== "auto") throw new Error(`--pin takes auto or off, not ${JSON.stringify(mode)}`);
  if (cpuCount < 2) return undefined;
  const last = cpuCount - 1;
  return { server: String(last), load: last === 1 ? "0" : `0-${last - 1}` };
}

/** Pins every thread of each PID to `cpuList` (taskset -a -p -c). */
export async function pinProcesses(pids: number[], cpuList: string): Promise<void> {
  for (const pid of pids) await runOk("taskset", ["-a", "-p", "-c", cpuList, String(pid)]);
}

/** The command prefix that starts a program on `cpuList` (taskset -c), or nothing without pinning. */
export const pinnedCommand = (cpuList: string | undefined, cmd: string, args: string[]): [string, string[]] =>
  cpuList ? ["taskset", ["-c", cpuList, cmd, ...args]] : [cmd, args];
