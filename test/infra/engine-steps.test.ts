// What the engine does with each kind of change, decided from the registered inputs by the real rules
// (@pulumi/command 1.2.1: a changed `triggers` entry REPLACES a Command — new create, then the OLD one's delete,
// pulumi-command issue 189 — any other input change is an in-place update running `update`; unchanged inputs run
// nothing; digitalocean_droplet: user_data/image/region/ssh_keys are ForceNew, size is updated in place):
// - no remote command has triggers, so nothing is ever replaced and no teardown runs on a redeploy;
// - the only teardown (the site command's delete) has inputs that no routine change touches;
// - env, secret, image and nginx changes change the deploy command's inputs (so it updates in place) and nothing else;
// - a size change keeps the user-data (no replacement) and re-runs host-ready (swap) in place.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, resolveAssets } from "./mock-harness.ts";
import { SSH_PUBLIC_KEY as KEY } from "./fixtures.ts";

const rec = await installMocks();
const { SelfHostedMcp } = await import("../../infra/index.ts");
interface Variant { logLevel?: string; apiKey?: string; image?: string; memoryMb?: number; maxBodySize?: string }
const stack = (name: string, v: Variant = {}) => new SelfHostedMcp(name, {
  domain: "mcp.example.com", sshPublicKey: KEY, sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"],
  adminCidrs: ["203.0.113.7/32"], acme: { email: "ops@example.com" }, registry: { server: "ghcr.io/acme" },
  server: { image: `ghcr.io/acme/mcp@sha256:${(v.image ?? "a").repeat(64)}` },
  env: { LOG_LEVEL: v.logLevel ?? "info" }, auth: { mode: "api-key", apiKeys: pulumi.secret(v.apiKey ?? "k".repeat(32)) },
  resources: { memoryMb: v.memoryMb ?? 256 }, smokeTimer: {}, ...(v.maxBodySize ? { maxBodySize: v.maxBodySize } : {}),
  alertStack: { receivers: { webhook: {} }, secrets: { webhookUrl: pulumi.secret("https://alerts.example.test/hook") } },
});
const VARIANTS: Record<string, Variant> = {
  base: {}, same: {}, env: { logLevel: "debug" }, secret: { apiKey: "z".repeat(32) }, image: { image: "b" },
  limits: { maxBodySize: "2m" }, size: { memoryMb: 1024 },
};
for (const [name, v] of Object.entries(VARIANTS)) stack(name, v);
await rec.settle();

const inputs = async (name: string) => resolveAssets(rec.named(name).inputs) as Promise<Record<string, unknown>>;
/** The registered inputs of every resource of a stack, by name without the stack prefix. */
async function resources(s: string): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const r of rec.resources.filter((x) => x.name.startsWith(`${s}-`))) out[r.name.slice(s.length + 1)] = await inputs(r.name);
  return out;
}
/** Resources whose inputs differ from the base stack's: what the engine would update (or replace). */
async function changed(s: string): Promise<string[]> {
  const [b, x] = [await resources("base"), await resources(s)];
  // Names derived from the component name (droplet "<stack>-host", firewall) are the same in one real stack.
  const norm = (v: unknown, prefix: string) => JSON.stringify(v).replaceAll(`${prefix}-`, "STACK-");
  return Object.keys(x).filter((k) => norm(x[k], s) !== norm(b[k], "base")).sort();
}

test("no remote command has triggers (a changed trigger would replace it and run the old one's delete)", () => {
  const commands = rec.ofType("command:remote:Command");
  assert.ok(commands.length >= 5 * Object.keys(VARIANTS).length);
  for (const c of commands) assert.equal(c.inputs.triggers, undefined, `${c.name} has triggers`);
  assert.equal(rec.ofType("command:remote:CopyToRemote").length, 0);
});

test("the only deletes are the site's teardown, the smoke timer's and the alert stack's uninstall; every updated command has update = create", () => {
  for (const c of rec.ofType("command:remote:Command").filter((x) => x.name.startsWith("base-"))) {
    const i = c.inputs as { create?: string; update?: string; delete?: string };
    if (i.delete !== undefined) assert.match(c.name, /^base-(deploy-site|smoke-install|alert-stack-teardown)$/, `${c.name} deletes`);
    assert.equal(i.update ?? i.create, i.create, c.name);
  }
});

test("an unchanged stack changes nothing", async () => {
  assert.deepEqual(await changed("same"), []);
});

for (const [variant, expected] of Object.entries({
  env: ["deploy-deploy"], secret: ["deploy-deploy"], image: ["deploy-deploy"], limits: ["deploy-deploy"],
})) {
  test(`a ${variant} change updates only ${expected.join(", ")} in place; the teardown's inputs stay the same`, async () => {
    assert.deepEqual(await changed(variant), expected);
  });
}

test("a size change resizes the droplet in place (same user-data) and re-runs host-ready (swap); no teardown input changes", async () => {
  const [b, s] = [await resources("base"), await resources("size")];
  assert.deepEqual(await changed("size"), ["deploy-deploy", "host-droplet", "host-ready"]);
  assert.equal(s["host-droplet"]!.userData, b["host-droplet"]!.userData, "user_data is ForceNew: it must not change");
  assert.notEqual(s["host-droplet"]!.size, b["host-droplet"]!.size);
  assert.match(String(b["host-ready"]!.create), /^readonly SWAP_MB=1024$/m);
  assert.match(String(s["host-ready"]!.create), /^readonly SWAP_MB=0$/m, "s-2vcpu-4gb gets no swap");
});

test("an SSH key already on the account is used by fingerprint: no SshKey upload (it would fail with 422)", () => {
  assert.equal(rec.ofType("digitalocean:index/sshKey:SshKey").length, 0);
  for (const d of rec.ofType("digitalocean:index/droplet:Droplet")) assert.deepEqual(d.inputs.sshKeys, ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"]);
});

test("upgrade from 0.1.0, whose commands had triggers: they ignore `triggers`, so the engine keeps the old value (an in-place update, no old delete)", () => {
  // pulumi step_generator processIgnoreChanges resets an ignored path to the old inputs' value before the diff; the
  // SDK's own replaceOnChanges ["triggers[*]"] then sees no change (infra/components/upgrades.ts has the sources).
  for (const name of ["base-deploy-deploy", "base-smoke-install", "base-host-ready"]) {
    const { options } = rec.named(name);
    assert.deepEqual(options.replaceOnChanges, ["triggers[*]"], `${name}: the SDK's replaceOnChanges reaches the engine`);
    assert.deepEqual(options.ignoreChanges, ["triggers"], `${name} ignores changes to triggers`);
  }
});

test("upgrade from 0.1.0 decided by the rehearsal engine's step rules: with the option an update whose diff has no triggers", async () => {
  const { decideStep } = await import("../../rehearsal/engine/rules.ts");
  for (const name of ["base-deploy-deploy", "base-smoke-install"]) {
    const r = rec.named(name);
    const inputs = await resolveAssets(r.inputs) as Record<string, unknown>;
    // The 0.1.0 state: same name, a content-hash trigger list and (for the deploy) the teardown as its delete.
    const prior = {
      urn: `urn:${name}`, type: r.type, name, custom: true, id: `${name}-id`, dependsOn: [], parent: "", deletedWith: "", order: 0,
      inputs: { ...inputs, triggers: ["0".repeat(64), "1".repeat(64)], delete: "bash teardown.sh" }, outputs: {},
    };
    const reg = {
      urn: `urn:${name}`, type: r.type, name, parent: "", custom: true, provider: "", dependsOn: [], inputs, secretPaths: [],
      replaceOnChanges: r.options.replaceOnChanges, ignoreChanges: r.options.ignoreChanges, deletedWith: "", additionalSecretOutputs: [], order: 0,
    };
    const upgraded = decideStep(prior, reg);
    assert.equal(upgraded.op, "update", `${name}: upgraded in place`);
    assert.ok(!upgraded.changed.some((p) => p.startsWith("triggers")), `${name}: triggers unchanged for the diff`);
    // Without the option the whole `triggers` property is removed. The rehearsal engine's rules see only an update
    // (its "triggers[*]" pattern does not cover the top-level key), but @pulumi/command's provider Diff replaces it:
    // pulumi-go-provider v1.3.0 infer/resource.go diff() turns a changed top-level key whose schema property has
    // ReplaceOnChanges (`triggers`) into a *Replace kind — and the replace runs the old delete.
    assert.ok(decideStep(prior, { ...reg, ignoreChanges: [] }).changed.includes("triggers"), `${name}: without the option triggers changes`);
  }
});
