// The README's "From your own stack" example is code users paste: type-check it against the package's public
// entry and run it under Pulumi's mocks, so the example cannot drift from the real API.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, valueOf } from "./mock-harness.ts";
import { runOk } from "../support/proc.ts";

const root = join(import.meta.dirname, "..", "..");

function readmeExample(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### From your own stack"));
  const code = /```ts\n([^]*?)```/.exec(section)?.[1];
  assert.ok(code, "README has a ts block under 'From your own stack'");
  assert.match(code, /from "selfhosted-mcp"/);
  return code;
}

test("the README's stack example type-checks against the package entry and registers the stack", async () => {
  const dir = mkdtempSync(join(root, "test", "infra", ".readme-"));
  try {
    const entry = relative(dir, join(root, "infra", "index.ts"));
    const file = join(dir, "example.ts");
    writeFileSync(file, readmeExample().replace(/from "selfhosted-mcp"/, `from ${JSON.stringify(entry)}`));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: relative(dir, join(root, "tsconfig.json")), include: ["example.ts"] }));
    await runOk(join(root, "node_modules", ".bin", "tsc"), ["-p", join(dir, "tsconfig.json"), "--noEmit"], { timeoutMs: 180_000 });

    const rec = await installMocks();
    pulumi.runtime.setAllConfig({
      "selfhosted-mcp:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx0readmeexamplekeyonlyforthistest user@host",
      "selfhosted-mcp:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nreadme\n-----END OPENSSH PRIVATE KEY-----",
      "selfhosted-mcp:upstreamApiKey": "readme-upstream-key",
      "selfhosted-mcp:apiKeys": "readme-api-key-0123456789abcdef",
    }, ["selfhosted-mcp:sshPrivateKey", "selfhosted-mcp:upstreamApiKey", "selfhosted-mcp:apiKeys"]);
    const mod = await import(file) as { url: pulumi.Output<string> };
    assert.equal(await valueOf(mod.url), "https://mcp.example.com/mcp");
    await rec.settle();
    const types = new Set(rec.resources.map((r) => r.type));
    for (const t of ["selfhosted-mcp:index:SelfHostedMcp", "digitalocean:index/droplet:Droplet", "docker:index/image:Image",
      "command:remote:Command", "digitalocean:index/containerRegistry:ContainerRegistry"]) assert.ok(types.has(t), `${t} registered; have ${[...types].join(", ")}`);
    const build = rec.ofType("docker:index/image:Image")[0]!.inputs.build as { context: string };
    assert.equal(build.context, "./my-server");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
