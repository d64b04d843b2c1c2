// Content-hash triggers: changing only an env value changes the deploy command's triggers (so `pulumi up` redeploys)
// but not the droplet's user-data (which would replace the droplet); an unchanged stack has identical inputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, resolveAssets } from "./mock-harness.ts";
import { SSH_PUBLIC_KEY as KEY } from "./fixtures.ts";

const rec = await installMocks();
const { SelfHostedMcp } = await import("../../infra/index.ts");
const stack = (name: string, logLevel: string, apiKey = "k".repeat(32)) => new SelfHostedMcp(name, {
  domain: "mcp.example.com", sshPublicKey: KEY, adminCidrs: ["203.0.113.7/32"], acme: { email: "ops@example.com" },
  env: { LOG_LEVEL: logLevel }, auth: { mode: "api-key", apiKeys: pulumi.secret(apiKey) },
});
stack("base", "info");
stack("same", "info");
stack("env-changed", "debug");
stack("secret-changed", "info", "z".repeat(32));
await rec.settle();

const inputsOf = async (name: string) => resolveAssets(rec.named(name).inputs) as Promise<Record<string, unknown>>;
const triggers = async (s: string) => ((await inputsOf(`${s}-deploy-deploy`)).triggers as { value: string[] }).value;
const userData = async (s: string) => (await inputsOf(`${s}-host-droplet`)).userData;

test("an unchanged stack renders identical triggers, scripts and user-data (nothing re-runs)", async () => {
  assert.deepEqual(await triggers("same"), await triggers("base"));
  assert.equal(await userData("same"), await userData("base"));
  const { triggers: _a, ...base } = await inputsOf("base-deploy-deploy");
  const { triggers: _b, ...same } = await inputsOf("same-deploy-deploy");
  assert.deepEqual(same, base);
});

test("changing one env value changes the deploy trigger, not the droplet's user-data", async () => {
  const [b, e] = [await triggers("base"), await triggers("env-changed")];
  assert.equal(b.length, 2);
  assert.notDeepEqual(e, b);
  assert.equal(e[0], b[0], "non-secret files and scripts unchanged");
  assert.notEqual(e[1], b[1], "the env file's hash changed");
  assert.equal(await userData("env-changed"), await userData("base"));
});

test("changing a secret changes the trigger too, and only through the secret hash", async () => {
  const [b, s] = [await triggers("base"), await triggers("secret-changed")];
  assert.equal(s[0], b[0]);
  assert.notEqual(s[1], b[1]);
  assert.equal(await userData("secret-changed"), await userData("base"));
});
