// The deploy path for the image: push to a registry, lose the local copy, pull by digest, run → healthy.
// The registry is Debian's docker-registry on a free loopback port.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, runOk } from "../support/proc.ts";
import { startRegistry, type Registry } from "../support/registry.ts";
import {
  buildServerImage, inspect, removeContainers, startContainer, uniqueName, waitHealthy, type StartedContainer,
} from "../support/server-image.ts";

interface Manifest { layers?: { digest: string }[]; config?: { digest: string } }

describe("server image through a registry", () => {
  let registry: Registry;
  let tmp: string;
  let localTag: string;
  let pushed: string;
  let byDigest: string;
  const started: StartedContainer[] = [];

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "registry-test-"));
    registry = await startRegistry();
    // A distinct `created` label gives this run its own image id over the shared layers, so removing it
    // locally does not disturb the image the other tests use.
    localTag = await buildServerImage(`selfhosted-mcp/server:registry-${process.pid}`, new Date().toISOString());
    pushed = `${registry.address}/selfhosted-mcp/server:${process.pid}`;
  });

  after(async () => {
    await removeContainers(started.map((c) => c.name), started.map((c) => c.volume));
    for (const ref of [byDigest, pushed, localTag]) if (ref) await run("docker", ["rmi", "--force", ref]);
    await registry?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("pushes, and the registry holds the manifest and every layer", async () => {
    await runOk("docker", ["tag", localTag, pushed]);
    const push = await runOk("docker", ["push", pushed], { timeoutMs: 300_000 });
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);
    const repoPath = `http://${registry.address}/v2/selfhosted-mcp/server`;
    const manifest = await fetch(`${repoPath}/manifests/${digest}`, {
      headers: { accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json" },
    });
    assert.equal(manifest.status, 200);
    const body = await manifest.json() as Manifest;
    assert.ok(body.layers && body.layers.length >= 2, JSON.stringify(body));
    for (const blob of [body.config!, ...body.layers]) {
      assert.equal((await fetch(`${repoPath}/blobs/${blob.digest}`, { method: "HEAD" })).status, 200, blob.digest);
    }
    byDigest = `${registry.address}/selfhosted-mcp/server@${digest}`;
  });

  it("after the local copy is removed, pulls by digest and runs healthy", async () => {
    assert.ok(byDigest, "needs the pushed digest");
    const id = (await inspect<{ Id: string }>(localTag, "image")).Id;
    await runOk("docker", ["rmi", localTag, pushed]);
    assert.notEqual((await run("docker", ["image", "inspect", id])).code, 0, "local copy is gone");

    await runOk("docker", ["pull", byDigest], { timeoutMs: 300_000 });
    assert.equal((await inspect<{ Id: string }>(byDigest, "image")).Id, id, "the pulled image is the one pushed");
    const c = await startContainer(byDigest, { dir: tmp, wait: false, name: uniqueName("mcp-img-pulled"),
      env: { AUTH_MODE: "api-key", API_KEYS: `registry-key-${randomUUID()}` } });
    started.push(c);
    await waitHealthy(c.name);
    assert.equal((await fetch(`${c.url}/livez`)).status, 200);
  });
});
