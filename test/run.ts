// `npm test`'s runner: every test file in two lanes that run at the same time, each one file at a time; the host
// files wait in one queue (batches of BATCH files), and the VM lane takes batches from it once its own files are done.
//  - the VM lane: the files that boot droplet VMs (qemu TCG). Their time is mostly emulated CPU and waiting on the
//    guest, ~20 min on a quiet 2-core machine, so one after the other with the rest CI would pass its 30-min budget.
//  - the host lane: everything else (real nginx, certbot + pebble, docker, sshd, MCP clients), ~13 min. When the VM
//    lane ends first (a fast machine: VM lane 511 s, host lane 754 s in one run), it works through the rest of the
//    queue beside the host lane, so two host files then run at once.
// The lanes share no state: each rehearsal instance owns its VM, ports, keys and state dir (issue 11), and every
// host test picks free ports and unique names. What both need and would race to create on a fresh machine (the
// machine's dockerd, the local base image) is made once here, before either lane starts; so is the droplet disk
// image when the VM lane runs (on a fresh machine it was the VM lane's first step: 338 s beside the host lane, 150-165 s
// with the machine to itself; cached, both are a directory check).
//
// `tsc --noEmit` runs beside the lanes. Usage: node test/run.ts [FILE...]   (default: test/**/*.test.ts). The host
// lane prints as it runs; the VM lane's lines are prefixed "vm │ ". Ends with the runner's totals of both lanes
// ("ℹ pass N", …) and exits non-zero when the typecheck or either lane failed. Env: TEST_LANES=serial runs the lanes one after the other (same output).
import { spawn } from "node:child_process";
import { globSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { ensureBaseImage } from "./support/base-image.ts";
import { ensureVmImage } from "../rehearsal/vm/image.ts";

/** The files whose tests boot droplet VMs. */
export const VM_LANE_FILES = ["test/rehearsal/rehearsal.test.ts"];
const NODE_TEST = ["--test", "--test-concurrency=1", "--test-timeout=900000", "--test-reporter=spec"];
const TOTALS = ["tests", "suites", "pass", "fail", "cancelled", "skipped", "todo"] as const;

interface LaneResult { code: number; totals: Partial<Record<(typeof TOTALS)[number], number>> }

/** Runs `node --test` over the files; echoes each output line (with the prefix) and collects the closing totals. */
function lane(files: string[], prefix: string): Promise<LaneResult> {
  if (files.length === 0) return Promise.resolve({ code: 0, totals: {} });
  const child = spawn(process.execPath, [...NODE_TEST, ...files], { stdio: ["ignore", "pipe", "pipe"] });
  const totals: LaneResult["totals"] = {};
  const lines = (stream: NodeJS.ReadableStream, out: NodeJS.WritableStream) => {
    let rest = "";
    stream.setEncoding("utf8");
    const emit = (line: string) => {
      const m = /^ℹ (\w+) (\d+)$/.exec(line);
      if (m && (TOTALS as readonly string[]).includes(m[1]!)) totals[m[1] as (typeof TOTALS)[number]] = Number(m[2]);
      out.write(`${prefix}${line}\n`);
    };
    stream.on("data", (d: string) => {
      const parts = (rest + d).split("\n");
      rest = parts.pop()!;
      parts.forEach(emit);
    });
    stream.on("end", () => { if (rest) emit(rest); });
  };
  lines(child.stdout, process.stdout);
  lines(child.stderr, process.stderr);
  return new Promise((done, fail) => {
    child.once("error", fail);
    child.once("close", (code, signal) => done({ code: code ?? (signal ? 1 : 0), totals }));
  });
}

const asked = process.argv.slice(2);
const files = (asked.length ? asked : globSync("test/**/*.test.ts")).map((f) => relative(process.cwd(), resolve(f))).sort();
const vmFiles = files.filter((f) => VM_LANE_FILES.includes(f));
const hostFiles = files.filter((f) => !VM_LANE_FILES.includes(f));

/** `tsc --noEmit` (strict) over the whole tree, beside the lanes: the VM lane is the longest, so it starts first. */
function typecheck(): Promise<number> {
  const child = spawn(process.execPath, [join("node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json", "--noEmit"], { stdio: "inherit" });
  return new Promise((done, fail) => {
    child.once("error", fail);
    child.once("close", (code) => { console.log(`# typecheck: ${code === 0 ? "ok" : `failed (exit ${code})`}`); done(code ?? 1); });
  });
}

/** Host files per `node --test` run taken from the queue: few enough to share the tail, enough to spare start-ups. */
const BATCH = 4;
const queue = Array.from({ length: Math.ceil(hostFiles.length / BATCH) }, (_, i) => hostFiles.slice(i * BATCH, (i + 1) * BATCH));
/** Runs host batches from the shared queue until it is empty. */
async function drain(prefix: string): Promise<LaneResult[]> {
  const out: LaneResult[] = [];
  for (let batch = queue.shift(); batch; batch = queue.shift()) out.push(await lane(batch, prefix));
  return out;
}

const baseImage = await ensureBaseImage();
if (vmFiles.length) await ensureVmImage((l) => console.log(`# ${l}`), { preseedImage: baseImage });
const started = Date.now();
const checked = typecheck();
const results = process.env.TEST_LANES === "serial"
  ? [...await drain(""), await lane(vmFiles, "vm │ ")]
  : (await Promise.all([lane(vmFiles, "vm │ ").then(async (vm) => [vm, ...await drain("vm │ ")]), drain("")])).flat();
const typecheckCode = await checked;
console.log(`\n# lanes: host ${hostFiles.length} files, vm ${vmFiles.length} files, ${results.length} node --test runs, ${((Date.now() - started) / 1000).toFixed(0)} s`);
for (const k of TOTALS) console.log(`ℹ ${k} ${results.reduce((n, r) => n + (r.totals[k] ?? 0), 0)}`);
process.exitCode = typecheckCode !== 0 || results.some((r) => r.code !== 0) ? 1 : 0;
