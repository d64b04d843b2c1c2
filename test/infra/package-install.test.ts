// The reference server builds from the INSTALLED package (issue 12, defect 8): `npm pack` of the working tree (its
// prepack builds dist/ and writes server/image-lock.json — npm never publishes the root package-lock.json), then
// `npm install <tarball>` into a fresh consumer project; there SelfHostedMcp without `server` (evaluated under
// Pulumi mocks with the consumer's own node_modules) asks docker to build node_modules/selfhosted-mcp with
// server/Dockerfile, and exactly that build — context, Dockerfile and build args it recorded, BASE_IMAGE the local
// stand-in — runs with the real docker and gives an image whose server answers /livez.
// Without server/ (hidden after install) everything but the reference image works: every export map entry, a
// prebuilt-image SelfHostedMcp under mocks, the smoke timer bundle, the bin (issue 14).
// Time: ~75 s pack (tsc), ~40 s install (npm cache), the docker build (cached layers after the first image test).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { run, runOk } from "../support/proc.ts";
import { ensureBaseImage } from "../support/base-image.ts";
import { removeContainers, startContainer, uniqueName } from "../support/server-image.ts";
import { findLock, SHIPPED_LOCK } from "../../server/image-manifest.ts";

const REPO = join(import.meta.dirname, "..", "..");
const root = mkdtempSync(join(tmpdir(), "package-install-"));
const tag = `selfhosted-mcp/installed-package:${process.pid}`;
const containers: string[] = [];
after(async () => {
  await removeContainers(containers, containers.map((c) => `${c}-data`));
  await run("docker", ["rmi", "--force", tag]);
  rmSync(root, { recursive: true, force: true });
});

/** npm run in a directory with Node 24 first on PATH (the repo's node_modules/.bin, as inside npm scripts). */
const npm = (cwd: string, args: string[], timeoutMs: number) => runOk("npm", args, {
  cwd, timeoutMs, env: { ...process.env, PATH: `${join(REPO, "node_modules", ".bin")}:${process.env.PATH}`, npm_config_update_notifier: "false" },
});

// Runs in the consumer project: SelfHostedMcp with no `server`, under mocks; prints the recorded docker build.
const PROBE = `
import * as pulumi from "@pulumi/pulumi";
const builds = [];
await pulumi.runtime.setMocks({
  newResource(a) {
    if (a.type === "docker:index/image:Image") builds.push(a.inputs.build);
    const outputs = { repoDigest: "registry.test/acme/selfhosted-mcp@sha256:" + "0".repeat(64), ipv4Address: "203.0.113.10", ipv6Address: "2001:db8::10" };
    return { id: a.name + "-id", state: { ...a.inputs, ...outputs } };
  },
  call(a) { return a.inputs; },
}, "consumer", "test", false);
const { SelfHostedMcp } = await import("selfhosted-mcp");
new SelfHostedMcp("mcp", {
  domain: "mcp.example.com", sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmB0Zk7dJYkYy5D8Y5cQn0bLxvVhqfV7y2rMyk9qQ0x me@laptop",
  sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"], adminCidrs: ["203.0.113.7/32"], acme: { email: "ops@example.com" },
  registry: { server: "registry.test/acme" },
});
for (let i = 0; i < 100 && builds.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify(builds));
process.exit(0);
`;

const DIGEST_IMAGE = `registry.test/acme/weather@sha256:${"ab".repeat(32)}`;

// Runs in the consumer project with server/ and dist/server/ hidden: every export map entry loads, SelfHostedMcp with
// a prebuilt image registers under mocks (no build), and the smoke timer's bundle builds from the installed sources.
const NO_SERVER_PROBE = `
import * as pulumi from "@pulumi/pulumi";
const names = [];
await pulumi.runtime.setMocks({
  newResource(a) {
    names.push(a.name);
    const outputs = { ipv4Address: "203.0.113.10", ipv6Address: "2001:db8::10" };
    return { id: a.name + "-id", state: { ...a.inputs, ...outputs } };
  },
  call(a) { return a.inputs; },
}, "consumer", "test", false);
const subpaths = {};
for (const entry of [".", "./contract", "./nginx", "./render", "./monitoring", "./smoke"]) {
  subpaths[entry] = Object.keys(await import(entry === "." ? "selfhosted-mcp" : "selfhosted-mcp/" + entry.slice(2))).length;
}
const { SelfHostedMcp } = await import("selfhosted-mcp");
const { bundleSmokeCli } = await import("selfhosted-mcp/monitoring");
const mcp = new SelfHostedMcp("mcp", {
  domain: "mcp.example.com", sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmB0Zk7dJYkYy5D8Y5cQn0bLxvVhqfV7y2rMyk9qQ0x me@laptop",
  sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"], adminCidrs: ["203.0.113.7/32"], acme: { email: "ops@example.com" },
  server: { image: ${JSON.stringify(DIGEST_IMAGE)} }, auth: { mode: "none" },
});
const image = await new Promise((resolve) => mcp.imageDigest.apply(resolve));
for (let i = 0; i < 100 && !names.includes("mcp-deploy-certificate"); i++) await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ subpaths, image, bundle: bundleSmokeCli().length }));
process.exit(0);
`;

test("the image's lock: package-lock.json in a checkout, else the shipped copy; neither fails naming both and the fix", () => {
  const dir = join(root, "locks");
  mkdirSync(dir);
  assert.throws(() => findLock(dir, ["package-lock.json", "image-lock.json"]),
    new RegExp(`none of package-lock\\.json, image-lock\\.json in .*npm install.*${SHIPPED_LOCK.replace(/[./]/g, "\\$&")}`));
  writeFileSync(join(dir, "image-lock.json"), "{}");
  assert.equal(findLock(dir, ["package-lock.json", "image-lock.json"]), join(dir, "image-lock.json"));
  writeFileSync(join(dir, "package-lock.json"), "{}");
  assert.equal(findLock(dir, ["package-lock.json", "image-lock.json"]), join(dir, "package-lock.json"));
});

test("npm pack → npm install: without the server's sources every export, a prebuilt-image deploy, the smoke bundle and the bin work; SelfHostedMcp's default build is the installed package, and docker builds it into a serving image (/livez)", { timeout: 10 * 60_000 }, async () => {
  // The working tree as a checkout would have it (tracked and new files, no node_modules/dist), so packing leaves
  // nothing behind in the repo.
  const src = join(root, "src");
  const files = (await runOk("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: REPO })).stdout.split("\0")
    .filter((f) => f && existsSync(join(REPO, f)) && !f.startsWith("node_modules"));
  for (const f of files) { mkdirSync(dirname(join(src, f)), { recursive: true }); cpSync(join(REPO, f), join(src, f)); }
  symlinkSync(join(REPO, "node_modules"), join(src, "node_modules"));
  await npm(src, ["pack", "--pack-destination", root], 4 * 60_000);
  const tarball = readdirSync(root).find((f) => /^selfhosted-mcp-.*\.tgz$/.test(f));
  assert.ok(tarball, "npm pack wrote the tarball");

  const consumer = join(root, "consumer");
  mkdirSync(consumer);
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
  await npm(consumer, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", join(root, tarball!)], 4 * 60_000);
  const installed = realpathSync(join(consumer, "node_modules", "selfhosted-mcp"));
  for (const f of ["server/Dockerfile", "server/image-lock.json", "tsconfig.json", "tsconfig.build.json", ".dockerignore", "dist/infra/index.js"]) {
    assert.ok(existsSync(join(installed, f)), `the installed package has ${f}`);
  }
  assert.ok(!existsSync(join(installed, "package-lock.json")), "npm does not publish the root lock (why image-lock.json exists)");

  // Everything but building the reference image works without the server's sources: hide server/ and dist/server/,
  // import the root and every subpath, deploy a prebuilt image under mocks, bundle the smoke CLI, run the bin.
  const hidden = [join(installed, "server"), join(installed, "dist", "server")].filter((d) => existsSync(d));
  for (const d of hidden) renameSync(d, `${d}.hidden`);
  try {
    const noServer = await run(process.execPath, ["--input-type=module", "-e", NO_SERVER_PROBE], { cwd: consumer, timeoutMs: 60_000 });
    assert.equal(noServer.code, 0, noServer.stdout + noServer.stderr);
    const out = JSON.parse(noServer.stdout.trim().split("\n").pop()!) as { subpaths: Record<string, number>; image: string; bundle: number };
    for (const entry of [".", "./contract", "./nginx", "./render", "./monitoring", "./smoke"]) assert.ok(out.subpaths[entry]! > 0, `${entry} exports something`);
    assert.equal(out.image, DIGEST_IMAGE, "the prebuilt image is what the deployment runs");
    assert.ok(out.bundle > 10_000, "the smoke CLI bundles from the installed package");
    const bin = await run(join(consumer, "node_modules", ".bin", "selfhosted-mcp"), ["--help"], { cwd: consumer, timeoutMs: 30_000,
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` } });
    assert.equal(bin.code, 0, bin.stdout + bin.stderr);
    assert.match(bin.stdout, /usage: selfhosted-mcp smoke <url>/);
  } finally {
    for (const d of hidden) renameSync(`${d}.hidden`, d);
  }

  const probe = await run(process.execPath, ["--input-type=module", "-e", PROBE], { cwd: consumer, timeoutMs: 60_000 });
  assert.equal(probe.code, 0, probe.stdout + probe.stderr);
  const [build] = JSON.parse(probe.stdout.trim().split("\n").pop()!) as { context: string; dockerfile: string; args: Record<string, string> }[];
  assert.ok(build, "SelfHostedMcp registered a docker image build");
  assert.equal(realpathSync(build.context), installed, "the default context is the installed package, not the consumer's directory");
  assert.equal(realpathSync(build.dockerfile), join(installed, "server", "Dockerfile"));

  const baseImage = await ensureBaseImage();
  const args = Object.entries({ ...build.args, BASE_IMAGE: baseImage }).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]);
  await runOk("docker", ["build", "--quiet", "--file", build.dockerfile, "--tag", tag, ...args, build.context],
    { timeoutMs: 8 * 60_000, env: { ...process.env, DOCKER_BUILDKIT: "0" } });
  const name = uniqueName("mcp-installed");
  containers.push(name);
  const c = await startContainer(tag, { dir: root, name, env: { AUTH_MODE: "api-key", API_KEYS: "k".repeat(32) } });
  // /livez: the process serves (its deep /health also checks an upstream this test does not run).
  const health = await fetch(`${c.url}/livez`, { signal: AbortSignal.timeout(5000) });
  assert.equal(health.status, 200, await health.text());
});
