// The real provider of the rehearsal's steps (execute.ts decides and orders them): what each resource type's
// Create/Update/Delete runs on this machine.
//   docker:index/image:Image        docker build (recorded context, dockerfile, args, platform, target) + push
//   command:remote:Command          create / update (else create) / delete over SSH (user, port, key and dial
//                                   bounds from the recorded connection, ssh-dial.ts; `environment` sent as SSH
//                                   env requests, so only what sshd's AcceptEnv allows arrives — exactly
//                                   @pulumi/command's behaviour)
//   command:remote:CopyToRemote     the asset's bytes written to remotePath over SSH (create; update only when the
//                                   asset hash or remotePath changed); no delete
//   command:local:Command           the recorded script locally (interpreter, dir, environment)
// Every other custom resource (the DigitalOcean ones) belongs to the mocked cloud: its step is recorded, not run.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve, basename } from "node:path";
import { run, type RunResult } from "../test/support/proc.ts";
import type { PlannedResource, RecordedAsset } from "./plan.ts";
import { REPO_ROOT } from "./plan.ts";
import { REMOTE_COMMAND, COPY_TO_REMOTE, LOCAL_COMMAND, IMAGE, commandScript, commandEnv, copyNeeded } from "./engine/rules.ts";
import { buildArgs, type ImageInputs } from "./engine/image.ts";
import type { Done, ExecutedResource, Provider } from "./execute.ts";
import { dialBounds, withDialRetry, DialError } from "./ssh-dial.ts";

/** A short stable name for a value (the key and known_hosts files of a connection). */
const hash = (v: unknown) => createHash("sha256").update(JSON.stringify(v ?? null)).digest("hex");

export class StepError extends Error {
  readonly resource: string;
  readonly output: string;
  constructor(resource: string, message: string, output: string) {
    super(`${resource}: ${message}\n${output}`);
    this.resource = resource;
    this.output = output;
  }
}

export const REAL_PROVIDER: Provider = { perform, remove: runDelete };

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
  const res = r.type === REMOTE_COMMAND ? await remote(`${r.type} ${r.name}`, () => sshRun(i.connection, script, env, i.stdin as string | undefined, stateDir))
    : await localRun(i, script, env);
  if (res.code !== 0) throw new StepError(`${r.type} ${r.name}`, `${op} script exited ${res.code}`, tail(res));
  return { inputs: i, outputs: { ...i, stdout: res.stdout.replace(/\n$/, ""), stderr: res.stderr.replace(/\n$/, "") } };
}

/** Command Delete runs `delete` with the old state (its inputs, env and previous stdout/stderr). */
async function runDelete(s: ExecutedResource, stateDir: string): Promise<void> {
  const script = s.inputs.delete as string | undefined;
  if (!script || (s.type !== REMOTE_COMMAND && s.type !== LOCAL_COMMAND)) return;
  const env = commandEnv(s.inputs, s.outputs);
  const res = s.type === REMOTE_COMMAND ? await remote(`${s.type} ${s.name}`, () => sshRun(s.inputs.connection, script, env, s.inputs.stdin as string | undefined, stateDir))
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
  const { perDialTimeout } = dialBounds(connection);
  const args = ["-p", String(c.port ?? 22), "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", `ConnectTimeout=${perDialTimeout}`];
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

/**
 * Runs one command string on the remote host, passed verbatim like an SSH exec request, dialled like
 * @pulumi/command does (ssh-dial.ts: bounded dials, retried up to the connection's dialErrorLimit; DialError after).
 */
export function sshRun(connection: unknown, command: string, env: Record<string, string>, stdin: string | undefined, stateDir: string, timeoutMs = 900_000): Promise<RunResult> {
  const names = Object.keys(env);
  return withDialRetry(dialBounds(connection), () => run("ssh", [...sshArgs(connection, stateDir, names), command], {
    env: { ...process.env, ...env }, input: stdin ?? "", timeoutMs,
  }));
}

/** A remote step's ssh run; a dial that never succeeded is that resource's StepError (its script never ran). */
async function remote(label: string, f: () => Promise<RunResult>): Promise<RunResult> {
  try { return await f(); } catch (e) {
    if (e instanceof DialError) throw new StepError(label, `cannot reach the host: ${e.message}`, "");
    throw e;
  }
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
  const res = await remote(`${r.type} ${r.name}`, () => sshRun(r.inputs.connection, script, {}, bytes.toString("utf8"), stateDir, 120_000));
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
