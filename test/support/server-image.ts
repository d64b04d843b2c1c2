// Builds the server image on the local base image and runs containers with the run contract — for the image
// tests, the bench and the rehearsal. Containers/volumes get unique names; callers remove them in after().
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { renderEnvFile } from "../../infra/render/deployment-plan.ts";
import { fileURLToPath } from "node:url";
import { dockerBuildArgs, GATEWAY_DOCKERFILE, SERVER_DOCKERFILE } from "../../contract/image-build.ts";
import { dockerRunArgs, type RunSpec } from "../../contract/run-contract.ts";
import { ensureBaseImage } from "./base-image.ts";
import { freePort, run, runOk, sleep } from "./proc.ts";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

let seq = 0;
/** A name unique to this process and call, for containers and volumes. */
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

interface RootManifest { version: string; repository?: string | { url?: string } }
const manifest = () => JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as RootManifest;

export const packageVersion = () => manifest().version;

/** Labels the test build puts on the image: package version, git commit, repository URL (when known). */
export async function imageMetadata(): Promise<{ version: string; revision?: string; source?: string }> {
  const git = async (...args: string[]) => {
    const r = await run("git", args, { cwd: REPO_ROOT });
    return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
  };
  const repo = manifest().repository;
  const source = (typeof repo === "string" ? repo : repo?.url) ?? await git("remote", "get-url", "origin");
  const revision = await git("rev-parse", "HEAD");
  return { version: packageVersion(), ...(revision ? { revision } : {}), ...(source ? { source } : {}) };
}

export const SERVER_IMAGE_TAG = "selfhosted-mcp/server:test";
export const GATEWAY_IMAGE_TAG = "selfhosted-mcp/gateway:test";

/**
 * Builds (cached) the server image FROM the local base image; returns the tag. `created` sets the
 * org.opencontainers.image.created label — a distinct value gives a distinct image id over the same layers.
 * `dockerfile`: the gateway's (GATEWAY_DOCKERFILE) builds the gateway image the same way (buildGatewayImage).
 */
export async function buildServerImage(tag = SERVER_IMAGE_TAG, created?: string, dockerfile = SERVER_DOCKERFILE): Promise<string> {
  const baseImage = await ensureBaseImage();
  const args = dockerBuildArgs({ context: REPO_ROOT, baseImage, ...await imageMetadata(), ...(created ? { created } : {}) }, tag, dockerfile);
  await runOk("docker", [...args.slice(0, 1), "--quiet", ...args.slice(1)], {
    timeoutMs: 10 * 60_000, env: { ...process.env, DOCKER_BUILDKIT: "0" },
  });
  return tag;
}

/** Builds (cached) the gateway image (gateway/Dockerfile) FROM the local base image; returns the tag. */
export const buildGatewayImage = (tag = GATEWAY_IMAGE_TAG) => buildServerImage(tag, undefined, GATEWAY_DOCKERFILE);

/** Writes an env file (mode 0600) with the deployment's own renderer, so containers see the shipped format. */
function writeEnvFile(path: string, env: Record<string, string>): string {
  writeFileSync(path, renderEnvFile(env), { mode: 0o600 });
  return path;
}

/** `docker run` with the run contract; returns the container id. */
export async function runContainer(spec: RunSpec): Promise<string> {
  return (await runOk("docker", dockerRunArgs(spec))).stdout.trim();
}

export async function inspect<T = Record<string, unknown>>(what: string, kind: "container" | "image" = "container"): Promise<T> {
  const r = await runOk("docker", [kind, "inspect", what]);
  return (JSON.parse(r.stdout) as T[])[0]!;
}

export interface ContainerState { Status: string; ExitCode: number; Health?: { Status: string } }

/** Polls the container's health status until `healthy`; fails fast with its logs if it exits or turns unhealthy. */
export async function waitHealthy(name: string, timeoutMs = 60_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await run("docker", ["inspect", "--format", "{{json .State}}", name]);
    const state = r.code === 0 ? JSON.parse(r.stdout) as ContainerState : null;
    if (state?.Health?.Status === "healthy") return;
    if (state && (state.Status === "exited" || state.Health?.Status === "unhealthy")) {
      throw new Error(`container ${name} is ${state.Status}/${state.Health?.Status}:\n${await containerLogs(name)}`);
    }
    await sleep(intervalMs);
  }
  throw new Error(`container ${name} not healthy after ${timeoutMs} ms:\n${await containerLogs(name)}`);
}

export async function containerLogs(name: string): Promise<string> {
  const r = await run("docker", ["logs", name]);
  return r.stdout + r.stderr;
}

/** Force-removes containers and then volumes (ignores ones already gone). */
export async function removeContainers(names: string[], volumes: string[] = []): Promise<void> {
  if (names.length) await run("docker", ["rm", "--force", ...names]);
  if (volumes.length) await run("docker", ["volume", "rm", "--force", ...volumes]);
}

export interface ImageSizes { total: number; base: number; app: number; appLayers: { size: number; createdBy: string }[] }

/** Image size split into the base image's layers and the layers this Dockerfile adds (bytes, uncompressed). */
export async function imageSizes(image: string, baseImage: string): Promise<ImageSizes> {
  const history = async (ref: string) => (await runOk("docker", ["history", "--no-trunc", "--human=false",
    "--format", "{{.Size}}\t{{.CreatedBy}}", ref])).stdout.trim().split("\n")
    .map((line) => { const [size, ...rest] = line.split("\t"); return { size: Number(size), createdBy: rest.join("\t") }; });
  const [mine, base] = await Promise.all([history(image), history(baseImage)]);
  const appLayers = mine.slice(0, mine.length - base.length).filter((l) => l.size > 0);
  const sum = (ls: { size: number }[]) => ls.reduce((n, l) => n + l.size, 0);
  return { total: sum(mine), base: sum(base), app: sum(appLayers), appLayers };
}

export interface StartedContainer { name: string; volume: string; port: number; metricsPort: number; url: string; spec: RunSpec }

export interface StartOptions {
  /** Env file contents (configuration and secrets). */
  env: Record<string, string>;
  /** Directory for the env file (a test's temp dir). */
  dir: string;
  name?: string;
  volume?: string;
  /** Other contract fields; tests probe health every second (healthInterval "1s") unless overridden. */
  spec?: Partial<RunSpec>;
  /** Wait for `healthy` (default true). */
  wait?: boolean;
}

/** Runs the image with the run contract on free loopback ports and (by default) waits until it is healthy. */
export async function startContainer(image: string, opts: StartOptions): Promise<StartedContainer> {
  const name = opts.name ?? uniqueName("mcp-img");
  const volume = opts.volume ?? `${name}-data`;
  const [port, metricsPort] = [await freePort(), await freePort()];
  const envFile = writeEnvFile(join(opts.dir, `${name}.env`), opts.env);
  const spec: RunSpec = { image, name, volume, port, metricsPort, envFile, healthInterval: "1s", ...opts.spec };
  await runContainer(spec);
  if (opts.wait !== false) await waitHealthy(spec.name);
  return { name: spec.name, volume: spec.volume, port: spec.port, metricsPort: spec.metricsPort, url: `http://127.0.0.1:${spec.port}`, spec };
}
