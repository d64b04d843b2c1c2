// The executor: carries out the steps the recorder decided (engine/rules.ts: the engine's and providers' rules)
// for real, on this machine. Resources run in dependency order: create; update by the provider's rule; replace =
// create the new one now and delete the old one after everything else (delete first when deleteBeforeReplace);
// same = nothing. Old resources of a replacement and resources gone from the program are deleted at the end in
// reverse dependency order, except retainOnDelete and deletedWith-a-deleted-resource (no provider Delete). The
// first failure stops the run with that command's output. What runs per type:
//   docker:index/image:Image        docker build (recorded context, dockerfile, args, platform, target) + push
//   command:remote:Command          create / update (else create) / delete over SSH (user, port, key from the
//                                   recorded connection; `environment` sent as SSH env requests, so only what
//                                   sshd's AcceptEnv allows arrives — exactly @pulumi/command's behaviour)
//   command:remote:CopyToRemote     the asset's bytes written to remotePath over SSH (create; update only when the
//                                   asset hash or remotePath changed); no delete
//   command:local:Command           the recorded script locally (interpreter, dir, environment)
// Every other custom resource (the DigitalOcean ones) belongs to the mocked cloud: its step is recorded, not run.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve, basename } from "node:path";
import { run, type RunResult } from "../test/support/proc.ts";
import type { Plan, PlannedResource, RecordedAsset } from "./plan.ts";
import { REPO_ROOT } from "./plan.ts";
import { readJson, writeJson } from "./state.ts";
import { IMAGE, REMOTE_COMMAND, COPY_TO_REMOTE, LOCAL_COMMAND, commandScript, commandEnv, copyNeeded, deleteOrder,
  deleteSkipped, type PriorResource, type CheckFailure } from "./engine/rules.ts";
import { buildArgs, type ImageInputs } from "./engine/image.ts";

export { IMAGE, REMOTE_COMMAND, COPY_TO_REMOTE, LOCAL_COMMAND };

export type Operation = "create" | "update" | "replace" | "delete" | "same";

/** What a resource looked like after its last step (the engine's state: old inputs, outputs, delete options). */
export type ExecutedResource = PriorResource;
export type ExecState = Record<string, ExecutedResource>;

export interface Step { urn: string; name: string; type: string; op: Operation; ms: number; detail?: string }

export class StepError extends Error {
  readonly resource: string;
  readonly output: string;
  constructor(resource: string, message: string, output: string) {
    super(`${resource}: ${message}\n${output}`);
    this.resource = resource;
    this.output = output;
  }
}

/** A provider Check failed (in preview or up): nothing was changed. */
export class CheckError extends Error {
  readonly failures: CheckFailure[];
  constructor(phase: string, failures: CheckFailure[]) {
    super(`${phase} failed: ${failures.map((f) => `\n  ${f.urn}: ${f.property}: ${f.reason}`).join("")}`);
    this.failures = failures;
  }
}

export interface ExecuteOptions {
  stateDir: string;
  /** Progress lines (never contain secret values). */
  log?: (line: string) => void;
  /** Only these resource types (e.g. just the image on the first pass); default: every resource. */
  types?: string[];
  /** Skip the end-of-run deletes (used by the image-only pass). */
  skipDeletes?: boolean;
  /** What runs a step's provider operation (default: the real one: docker, ssh, local processes). */
  provider?: Provider;
}

/** The provider side of a step: Create/Update of a resource, Delete of an old state. */
export interface Provider {
  perform(r: PlannedResource, op: "create" | "update", prev: ExecutedResource | undefined, stateDir: string): Promise<Done>;
  remove(s: ExecutedResource, stateDir: string): Promise<void>;
}


const stateFile = (dir: string) => join(dir, "executed.json");
export const readExecState = (dir: string): ExecState => readJson<ExecState>(stateFile(dir)) ?? {};
/** The prior state the recorder decides steps against. */
export const priorState = (dir: string): PriorResource[] => Object.values(readExecState(dir));

export const hash = (v: unknown) => createHash("sha256").update(JSON.stringify(v ?? null)).digest("hex");

/** Custom resources ordered so that every resource comes after everything it (transitively) depends on. */
export function executionOrder(plan: Plan): PlannedResource[] {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const children = new Map<string, string[]>();
  for (const r of plan.resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
  // A dependency on a component means every resource beneath it (the SDK already expands dependsOn this way).
  const expand = (urn: string, seen = new Set<string>()): string[] => {
    if (seen.has(urn)) return [];
    seen.add(urn);
    const r = byUrn.get(urn);
    if (r?.custom) return [urn];
    return (children.get(urn) ?? []).flatMap((c) => expand(c, seen));
  };
  const deps = new Map(plan.resources.map((r) => [r.urn, new Set(r.dependsOn.flatMap((d) => expand(d)))]));
  const out: PlannedResource[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (r: PlannedResource) => {
    if (state.get(r.urn) === "done") return;
    if (state.get(r.urn) === "visiting") throw new Error(`dependency cycle through ${r.urn}`);
    state.set(r.urn, "visiting");
    for (const d of [...deps.get(r.urn)!].map((u) => byUrn.get(u)!).filter(Boolean).sort((a, b) => a.order - b.order)) visit(d);
    state.set(r.urn, "done");
    out.push(r);
  };
  for (const r of [...plan.resources].sort((a, b) => a.order - b.order)) visit(r);
  return out.filter((r) => r.custom);
}

const toState = (r: PlannedResource, id: string, inputs: Record<string, unknown>, outputs: Record<string, unknown>): ExecutedResource => ({
  urn: r.urn, type: r.type, name: r.name, custom: r.custom, id, inputs, outputs, dependsOn: r.dependsOn, parent: r.parent,
  retainOnDelete: r.retainOnDelete, deletedWith: r.deletedWith, order: r.order,
});

/** Runs the plan's steps. Returns the steps taken; throws CheckError/StepError (state saved up to the failure). */
export async function executePlan(plan: Plan, opts: ExecuteOptions): Promise<Step[]> {
  if (plan.checkFailures.length) throw new CheckError("up", plan.checkFailures);
  const log = opts.log ?? (() => undefined);
  const state = readExecState(opts.stateDir);
  const prior = Object.values(state);
  const save = () => writeJson(stateFile(opts.stateDir), state);
  const steps: Step[] = [];
  const replacedOld: ExecutedResource[] = [];
  const only = (type: string) => !opts.types || opts.types.includes(type);
  const provider = opts.provider ?? REAL_PROVIDER;
  // Components hold no provider state; the engine still records them (parents of the delete order).
  for (const r of plan.resources) if (!r.custom && only(r.type)) state[r.urn] = toState(r, "", r.inputs, {});

  for (const r of executionOrder(plan).filter((x) => only(x.type))) {
    const prev = state[r.urn];
    const op = r.step.op;
    if (op === "same") {
      state[r.urn] = toState(r, prev!.id, prev!.inputs, prev!.outputs);
      steps.push({ urn: r.urn, name: r.name, type: r.type, op, ms: 0 });
      continue;
    }
    const started = Date.now();
    const why = r.step.replaceKeys.length ? ` (${r.step.replaceKeys.join(", ")})` : "";
    log(`${op.padEnd(7)} ${r.type} ${r.name}${why}`);
    if (op === "replace" && r.step.deleteBeforeReplace && prev) {
      log(`delete  ${r.type} ${r.name} (delete before replace)`);
      await provider.remove(prev, opts.stateDir);
    }
    const done = await provider.perform(r, op === "update" ? "update" : "create", prev, opts.stateDir);
    if (op === "replace" && prev && !r.step.deleteBeforeReplace) replacedOld.push(prev);
    state[r.urn] = toState(r, r.id, done.inputs, done.outputs);
    save();
    steps.push({ urn: r.urn, name: r.name, type: r.type, op, ms: Date.now() - started, detail: done.detail ?? (why.trim() || undefined) });
  }

  if (!opts.skipDeletes) {
    const planned = new Set(plan.resources.map((r) => r.urn));
    const gone = prior.filter((s) => !planned.has(s.urn));
    steps.push(...await deleteAll([...replacedOld, ...gone], prior, opts, (s) => {
      if (!planned.has(s.urn)) delete state[s.urn];
      save();
    }));
  }
  save();
  return steps;
}

/** Deletes in reverse dependency order; retainOnDelete / deletedWith skip the provider's Delete. */
async function deleteAll(doomed: ExecutedResource[], all: ExecutedResource[], opts: DestroyOptions,
  done: (s: ExecutedResource) => void): Promise<Step[]> {
  const deleting = new Set(doomed.map((s) => s.urn));
  const steps: Step[] = [];
  for (const s of deleteOrder(doomed, all)) {
    if (!s.custom) { done(s); continue; } // a component has no provider Delete
    const skipped = deleteSkipped(s, deleting);
    opts.log?.(`delete  ${s.type} ${s.name}${skipped ? ` (no provider Delete: ${skipped})` : ""}`);
    const started = Date.now();
    if (!skipped) await (opts.provider ?? REAL_PROVIDER).remove(s, opts.stateDir);
    done(s);
    steps.push({ urn: s.urn, name: s.name, type: s.type, op: "delete", ms: Date.now() - started, detail: skipped });
  }
  return steps;
}

/** `pulumi destroy`: every resource of the state deleted, dependents first. */
export interface DestroyOptions { stateDir: string; log?: (l: string) => void; provider?: Provider }

export async function destroyAll(opts: DestroyOptions): Promise<Step[]> {
  const state = readExecState(opts.stateDir);
  const all = Object.values(state);
  return deleteAll(all, all, opts, (s) => {
    delete state[s.urn];
    writeJson(stateFile(opts.stateDir), state);
  });
}

export interface Done { inputs: Record<string, unknown>; outputs: Record<string, unknown>; detail?: string }

const REAL_PROVIDER: Provider = { perform, remove: runDelete };

async function perform(r: PlannedResource, op: "create" | "update", prev: ExecutedResource | undefined, stateDir: string): Promise<Done> {
  const i = r.inputs;
  if (r.type === IMAGE) return buildImage(r);
  if (r.type === COPY_TO_REMOTE) {
    if (op === "update" && prev && !copyNeeded(prev.inputs, i)) return { inputs: i, outputs: { ...i }, detail: "no copy: same asset hash and remotePath" };
    await copyToRemote(r, stateDir);
    return { inputs: i, outputs: { ...i } };
  }
  if (r.type !== REMOTE_COMMAND && r.type !== LOCAL_COMMAND) return { inputs: i, outputs: r.outputs }; // the mocked cloud
  const script = commandScript(op, i);
  const base = op === "update" ? prev?.outputs : undefined;
  if (!script) return { inputs: i, outputs: { ...i, stdout: base?.stdout ?? "", stderr: base?.stderr ?? "" } };
  const env = commandEnv(i, base);
  const res = r.type === REMOTE_COMMAND ? await sshRun(i.connection, script, env, i.stdin as string | undefined, stateDir)
    : await localRun(i, script, env);
  if (res.code !== 0) throw new StepError(`${r.type} ${r.name}`, `${op} script exited ${res.code}`, tail(res));
  return { inputs: i, outputs: { ...i, stdout: res.stdout.replace(/\n$/, ""), stderr: res.stderr.replace(/\n$/, "") } };
}

/** Command Delete runs `delete` with the old state (its inputs, env and previous stdout/stderr). */
async function runDelete(s: ExecutedResource, stateDir: string): Promise<void> {
  const script = s.inputs.delete as string | undefined;
  if (!script || (s.type !== REMOTE_COMMAND && s.type !== LOCAL_COMMAND)) return;
  const env = commandEnv(s.inputs, s.outputs);
  const res = s.type === REMOTE_COMMAND ? await sshRun(s.inputs.connection, script, env, s.inputs.stdin as string | undefined, stateDir)
    : await localRun(s.inputs, script, env);
  if (res.code !== 0) throw new StepError(`${s.type} ${s.name}`, `delete script exited ${res.code}`, tail(res));
}

const lastLines = (text: string, n: number) => text.trimEnd().split("\n").slice(-n).join("\n");
const tail = (r: RunResult) => lastLines(r.stdout, 60) + (r.stderr.trim() ? `\n--- stderr (last lines)\n${lastLines(r.stderr, 15)}` : "");

interface Connection { host: string; port?: number; user?: string; privateKey?: string; hostKey?: string }

/** ssh argv for a recorded connection (key written to the state dir, mode 0600). */
export function sshArgs(connection: unknown, stateDir: string, sendEnv: string[] = []): string[] {
  const c = connection as Connection;
  if (!c?.host) throw new Error("recorded connection has no host");
  const args = ["-p", String(c.port ?? 22), "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=15"];
  if (c.privateKey) {
    const keyFile = join(stateDir, `conn-${hash(c.privateKey).slice(0, 12)}.key`);
    if (!existsSync(keyFile)) writeFileSync(keyFile, c.privateKey.endsWith("\n") ? c.privateKey : `${c.privateKey}\n`, { mode: 0o600 });
    args.push("-i", keyFile, "-o", "IdentitiesOnly=yes");
  }
  if (c.hostKey) {
    const kh = join(stateDir, `known_hosts-${hash(c.hostKey).slice(0, 12)}`);
    writeFileSync(kh, `[${c.host}]:${c.port ?? 22} ${c.hostKey}\n`, { mode: 0o600 });
    args.push("-o", `UserKnownHostsFile=${kh}`, "-o", "StrictHostKeyChecking=yes");
  } else {
    args.push("-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no"); // @pulumi/command ignores the host key when none is given
  }
  for (const k of sendEnv) args.push("-o", `SendEnv=${k}`);
  args.push(`${c.user ?? "root"}@${c.host}`);
  return args;
}

/** Runs one command string on the remote host, passed verbatim like an SSH exec request. */
export function sshRun(connection: unknown, command: string, env: Record<string, string>, stdin: string | undefined, stateDir: string, timeoutMs = 900_000): Promise<RunResult> {
  const names = Object.keys(env);
  return run("ssh", [...sshArgs(connection, stateDir, names), command], {
    env: { ...process.env, ...env }, input: stdin ?? "", timeoutMs,
  });
}

function localRun(i: Record<string, unknown>, script: string, env: Record<string, string>): Promise<RunResult> {
  const interpreter = (i.interpreter as string[] | undefined) ?? ["/bin/sh", "-c"];
  return run(interpreter[0]!, [...interpreter.slice(1), script], {
    cwd: i.dir ? resolve(REPO_ROOT, String(i.dir)) : REPO_ROOT, env: { ...process.env, ...env },
    input: (i.stdin as string | undefined) ?? "", timeoutMs: 900_000,
  });
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function copyToRemote(r: PlannedResource, stateDir: string): Promise<void> {
  const src = r.inputs.source as RecordedAsset | undefined;
  const remotePath = String(r.inputs.remotePath ?? "");
  if (!src || !remotePath) throw new StepError(`${r.type} ${r.name}`, "needs source and remotePath", "");
  let bytes: Buffer;
  let name: string;
  if (src.asset === "string") { bytes = Buffer.from(src.text); name = basename(remotePath); }
  else if (src.asset === "file") { bytes = readFileSync(src.path); name = basename(src.path); }
  else throw new StepError(`${r.type} ${r.name}`, `source kind "${src.asset}" is not supported by the rehearsal (text files and strings are)`, "");
  // Into an existing directory: copy inside it (CopyToRemote's documented behaviour); else create/overwrite the file.
  const script = `p=${shq(remotePath)}; if [ -d "$p" ]; then p="$p"/${shq(name)}; fi; cat > "$p"`;
  const res = await run("ssh", [...sshArgs(r.inputs.connection, stateDir), script], { input: bytes.toString("utf8"), timeoutMs: 120_000 });
  if (res.code !== 0) throw new StepError(`${r.type} ${r.name}`, `copy to ${remotePath} failed (exit ${res.code})`, tail(res));
}

async function buildImage(r: PlannedResource): Promise<Done> {
  const i = r.inputs as ImageInputs;
  const imageName = String(i.imageName ?? "");
  if (!imageName) throw new StepError(`${r.type} ${r.name}`, "imageName is empty", "");
  const built = await run("docker", buildArgs(i, REPO_ROOT, ["-t", imageName]), { timeoutMs: 900_000 });
  if (built.code !== 0) throw new StepError(`${r.type} ${r.name}`, "docker build failed", tail(built));
  const id = (await run("docker", ["image", "inspect", "--format", "{{.Id}}", imageName])).stdout.trim();
  // The state keeps Check's build.contextDigest (here: the image ID) for the next diff.
  const inputs = { ...r.inputs, build: { ...(r.inputs.build as object), contextDigest: id } };
  if (i.skipPush) return { inputs, outputs: { ...inputs, repoDigest: "" } };
  if (i.registry?.username && i.registry.password) {
    const login = await run("docker", ["login", "--username", i.registry.username, "--password-stdin", String(i.registry.server ?? "")],
      { input: i.registry.password, timeoutMs: 60_000 });
    if (login.code !== 0) throw new StepError(`${r.type} ${r.name}`, "docker login failed", tail(login));
  }
  const pushed = await run("docker", ["push", imageName], { timeoutMs: 600_000 });
  if (pushed.code !== 0) throw new StepError(`${r.type} ${r.name}`, "docker push failed", tail(pushed));
  const digest = /digest: (sha256:[a-f0-9]{64})/.exec(pushed.stdout)?.[1];
  if (!digest) throw new StepError(`${r.type} ${r.name}`, "docker push printed no digest", tail(pushed));
  return { inputs, outputs: { ...inputs, repoDigest: `${imageName.replace(/:[^:/]+$/, "")}@${digest}` } };
}
