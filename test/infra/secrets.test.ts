// Secrets end to end through the example program (stack config -> components -> resource inputs), under mocks:
// every sentinel secret reaches the host only inside secret values, and nowhere else (user-data, scripts, nginx
// files, run spec, outputs).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, resolveAssets, withoutSecrets, isSecretValue, valueOf, bundleFiles } from "./mock-harness.ts";
import { SSH_PUBLIC_KEY as KEY } from "./fixtures.ts";

const SENTINELS = {
  apiKeys: "SENTINEL-api-key-0123456789abcdef",
  upstreamApiKey: "SENTINEL-upstream-token-42",
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----SENTINEL-ssh-----END OPENSSH PRIVATE KEY-----",
  registryPassword: "SENTINEL-registry-password",
  secretEnv: "SENTINEL-oauth-audience",
  // The on-droplet monitoring stack's receivers (one secret each).
  alertSmtpPassword: "SENTINEL-smtp-password",
  alertWebhookUrl: "https://alerts.example.test/SENTINEL-webhook",
  alertPagerdutyRoutingKey: "SENTINELpagerdutykey0123456789ab",
};
const ALERT_SECRETS = ["alertSmtpPassword", "alertWebhookUrl", "alertPagerdutyRoutingKey"] as const;
const cfg = (k: string) => `selfhosted-mcp:${k}`;
pulumi.runtime.setAllConfig({
  "digitalocean:token": "SENTINEL-do-token",
  [cfg("domain")]: "mcp.example.com",
  [cfg("sshPublicKey")]: KEY,
  [cfg("adminCidrs")]: JSON.stringify(["203.0.113.7/32"]),
  [cfg("acmeEmail")]: "ops@example.com",
  [cfg("registryServer")]: "ghcr.io/acme",
  [cfg("registryUsername")]: "acme-bot",
  [cfg("env")]: JSON.stringify({ LOG_LEVEL: "debug" }),
  [cfg("apiKeys")]: SENTINELS.apiKeys,
  [cfg("upstreamApiKey")]: SENTINELS.upstreamApiKey,
  [cfg("sshPrivateKey")]: SENTINELS.sshPrivateKey,
  [cfg("registryPassword")]: SENTINELS.registryPassword,
  [cfg("secretEnv")]: JSON.stringify({ OAUTH_AUDIENCE: SENTINELS.secretEnv }),
  [cfg("alertEmails")]: JSON.stringify(["ops@example.com"]),
  [cfg("alertSmtpSmarthost")]: "smtp.example.com:587",
  [cfg("alertSmtpFrom")]: "mcp@example.com",
  [cfg("alertSmtpUsername")]: "mcp",
  ...Object.fromEntries(ALERT_SECRETS.map((k) => [cfg(k), SENTINELS[k]])),
}, ["digitalocean:token", ...["apiKeys", "upstreamApiKey", "sshPrivateKey", "registryPassword", "secretEnv", ...ALERT_SECRETS].map(cfg)]);

const rec = await installMocks();
const program = await import("../../examples/stack/program.ts");
const exported: Record<string, { value: unknown; secret: boolean }> = {};
for (const [k, v] of Object.entries(program)) {
  exported[k] = { value: await valueOf(v as pulumi.Output<unknown>), secret: await pulumi.isSecret(v as pulumi.Output<unknown>) };
}
await rec.settle();
const resources = await Promise.all(rec.resources.map(async (r) => ({ ...r, inputs: await resolveAssets(r.inputs) as Record<string, unknown> })));
const forms = Object.values(SENTINELS).flatMap((s) => [s, Buffer.from(`acme-bot:${s}`).toString("base64")]).concat("SENTINEL");

test("no sentinel in any non-secret input of any resource (user-data, scripts, nginx files, run spec, triggers)", () => {
  assert.ok(resources.length >= 12, `only ${resources.length} resources`);
  for (const r of resources) {
    const visible = JSON.stringify(withoutSecrets(r.inputs));
    for (const s of forms) assert.ok(!visible.includes(s), `${r.type} ${r.name} exposes ${s}`);
  }
  const droplet = resources.find((r) => r.type === "digitalocean:index/droplet:Droplet")!;
  assert.ok(!String(droplet.inputs.userData).includes("SENTINEL"));
  assert.ok(!isSecretValue(droplet.inputs.userData), "user-data is plain (and secret-free)");
});

test("stack outputs carry no secret and are not secret", () => {
  assert.deepEqual(Object.keys(exported).sort(), ["alertRules", "dropletId", "healthUrl", "imageDigest", "ipv4", "url"]);
  for (const [k, o] of Object.entries(exported)) {
    assert.equal(o.secret, false, k);
    assert.ok(!JSON.stringify(o.value).includes("SENTINEL"), k);
  }
});

test("the deploy command's stdin is secret and carries the env file with every secret env value, and the registry credentials", () => {
  const deploy = resources.find((r) => r.name === "mcp-deploy-deploy")!.inputs;
  assert.ok(isSecretValue(deploy.stdin));
  const files = bundleFiles((deploy.stdin as { value: string }).value);
  const text = files.env!;
  assert.match(text, new RegExp(`^API_KEYS=${SENTINELS.apiKeys}$`, "m"));
  assert.match(text, new RegExp(`^UPSTREAM_API_KEY=${SENTINELS.upstreamApiKey}$`, "m"));
  assert.match(text, new RegExp(`^OAUTH_AUDIENCE=${SENTINELS.secretEnv}$`, "m"));
  assert.match(text, /^LOG_LEVEL=debug$/m);
  assert.match(text, /^PUBLIC_URL=https:\/\/mcp\.example\.com$/m);
  const auth = JSON.parse(files["docker-config.json"]!).auths["ghcr.io"].auth;
  assert.equal(Buffer.from(auth, "base64").toString(), `acme-bot:${SENTINELS.registryPassword}`);
});

test("every command carries the SSH private key only inside a secret connection; no command has triggers", () => {
  const commands = resources.filter((r) => r.type.startsWith("command:remote:"));
  assert.equal(commands.length, 6, "ready, site, deploy, certificate, alert-stack teardown and install");
  for (const c of commands) {
    assert.ok(isSecretValue(c.inputs.connection), `${c.name} connection`);
    assert.equal((c.inputs.connection as { value: { privateKey: string } }).value.privateKey, SENTINELS.sshPrivateKey);
  }
  for (const c of commands) assert.equal(c.inputs.triggers, undefined, c.name);
});

test("the alert receivers' secrets reach only the monitoring install's secret stdin (Alertmanager's config)", () => {
  const install = resources.find((r) => r.name === "mcp-alert-stack-install")!;
  assert.ok(isSecretValue(install.inputs.stdin));
  const am = Buffer.from(String((install.inputs.stdin as { value: string }).value).trim(), "base64").toString("utf8");
  for (const k of ALERT_SECRETS) assert.ok(am.includes(SENTINELS[k]), `${k} in Alertmanager's config`);
});

test("the image push uses the registry password only as a secret", () => {
  const image = resources.find((r) => r.type === "docker:index/image:Image")!.inputs;
  assert.ok(isSecretValue(image.registry));
  assert.deepEqual((image.registry as { value: unknown }).value, { server: "ghcr.io", username: "acme-bot", password: SENTINELS.registryPassword });
  assert.match(String(image.imageName), /^ghcr\.io\/acme\/selfhosted-mcp:v\d+\.\d+\.\d+/);
});

test("the leak check is real: a value taken out of its secret wrapper is found", async () => {
  const { remote } = await import("@pulumi/command");
  new remote.Command("leak-probe", { connection: { host: "h" }, create: pulumi.unsecret(pulumi.secret(`echo ${SENTINELS.apiKeys}`)) });
  await rec.settle();
  assert.ok(JSON.stringify(withoutSecrets(rec.named("leak-probe").inputs)).includes(SENTINELS.apiKeys));
});
