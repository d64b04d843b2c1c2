// The example program wires the on-droplet monitoring stack (McpMonitoringStack) into SelfHostedMcp from its stack
// config, delivered as the Pulumi CLI delivers it (Pulumi.yaml defaults as strings, only --secret keys in the secret
// list): no receiver → no monitoring resource at all; one receiver → the stack, its secret only on the install's
// secret stdin, its commands marked with the droplet id (a new droplet gets them again), the teardown deletedWith the
// droplet; a receiver secret stored in plain text fails before anything registers, naming the key and the fix.
import { test } from "node:test";
import assert from "node:assert/strict";
import { installMocks, isSecretValue, withoutSecrets, type Recorded } from "../infra/mock-harness.ts";
import { REQUIRED_STACK_CONFIG, asTheCliDelivers, runProgram } from "../infra/fixtures.ts";
import { drillSettings } from "../../rehearsal/drill-alerts.ts";
import type { ServicesInfo } from "../../rehearsal/services.ts";

delete process.env.DIGITALOCEAN_TOKEN;
delete process.env.DIGITALOCEAN_ACCESS_TOKEN;
const rec = await installMocks();
const API_KEY = "0123456789abcdef0123456789abcdef";
const WEBHOOK = "https://alerts.example.test/hook/SENTINEL-WEBHOOK-7f3k";
const base = asTheCliDelivers({ ...REQUIRED_STACK_CONFIG, "selfhosted-mcp:apiKeys": API_KEY });
const SECRET = ["digitalocean:token", "selfhosted-mcp:apiKeys"];
const isMonitoring = (r: Recorded) => r.type === "selfhosted-mcp:index:McpMonitoringStack" || r.name.startsWith("mcp-alert-stack");

/** Evaluates the program and returns what it registered. */
async function evaluate(config: Record<string, string>, secretKeys = SECRET): Promise<Recorded[]> {
  const before = rec.resources.length;
  await runProgram(config, secretKeys);
  await rec.settle();
  return rec.resources.slice(before);
}

test("Pulumi.yaml's defaults as the CLI delivers them: no receiver, so no monitoring resource", async () => {
  assert.equal(base["selfhosted-mcp:alertWebhookUrl"], "", "the declared empty default arrives as plain text");
  assert.equal(base["selfhosted-mcp:alertErrorRatio"], "0.05");
  const registered = await evaluate(base);
  assert.ok(registered.some((r) => r.type === "digitalocean:index/droplet:Droplet"), "the stack itself registered");
  assert.deepEqual(registered.filter(isMonitoring).map((r) => r.name), []);
});

test("a receiver secret stored in plain text fails before anything registers, naming the key and the fix", async () => {
  const before = rec.resources.length;
  await assert.rejects(runProgram({ ...base, "selfhosted-mcp:alertWebhookUrl": WEBHOOK }, SECRET), (e: Error) => e.name === "StackConfigError"
    && /alertWebhookUrl: is stored in plain text[^\n]*\n\s+fix: pulumi config set alertWebhookUrl --secret/.test(e.message) && !e.message.includes(WEBHOOK));
  for (const key of ["alertSmtpPassword", "alertPagerdutyRoutingKey"]) {
    await assert.rejects(runProgram({ ...base, [`selfhosted-mcp:${key}`]: "abc123" }, SECRET), new RegExp(`${key}: is stored in plain text[^\\n]*\\n\\s+fix: pulumi config set ${key} --secret`));
  }
  await rec.settle(100);
  assert.equal(rec.resources.length, before);
});

test("one receiver (webhook, set with --secret): the monitoring stack on the stack's droplet, secret only on stdin", async () => {
  const registered = await evaluate({
    ...base, "selfhosted-mcp:alertWebhookUrl": WEBHOOK, "selfhosted-mcp:alertErrorRatio": "0.1",
    "selfhosted-mcp:smokeTimer": "true",
  }, [...SECRET, "selfhosted-mcp:alertWebhookUrl"]);
  const named = (n: string) => { const r = registered.find((x) => x.name === n); assert.ok(r, `${n} registered`); return r!; };
  assert.equal(registered.filter((r) => r.type === "selfhosted-mcp:index:McpMonitoringStack").length, 1);
  const install = named("mcp-alert-stack-install");
  const teardown = named("mcp-alert-stack-teardown");
  named("mcp-host-droplet");

  // Secret: the Alertmanager config with the URL is the install's secret stdin; no plain input anywhere holds it.
  assert.ok(isSecretValue(install.inputs.stdin));
  const am = Buffer.from(String(install.inputs.stdin.value).trim(), "base64").toString("utf8");
  assert.ok(am.includes(WEBHOOK), "the webhook URL reaches Alertmanager's config");
  assert.ok(!JSON.stringify(registered.map((r) => withoutSecrets(r.inputs))).includes(WEBHOOK), "no secret outside secret values");

  // Config as delivered reached the rules ("0.1" text → 0.1) and the app/ports of the stack.
  const script = String(install.inputs.create);
  const rules = Buffer.from(/^readonly RULES_B64=(\S+)$/m.exec(script)![1]!, "base64").toString("utf8");
  assert.match(rules, /> 0\.1\n/);
  const prom = Buffer.from(/^readonly PROMETHEUS_YML_B64=(\S+)$/m.exec(script)![1]!, "base64").toString("utf8");
  assert.match(prom, /127\.0\.0\.1:9090/);
  assert.match(prom, /127\.0\.0\.1:9091/);

  // Engine rules: no triggers; the droplet id in both commands' create (a new droplet → in-place update there);
  // the uninstall only in the teardown, whose delete is skipped when the droplet goes too; install after host-ready.
  for (const c of [install, teardown]) {
    assert.equal(c.inputs.triggers, undefined, `${c.name}: no triggers`);
    assert.match(String(c.inputs.create), /^# selfhosted-mcp host: 424242$/m, `${c.name} is marked with the droplet id`);
  }
  assert.equal(install.inputs.delete, undefined);
  assert.match(String(teardown.inputs.delete), /monitoring-uninstall/);
  assert.doesNotMatch(String(teardown.inputs.delete), /424242/, "the teardown's delete never changes with the droplet");
  assert.match(teardown.options.deletedWith, /::mcp-host-droplet$/, "deletedWith the droplet");
  assert.ok(teardown.options.dependencies.some((u) => u.endsWith("::mcp-host-ready")), "after host-ready");

  // The smoke timer publishes into node_exporter's textfile directory of the stack by default.
  const service = /^readonly SERVICE_B64=(\S+)$/m.exec(String(named("mcp-smoke-install").inputs.create))![1]!;
  assert.match(Buffer.from(service, "base64").toString("utf8"), /^Environment=TEXTFILE_DIR=\/var\/lib\/prometheus\/node-exporter$/m);
});

test("the rehearsal's alert drill settings (drillSettings): SMTP with a secret password and a secret webhook, its alertTimings in the files, a smoke timer trusting the private ACME CA", async () => {
  const services = { alerts: { receiverUrl: "http://127.0.0.1:41000", smtpPort: 41001, smtpUsername: "alerts", smtpPassword: "SENTINEL-SMTP-9q" } } as ServicesInfo;
  const d = drillSettings(services);
  const P = (k: string) => `selfhosted-mcp:${k}`;
  const registered = await evaluate({
    ...base, [P("acmeServer")]: "https://127.0.0.1:14000/dir", [P("acmeCaBundle")]: "/etc/selfhosted-mcp-rehearsal/acme-ca.pem",
    // As the CLI delivers them: a --path list as its JSON text.
    ...Object.fromEntries(Object.entries({ ...d.config, ...d.secrets }).map(([k, v]) => [P(k), Array.isArray(v) ? JSON.stringify(v) : v])),
  }, [...SECRET, ...Object.keys(d.secrets).map(P)]);
  const named = (n: string) => { const r = registered.find((x) => x.name === n); assert.ok(r, `${n} registered`); return r!; };
  const install = named("mcp-alert-stack-install");
  assert.ok(isSecretValue(install.inputs.stdin));
  const am = Buffer.from(String(install.inputs.stdin.value).trim(), "base64").toString("utf8");
  for (const want of ["smarthost: 127.0.0.1:41001", "auth_username: alerts", "auth_password: SENTINEL-SMTP-9q", "http://127.0.0.1:41000/webhook", "group_wait: 2s"]) {
    assert.ok(am.includes(want), `alertmanager.yml has ${want}`);
  }
  assert.ok(!JSON.stringify(registered.map((r) => withoutSecrets(r.inputs))).includes("SENTINEL-SMTP-9q"), "the SMTP password only in secret values");
  const script = String(install.inputs.create);
  assert.match(Buffer.from(/^readonly PROMETHEUS_YML_B64=(\S+)$/m.exec(script)![1]!, "base64").toString("utf8"), /scrape_interval: 2s/);
  assert.match(Buffer.from(/^readonly RULES_B64=(\S+)$/m.exec(script)![1]!, "base64").toString("utf8"), /\[30s\]/);
  const service = /^readonly SERVICE_B64=(\S+)$/m.exec(String(named("mcp-smoke-install").inputs.create))![1]!;
  assert.match(Buffer.from(service, "base64").toString("utf8"), /^Environment=CA_BUNDLE=\/etc\/selfhosted-mcp-rehearsal\/acme-ca\.pem$/m);
});

test("alertmanager false turns the stack off even with a receiver", async () => {
  const registered = await evaluate({ ...base, "selfhosted-mcp:alertWebhookUrl": WEBHOOK, "selfhosted-mcp:alertmanager": "false" },
    [...SECRET, "selfhosted-mcp:alertWebhookUrl"]);
  assert.ok(registered.length > 0);
  assert.deepEqual(registered.filter(isMonitoring).map((r) => r.name), []);
});
