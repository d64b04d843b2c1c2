// The executor: carries out a recorded plan the way the Pulumi engine and its providers would, for real, on this
// machine. Resources run in dependency order; a resource whose inputs are unchanged since the last run is left
// alone (Pulumi's diff), a changed `triggers` list replaces it (create the new one now, run the old one's delete
// script at the end), any other change updates it (`update`, else `create`). Resources gone from the plan are
// deleted at the end, dependents first. The first failure stops the run with that command's output.
//   docker:index/image:Image        docker build (recorded context, dockerfile, args, platform, target) + push
//   command:remote:Command          the recorded script over SSH (user, port, key from the recorded connection;
//                                   `environment` sent as SSH env requests, so only what sshd's AcceptEnv allows
//                                   arrives — exactly @pulumi/command's behaviour)
//   command:remote:CopyToRemote     the recorded asset's bytes written to remotePath over SSH (new files get the
//                                   default 0666 & ~umask, existing files keep their mode, like its SFTP copy)
//   command:local:Command           the recorded script locally (interpreter, dir, environment)
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, existsSync, statSync } from "node:fs";
import { join, resolve, basename } from "node:path";
import { run, type RunResult } from "../support/proc.ts";
import type { Plan, PlannedResource, RecordedAsset } from "./plan.ts";
import { REPO_ROOT } from "./plan.ts";
import { readJson, writeJson } from "./state.ts";

export const IMAGE = "docker:index/image:Image";
export const REMOTE_COMMAND = "command:remote:Command";
export const COPY_TO_REMOTE = "command:remote:CopyToRemote";
export const LOCAL_COMMAND = "command:local:Command";
const EXECUTABLE = new Set([IMAGE, REMOTE_COMMAND, COPY_TO_REMOTE, LOCAL_COMMAND]);

export type Operation = "create" | "update" | "replace" | "delete" | "same";

/** What a resource looked like when it last ran (also what its delete script needs). */
export interface ExecutedResource {
  urn: string; type: string; name: string;
  inputsHash: string; triggersHash: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  order: number;
}
export type ExecState = Record<string, ExecutedResource>;

export interface Step { urn: string; name: string; type: string; op: Operation; ms: number }

export class StepError extends Error {
  readonly resource: string;
  readonly output: string;
  constructor(resource: string, message: string, output: string) {
    super(`${resource}: ${message}\n${output}`);
    this.resource = resource;
    this.output = output;
  }
}

export interface ExecuteOptions {
  stateDir: string;
  /** Progress lines (never contain secret values). */
  log?: (line: string) => void;
  /** Only these resource types (e.g. just the image on the first pass); default: everything executable. */
  types?: string[];
  /** Skip the end-of-run deletes (used by the image-only pass). */
  skipDeletes?: boolean;
  /** Diff images by their inputs instead of rebuilding (they were just built by an earlier pass of this run). */
  imagesBuilt?: boolean;
}

const stateFile = (dir: string) => join(dir, "executed.json");
export const readExecState = (dir: string): ExecState => readJson<ExecState>(stateFile(dir)) ?? {};

export const hash = (v: unknown) => createHash("sha256").update(JSON.stringify(v ?? null)).digest("hex");

/** Resources to execute, ordered so that every resource comes after everything it (transitively) depends on. */
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
  return out.filter((r) => EXECUTABLE.has(r.type));
}

/** Runs the plan. Returns the steps taken; throws StepError (state saved up to the failure). */
export async function executePlan(plan: Plan, opts: ExecuteOptions): Promise<Step[]> {
  const log = opts.log ?? (() => undefined);
  const state = readExecState(opts.stateDir);
  const save = () => writeJson(stateFile(opts.stateDir), state);
  const steps: Step[] = [];
  const pendingDeletes: ExecutedResource[] = [];
  const ordered = executionOrder(plan).filter((r) => !opts.types || opts.types.includes(r.type));

  for (const r of ordered) {
    const prev = state[r.urn];
    const triggersHash = hash(r.inputs.triggers);
    const inputsHash = hash(r.inputs);
    let op: Operation = !prev ? "create" : prev.inputsHash === inputsHash ? "same" : prev.triggersHash !== triggersHash ? "replace" : "update";
    // The docker provider re-hashes the build context on every run, so an image is rebuilt (docker's cache makes
    // that cheap) unless an earlier pass of this run already did.
    if (r.type === IMAGE && !(opts.imagesBuilt && op === "same")) op = prev ? "update" : "create";
    if (op === "replace" && r.inputs.update) op = "update";
    if (op === "same") { steps.push({ urn: r.urn, name: r.name, type: r.type, op, ms: 0 }); continue; }
    const started = Date.now();
    log(`${op.padEnd(7)} ${r.type} ${r.name}`);
    const outputs = await perform(r, op, prev, opts.stateDir);
    // Same digest as last time: the engine would have seen an unchanged context and done nothing.
    if (r.type === IMAGE && prev && outputs.repoDigest === prev.outputs.repoDigest && prev.inputsHash === inputsHash) op = "same";
    if (op === "replace" && prev) pendingDeletes.push(prev);
    state[r.urn] = { urn: r.urn, type: r.type, name: r.name, inputsHash, triggersHash, inputs: r.inputs, outputs, order: r.order };
    save();
    steps.push({ urn: r.urn, name: r.name, type: r.type, op, ms: Date.now() - started });
  }

  if (!opts.skipDeletes) {
    const planned = new Set(plan.resources.map((r) => r.urn));
    const gone = Object.values(state).filter((s) => !planned.has(s.urn));
    for (const s of [...pendingDeletes, ...gone].sort((a, b) => b.order - a.order)) {
      log(`delete  ${s.type} ${s.name}${planned.has(s.urn) ? " (replaced)" : ""}`);
      const started = Date.now();
      await runDelete(s, opts.stateDir);
      if (!planned.has(s.urn)) { delete state[s.urn]; save(); }
      steps.push({ urn: s.urn, name: s.name, type: s.type, op: "delete", ms: Date.now() - started });
    }
  }
  return steps;
}

/** Runs every recorded delete script, dependents first (what `pulumi destroy` does). */
export async function destroyAll(opts: { stateDir: string; log?: (l: string) => void }): Promise<Step[]> {
  const state = readExecState(opts.stateDir);
  const steps: Step[] = [];
  for (const s of Object.values(state).sort((a, b) => b.order - a.order)) {
    opts.log?.(`delete  ${s.type} ${s.name}`);
    const started = Date.now();
    await runDelete(s, opts.stateDir);
    delete state[s.urn];
    writeJson(stateFile(opts.stateDir), state);
    steps.push({ urn: s.urn, name: s.name, type: s.type, op: "delete", ms: Date.now() - started });
  }
  return steps;
}

async function perform(r: PlannedResource, op: Operation, prev: ExecutedResource | undefined, stateDir: string): Promise<Record<string, unknown>> {
  const i = r.inputs;
  if (r.type === IMAGE) return buildImage(r);
  if (r.type === COPY_TO_REMOTE) {
    await copyToRemote(r, stateDir);
    return {};
  }
  const script = String((op === "update" ? i.update ?? i.create : i.create) ?? "");
  if (!script) return { stdout: "", stderr: "" };
  const env = commandEnv(i, op === "create" ? undefined : prev);
  const res = r.type === REMOTE_COMMAND ? await sshRun(i.connection, script, env, i.stdin as string | undefined, stateDir)
    : await localRun(i, script, env);
  if (res.code !== 0) throw new StepError(`${r.type} ${r.name}`, `${op} script exited ${res.code}`, tail(res));
  return { stdout: res.stdout.replace(/\n$/, ""), stderr: res.stderr.replace(/\n$/, "") };
}

async function runDelete(s: ExecutedResource, stateDir: string): Promise<void> {
  const script = s.inputs.delete as string | undefined;
  if (!script || (s.type !== REMOTE_COMMAND && s.type !== LOCAL_COMMAND)) return;
  const env = commandEnv(s.inputs, s);
  const res = s.type === REMOTE_COMMAND ? await sshRun(s.inputs.connection, script, env, s.inputs.stdin as string | undefined, stateDir)
    : await localRun(s.inputs, script, env);
  if (res.code !== 0) throw new StepError(`${s.type} ${s.name}`, `delete script exited ${res.code}`, tail(res));
}

function commandEnv(inputs: Record<string, unknown>, prev: ExecutedResource | undefined): Record<string, string> {
  const env: Record<string, string> = { ...(inputs.environment as Record<string, string> | undefined) };
  if (prev && inputs.addPreviousOutputInEnv !== false) {
    env.PULUMI_COMMAND_STDOUT = String(prev.outputs.stdout ?? "");
    env.PULUMI_COMMAND_STDERR = String(prev.outputs.stderr ?? "");
  }
  return env;
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

async function buildImage(r: PlannedResource): Promise<Record<string, unknown>> {
  const i = r.inputs as { imageName?: string; skipPush?: boolean; build?: Record<string, unknown>; registry?: { server?: string; username?: string; password?: string } };
  const b = i.build ?? {};
  const imageName = String(i.imageName ?? "");
  if (!imageName) throw new StepError(`${r.type} ${r.name}`, "imageName is empty", "");
  const context = resolve(REPO_ROOT, String(b.context ?? "."));
  const dockerfile = resolveDockerfile(context, b.dockerfile as string | undefined);
  const args = ["build", "-f", dockerfile, "-t", imageName];
  for (const [k, v] of Object.entries((b.args as Record<string, string> | undefined) ?? {})) args.push("--build-arg", `${k}=${v}`);
  if (b.target) args.push("--target", String(b.target));
  if (b.platform) args.push("--platform", String(b.platform));
  args.push(context);
  const built = await run("docker", args, { timeoutMs: 900_000 });
  if (built.code !== 0) throw new StepError(`${r.type} ${r.name}`, "docker build failed", tail(built));
  if (i.skipPush) return { imageName, repoDigest: "" };
  if (i.registry?.username && i.registry.password) {
    const login = await run("docker", ["login", "--username", i.registry.username, "--password-stdin", String(i.registry.server ?? "")],
      { input: i.registry.password, timeoutMs: 60_000 });
    if (login.code !== 0) throw new StepError(`${r.type} ${r.name}`, "docker login failed", tail(login));
  }
  const pushed = await run("docker", ["push", imageName], { timeoutMs: 600_000 });
  if (pushed.code !== 0) throw new StepError(`${r.type} ${r.name}`, "docker push failed", tail(pushed));
  const digest = /digest: (sha256:[a-f0-9]{64})/.exec(pushed.stdout)?.[1];
  if (!digest) throw new StepError(`${r.type} ${r.name}`, "docker push printed no digest", tail(pushed));
  const repo = imageName.replace(/:[^:/]+$/, "");
  return { imageName, repoDigest: `${repo}@${digest}` };
}

function resolveDockerfile(context: string, dockerfile: string | undefined): string {
  if (!dockerfile) return join(context, "Dockerfile");
  const fromCwd = resolve(REPO_ROOT, dockerfile);
  if (existsSync(fromCwd) && statSync(fromCwd).isFile()) return fromCwd;
  return resolve(context, dockerfile);
}
