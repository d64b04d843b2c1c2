// The real example program (Pulumi.yaml → examples/stack/program.ts) under the rehearsal's engine, mocks only (no docker,
// ssh or droplet; CI): the first up's preview passes with the README's config and with Pulumi.yaml's defaults, and
// every redeploy takes the steps Pulumi would take (rehearsal/engine/rules.ts): which resources change, which
// Command scripts run, on which host (HOST_ID), and what is deleted. Each change starts from its own copy of one
// deployed state, so no test depends on another's.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlanRequest } from "../../rehearsal/plan.ts";
import { previewFirstUp, FIRST_UP_CONFIG, FIRST_UP_ENV, REQUIRED_ONLY_CONFIG } from "../../rehearsal/engine/first-up.ts";
import { mockUp, mockDestroy, type MockUp, type Ran } from "../../rehearsal/engine/mock-up.ts";
import type { StackConfig } from "../../rehearsal/engine/config.ts";
import { DROPLET, REMOTE_COMMAND } from "../../rehearsal/engine/rules.ts";

const root = mkdtempSync(join(tmpdir(), "program-steps-"));
after(() => rmSync(root, { recursive: true, force: true }));
const deployed = join(root, "deployed");

// The README's config with a prebuilt image (no docker build under mocks; an image change = a new digest).
const IMAGE = (c: string) => `registry.example.com/mcp@sha256:${c.repeat(64)}`;
const BASE: StackConfig = { ...FIRST_UP_CONFIG, image: IMAGE("a"), env: JSON.stringify({ LOG_LEVEL: "info" }) };
const request = (config: StackConfig): PlanRequest => ({ config, stack: "prod", mockCloud: { ipv4: "192.0.2.10" }, env: FIRST_UP_ENV });
const changes = (r: { steps: MockUp["steps"] }) => r.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);
const previewChanges = (r: MockUp) => r.preview.resources.filter((x) => x.custom && x.step.op !== "same").map((x) => `${x.step.op} ${x.name}`);
const dropletOf = (r: MockUp) => r.plan.resources.find((x) => x.type === DROPLET)!;
const HOST_COMMANDS = ["mcp-host-ready", "mcp-deploy-site", "mcp-deploy-deploy", "mcp-deploy-certificate"];

let first: MockUp;
before(async () => { first = await mockUp(deployed, request(BASE)); });

/** One `pulumi up` with `change` applied to BASE, from a copy of the deployed state. */
async function upFromDeployed(change: StackConfig): Promise<MockUp> {
  const dir = mkdtempSync(join(root, "up-"));
  cpSync(deployed, dir, { recursive: true });
  return mockUp(dir, request({ ...BASE, ...change }));
}

test("first up: the README's config previews without a Check failure, every resource created", async () => {
  const p = await previewFirstUp();
  assert.equal(p.error, undefined);
  assert.deepEqual(p.checkFailures, []);
  assert.ok(p.ok);
  assert.ok(p.steps.length >= 8 && p.steps.every((s) => s.startsWith("create ")), p.steps.join("\n"));
  for (const t of [DROPLET, REMOTE_COMMAND, "docker:index/image:Image", "digitalocean:index/dnsRecord:DnsRecord"]) {
    assert.ok(p.steps.some((s) => s.includes(` ${t} `)), `${t} in ${p.steps.join(", ")}`);
  }
  assert.ok(!p.steps.some((s) => s.includes("CopyToRemote")), "no CopyToRemote (1.2.1's Check rejects unknown sources)");
});

test("first up: Pulumi.yaml's defaults (delivered as the CLI does: text, JSON, not secret) + the required keys preview", async () => {
  const p = await previewFirstUp(REQUIRED_ONLY_CONFIG);
  assert.equal(p.error, undefined);
  assert.ok(p.ok, JSON.stringify(p.checkFailures));
  assert.ok(p.steps.some((s) => s.includes(" digitalocean:index/sshKey:SshKey ")), "without a fingerprint the key is uploaded");
  const noAgent = await previewFirstUp(REQUIRED_ONLY_CONFIG, { SSH_AUTH_SOCK: "" });
  assert.match(noAgent.error ?? "", /sshPrivateKey/, "no SSH agent and no key: the config error names the key");
});

test("first up under mocks: everything created, every host command run on the new droplet", () => {
  assert.ok(changes(first).every((c) => c.startsWith("create ")), changes(first).join("\n"));
  const host = dropletOf(first).id;
  assert.deepEqual(first.ran.map((r) => `${r.op} ${r.name} ${r.hostId}`), HOST_COMMANDS.map((n) => `create ${n} ${host}`));
});

test("an unchanged up runs nothing", async () => {
  const r = await upFromDeployed({});
  assert.deepEqual(changes(r), []);
  assert.deepEqual(previewChanges(r), []);
  assert.deepEqual(r.ran, []);
});

const IN_PLACE: Record<string, StackConfig> = {
  "env change": { env: JSON.stringify({ LOG_LEVEL: "debug" }) },
  "secret change": { secretEnv: { value: JSON.stringify({ API_TOKEN: "s3cr3t-rotated" }), secret: true } },
  "API key change": { apiKeys: { value: "fedcba9876543210fedcba9876543210", secret: true } },
  "image change": { image: IMAGE("b") },
  "nginx option change": { rateLimitPerSecond: "9", maxBodySize: "2m" },
};
for (const [what, change] of Object.entries(IN_PLACE)) {
  test(`${what}: only mcp-deploy-deploy updates in place (preview and up); no delete, no teardown`, async () => {
    const r = await upFromDeployed(change);
    assert.deepEqual(changes(r), ["update mcp-deploy-deploy"]);
    assert.deepEqual(previewChanges(r), ["update mcp-deploy-deploy"]);
    assert.deepEqual(r.ran, [{ op: "update", name: "mcp-deploy-deploy", hostId: dropletOf(first).id }] satisfies Ran[]);
  });
}

test("size change: the droplet resizes in place (same id, same user-data), host-ready re-runs (swap); nothing replaced", async () => {
  const r = await upFromDeployed({ dropletSize: "s-2vcpu-4gb" });
  assert.deepEqual(changes(r), ["update mcp-host-droplet", "update mcp-host-ready"]);
  const [a, b] = [dropletOf(first), dropletOf(r)];
  assert.equal(b.id, a.id);
  assert.equal(b.inputs.userData, a.inputs.userData, "user_data is ForceNew");
  assert.notEqual(b.inputs.size, a.inputs.size);
  assert.deepEqual(r.ran, [{ op: "update", name: "mcp-host-ready", hostId: a.id }] satisfies Ran[]);
});

/** A droplet replacement: new droplet first, every command on it updated with the new HOST_ID, old droplet last. */
function assertReplaced(r: MockUp, forceNew: string[]) {
  const c = changes(r);
  assert.equal(c[0], "replace mcp-host-droplet", c.join("\n"));
  assert.deepEqual(dropletOf(r).step.replaceKeys.sort(), forceNew.sort());
  assert.equal(c.at(-1), "delete mcp-host-droplet", "the old droplet is deleted at the end (create before delete)");
  for (const n of HOST_COMMANDS) assert.ok(c.includes(`update ${n}`), `${n} updated in place: ${c.join(", ")}`);
  assert.ok(!c.some((x) => x.startsWith("replace mcp-deploy") || x.startsWith("delete mcp-deploy")), c.join(", "));
  const host = dropletOf(r).id;
  assert.notEqual(host, dropletOf(first).id);
  assert.deepEqual(r.ran.map((x) => `${x.op} ${x.name} ${x.hostId}`), HOST_COMMANDS.map((n) => `update ${n} ${host}`),
    "every command re-runs on the new host; the site's teardown runs nowhere");
  assert.ok(previewChanges(r).includes("replace mcp-host-droplet"));
}

test("user-data change (sshPort): the droplet is replaced; every command re-runs on the new host; no teardown", async () => {
  const r = await upFromDeployed({ sshPort: "2222" });
  assertReplaced(r, ["userData"]);
  assert.ok(changes(r).includes("update mcp-host-firewall"));
});

test("SSH key rotation (new public key + fingerprint): the droplet is replaced (user_data, ssh_keys); no teardown", async () => {
  const r = await upFromDeployed({
    sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRotatedRehearsalKeyxxxxxxxxxxxxxxxxxxxxxxxx rotated",
    sshKeyFingerprint: "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99",
  });
  assertReplaced(r, ["userData", "sshKeys[0]"]);
});

test("destroy: dependents first, the droplet after its commands, the registry last; the site's teardown is skipped (deletedWith)", async () => {
  const dir = mkdtempSync(join(root, "destroy-"));
  cpSync(deployed, dir, { recursive: true });
  const { steps, ran } = await mockDestroy(dir);
  const order = steps.map((s) => s.name);
  const at = (n: string) => { const i = order.indexOf(n); assert.ok(i >= 0, `${n} deleted: ${order.join(", ")}`); return i; };
  assert.ok(at("mcp-deploy-certificate") < at("mcp-deploy-deploy") && at("mcp-deploy-deploy") < at("mcp-deploy-site"));
  for (const n of HOST_COMMANDS) assert.ok(at(n) < at("mcp-host-droplet"), `${n} before the droplet`);
  assert.ok(at("mcp-image-pull-credentials") < at("mcp-image-registry"));
  assert.match(steps[at("mcp-deploy-site")]!.detail ?? "", /^deletedWith .*Droplet::mcp-host-droplet$/);
  assert.deepEqual(ran, [], "no delete script runs: only the site has one, and its host goes too");
});

// The smoke timer's install (its delete is the uninstall) is the child of a component given `deletedWith` the droplet;
// the engine passes it on (source_eval.go inheritFromParent), so a destroy needs no SSH to the host for it either.
test("destroy with the smoke timer and the alert stack: the smoke install inherits deletedWith from its component; no delete script runs", async () => {
  const dir = mkdtempSync(join(root, "destroy-monitored-"));
  await mockUp(dir, request({ ...BASE, smokeTimer: "true", alertWebhookUrl: { value: "https://alerts.example.com/hook", secret: true } }));
  const { steps, ran } = await mockDestroy(dir);
  const named = (re: RegExp) => steps.filter((s) => re.test(s.name));
  assert.ok(named(/smoke-install$/).length === 1 && named(/alert-stack-teardown$/).length === 1, steps.map((s) => s.name).join(", "));
  for (const s of [...named(/smoke-install$/), ...named(/alert-stack-teardown$/)]) {
    assert.match(s.detail ?? "", /^deletedWith .*Droplet::mcp-host-droplet$/, s.name);
  }
  assert.deepEqual(ran, [], "no delete script runs (the smoke uninstall and the alert teardown included)");
});
