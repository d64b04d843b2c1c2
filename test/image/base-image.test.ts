// The local stand-in for node:24-bookworm-slim: shellcheck-clean script, the official image's layout
// (Node of the pinned version, npm, user node 1000, CA store), and a second call that reuses the image.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_IMAGE_SCRIPT, ensureBaseImage, runBaseImageScript } from "../support/base-image.ts";
import { runOk } from "../support/proc.ts";
import { REPO_ROOT } from "../support/server-image.ts";

describe("base image", () => {
  it("build script passes shellcheck", async () => {
    await runOk("shellcheck", [BASE_IMAGE_SCRIPT]);
  });

  it("mirrors the official image: pinned Node, npm, user node (1000), CA certificates, one layer", async () => {
    const tag = await ensureBaseImage();
    const nodeVersion = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { devDependencies: { node: string } })
      .devDependencies.node;
    assert.match(tag, new RegExp(`^selfhosted-mcp/node:${nodeVersion.replaceAll(".", "\\.")}-bookworm-min-[0-9a-f]{8}$`));
    const r = await runOk("docker", ["run", "--rm", "--network", "none", tag, "sh", "-c",
      "node --version; npm --version >/dev/null && echo npm-ok; id node; test -s /etc/ssl/certs/ca-certificates.crt && echo ca-ok; " +
      ". /etc/os-release; echo $VERSION_CODENAME"]);
    assert.deepEqual(r.stdout.trim().split("\n"),
      [`v${nodeVersion}`, "npm-ok", "uid=1000(node) gid=1000(node) groups=1000(node)", "ca-ok", "bookworm"]);
    const layers = JSON.parse((await runOk("docker", ["image", "inspect", "--format", "{{json .RootFS.Layers}}", tag])).stdout) as string[];
    assert.equal(layers.length, 1);
  });

  it("a second run finds the image and skips the build", async () => {
    const tag = await ensureBaseImage();
    const again = await runBaseImageScript();
    assert.equal(again.stdout.trim(), tag);
    assert.equal(again.stderr, "", "no mmdebstrap/npm output: nothing was built");
  });
});
