// The bench's CPU pinning (bench/cpu-pin.ts): the plan per CPU count, and that taskset really sets the affinity of a
// running process (every thread) and of a started command, read back from /proc/PID/status (Cpus_allowed_list).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { planPinning, pinProcesses, pinnedCommand } from "../../bench/cpu-pin.ts";
import { runOk } from "../support/proc.ts";

const allowed = (pid: number, tid: number) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8"))![1];

test("planPinning: the contenders on the last CPU, wrk on the others; none on 1 CPU or with off", () => {
  assert.deepEqual(planPinning("auto", 2), { server: "1", load: "0" });
  assert.deepEqual(planPinning("auto", 8), { server: "7", load: "0-6" });
  assert.equal(planPinning("auto", 1), undefined);
  assert.equal(planPinning("off", 8), undefined);
  assert.throws(() => planPinning("on", 2), /--pin takes auto or off, not "on"/);
});

test("pinProcesses sets every thread of a running process; pinnedCommand starts a command on the given CPUs", async () => {
  const last = String(cpus().length - 1);
  // node itself has several threads (V8 platform workers, libuv): all of them must move.
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, 300));
    await pinProcesses([child.pid!], last);
    const tids = (await runOk("ls", [`/proc/${child.pid}/task`])).stdout.trim().split("\n").map(Number);
    assert.ok(tids.length > 1, "node runs several threads");
    for (const tid of tids) assert.equal(allowed(child.pid!, tid), last, `thread ${tid}`);
  } finally { child.kill(); }
  const [cmd, args] = pinnedCommand("0", "grep", ["Cpus_allowed_list", "/proc/self/status"]);
  assert.match((await runOk(cmd, args)).stdout, /Cpus_allowed_list:\s*0\n/);
  assert.deepEqual(pinnedCommand(undefined, "wrk", ["-c1"]), ["wrk", ["-c1"]]);
});
