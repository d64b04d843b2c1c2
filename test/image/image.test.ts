// The server image as built: metadata (non-root user, healthcheck, labels), contents (one bundled module with
// production dependencies only, at the lockfile's versions; no curl, no Pulumi), app layers within budget, and no run-time secret anywhere in its history or layers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBaseImage } from "../support/base-image.ts";
import { runOk, run } from "../support/proc.ts";
import {
  REPO_ROOT, buildServerImage, imageMetadata, imageSizes, inspect, removeContainers, startContainer, waitHealthy, type StartedContainer,
} from "../support/server-image.ts";

interface ImageInspect {
  Config: { User: string; Env: string[]; Cmd: string[]; ExposedPorts: Record<string, object>; StopSignal: string;
    Labels: Record<string, string>; Healthcheck: { Test: string[] } };
}

const SENTINEL = `sentinel-${process.pid}-${Date.now()}-do-not-bake`;
const FILE_SENTINEL = `file-sentinel-${process.pid}-${Date.now()}-do-not-bake`;

/** Every regular file below dir, never following symlinks (unpacked layers hold absolute ones, e.g. var/run). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? filesUnder(path) : e.isFile() ? [path] : [];
  });
}

/** Files below dir whose bytes contain needle. */
const filesContaining = (dir: string, needle: string) => filesUnder(dir).filter((f) => readFileSync(f).includes(needle));

describe("server image", () => {
  let image: string;
  let base: string;
  let tmp: string;
  const containers: StartedContainer[] = [];

  before(async () => {
    base = await ensureBaseImage();
    image = await buildServerImage();
    tmp = mkdtempSync(join(tmpdir(), "image-test-"));
  });

  after(async () => {
    await removeContainers(containers.map((c) => c.name), containers.map((c) => c.volume));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** /app/packages.json from the image: every bundled package by lockfile path. */
  const bundled = async () => JSON.parse((await runOk("docker", ["run", "--rm", "--network", "none", "--entrypoint", "cat", image,
    "/app/packages.json"])).stdout) as Record<string, { name: string; version: string; license: string }>;

  it("runs as a non-root user with a curl-free healthcheck, SIGTERM stop signal and OCI labels", async () => {
    const { Config } = await inspect<ImageInspect>(image, "image");
    assert.equal(Config.User, "node");
    assert.deepEqual(Config.Cmd, ["node", "server.mjs"]);
    assert.equal(Config.StopSignal, "SIGTERM");
    assert.ok(Config.ExposedPorts["8000/tcp"]);
    assert.deepEqual(Config.Healthcheck.Test, ["CMD", "bash", "/usr/local/lib/selfhosted-mcp/livez-probe.sh"], "bash's /dev/tcp probe, no node process per check");
    const probe = await runOk("docker", ["run", "--rm", "--network", "none", "--entrypoint", "cat", image, "/usr/local/lib/selfhosted-mcp/livez-probe.sh"]);
    assert.equal(probe.stdout, readFileSync(join(import.meta.dirname, "..", "..", "contract", "livez-probe.sh"), "utf8"), "the contract's probe, byte for byte");
    const meta = await imageMetadata();
    assert.equal(Config.Labels["org.opencontainers.image.version"], meta.version);
    assert.equal(Config.Labels["org.opencontainers.image.revision"], meta.revision ?? "unknown");
    assert.equal(Config.Labels["org.opencontainers.image.source"], meta.source ?? "unknown");
    assert.equal(Config.Labels["org.opencontainers.image.licenses"], "Apache-2.0");
    const uid = await runOk("docker", ["run", "--rm", "--network", "none", "--entrypoint", "id", image, "-u"]);
    assert.equal(uid.stdout.trim(), "1000");
  });

  it("holds one bundled module of the server and its production dependencies, and nothing else", async () => {
    const sh = (script: string) => run("docker", ["run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", script]);
    const stray = await sh("command -v curl wget; find / -xdev \\( -name '*.test.ts' -o -name .git -o -name '*.env' \\) -print 2>/dev/null; " +
      "find /app -mindepth 1 -maxdepth 1");
    assert.equal(stray.stdout.trim().split("\n").sort().join(" "), "/app/packages.json /app/server.mjs");
    const names = Object.values(await bundled()).map((p) => p.name);
    for (const wanted of ["@modelcontextprotocol/sdk", "express", "pino", "prom-client", "zod", "jose"]) assert.ok(names.includes(wanted), wanted);
    for (const unwanted of names.filter((n) => /^(@pulumi\/|@types\/|typescript$|esbuild$|fast-check$|yaml$)/.test(n))) {
      assert.fail(`${unwanted} must not be in the image`);
    }
  });

  it("bundles exactly the versions pinned by the root package-lock.json", async () => {
    const packages = await bundled();
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };
    assert.ok(Object.keys(packages).length > 20, JSON.stringify(packages));
    for (const [path, p] of Object.entries(packages)) {
      assert.ok(path.endsWith(`node_modules/${p.name}`), path);
      assert.equal(p.version, lock.packages[path]?.version, path);
    }
  });

  it("adds at most 20 MB of layers to the base image", async () => {
    const sizes = await imageSizes(image, base);
    const mb = (n: number) => (n / 1e6).toFixed(1);
    process.stdout.write(`# image ${mb(sizes.total)} MB = base ${mb(sizes.base)} MB + app layers ${mb(sizes.app)} MB\n`);
    assert.ok(sizes.app > 1e6, "the app layers hold the bundled server");
    assert.ok(sizes.app <= 20e6, `app layers are ${mb(sizes.app)} MB: ${JSON.stringify(sizes.appLayers)}`);
  });

  it("keeps run-time secrets (env file, mounted file) out of docker history and every layer of docker save", async () => {
    const fromEnv = await startContainer(image, { dir: tmp, env: { AUTH_MODE: "api-key", API_KEYS: SENTINEL }, wait: false });
    containers.push(fromEnv);
    const keyFile = join(tmp, "api-keys");
    writeFileSync(keyFile, `${FILE_SENTINEL}\n`, { mode: 0o400 });
    chownSync(keyFile, 1000, 1000); // readable by the image's `node` user only
    const fromFile = await startContainer(image, { dir: tmp, wait: false, env: { AUTH_MODE: "api-key", API_KEYS_FILE: "/run/secrets/api-keys" },
      spec: { secretFiles: [{ source: keyFile, target: "/run/secrets/api-keys" }] } });
    containers.push(fromFile);
    await Promise.all([waitHealthy(fromEnv.name), waitHealthy(fromFile.name)]);
    // the secrets are live: each server accepts its key and rejects requests without it
    const call = (url: string, auth?: string) => fetch(`${url}/mcp`, { method: "POST", headers: {
      "content-type": "application/json", accept: "application/json, text/event-stream", ...(auth ? { authorization: `Bearer ${auth}` } : {}),
    }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) });
    assert.equal((await call(fromEnv.url)).status, 401);
    assert.equal((await call(fromEnv.url, SENTINEL)).status, 200);
    assert.equal((await call(fromFile.url)).status, 401);
    assert.equal((await call(fromFile.url, FILE_SENTINEL)).status, 200);

    const history = await runOk("docker", ["history", "--no-trunc", "--format", "{{.CreatedBy}} {{.Comment}}", image]);
    assert.match(history.stdout, /COPY/);
    const config = await runOk("docker", ["image", "inspect", image]);
    for (const secret of [SENTINEL, FILE_SENTINEL]) {
      assert.ok(!history.stdout.includes(secret), "secret in docker history");
      assert.ok(!config.stdout.includes(secret), "secret in image config");
    }

    const saved = join(tmp, "save");
    await runOk("docker", ["save", "--output", join(tmp, "image.tar"), image], { timeoutMs: 300_000 });
    await runOk("mkdir", ["-p", saved]);
    await runOk("tar", ["-xf", join(tmp, "image.tar"), "-C", saved]);
    const layers = filesUnder(saved).filter((f) => f.endsWith("layer.tar") || /blobs\/sha256\/[0-9a-f]{64}$/.test(f));
    assert.ok(layers.length >= 2, `docker save produced layers: ${layers.length}`);
    for (const [i, layer] of layers.entries()) {
      const out = join(saved, `unpacked-${i}`);
      await runOk("mkdir", ["-p", out]);
      await run("tar", ["-xf", layer, "-C", out, "--no-same-owner", "--no-same-permissions"]);
    }
    // the scan finds what is there (the server's code) and not the secret — in tar files or unpacked files
    assert.ok(filesContaining(saved, "server listening").length > 0, "scan sanity: compiled server code found");
    assert.deepEqual(filesContaining(saved, SENTINEL), []);
    assert.deepEqual(filesContaining(saved, FILE_SENTINEL), []);
  });
});
