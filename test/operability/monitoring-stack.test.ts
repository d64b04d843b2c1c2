// McpMonitoringStack under pulumi mocks: two remote Commands shaped by @pulumi/command's diff rules — a teardown
// whose inputs depend only on paths and the host (its delete is the uninstall; nothing a config change touches can
// replace it; test/operability/program-alert-stack.test.ts checks the host marker and deletedWith) and
// an install with create = update and neither triggers nor delete (a change is an in-place update). The receivers'
// secrets reach only the install's stdin, as a secret; a receiver without its secret fails before any resource.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, isSecretValue, withoutSecrets } from "../infra/mock-harness.ts";
import { InvalidArgsError } from "../../contract/args-error.ts";

const rec = await installMocks();
const { McpMonitoringStack } = await import("../../infra/monitoring/monitoring-stack.ts");
const CONNECTION = { host: "203.0.113.10", user: "deploy", privateKey: pulumi.secret("KEY") };
const SLACK = "https://hooks.slack.test/services/T1/B2/SENTINEL-SLACK";
const SMTP_PASSWORD = "SENTINEL-smtp-password";
const receivers = {
  email: { to: ["ops@example.com"], from: "mcp@example.com", smarthost: "smtp.example.com:587", username: "mcp" },
  slack: { channel: "#ops" },
};
const make = (name: string, latencySlaSeconds: number) => new McpMonitoringStack(name, {
  connection: CONNECTION, app: "mcp", receivers, thresholds: { latencySlaSeconds },
  secrets: { smtpPassword: pulumi.secret(SMTP_PASSWORD), slackWebhookUrl: pulumi.secret(SLACK) },
});

test("a receiver without its secret, or a bad option, fails before any resource is registered", async () => {
  assert.throws(() => new McpMonitoringStack("bad", { connection: CONNECTION, app: "mcp", receivers, secrets: { slackWebhookUrl: SLACK } }),
    (e: Error) => e instanceof InvalidArgsError && /^McpMonitoringStack secrets\.smtpPassword: is missing: receivers\.email \(it has a username\) needs it/.test(e.message));
  assert.throws(() => new McpMonitoringStack("bad2", { connection: CONNECTION, app: "mcp", receivers: {} }), /no alert receiver/);
  await rec.settle(100);
  assert.equal(rec.resources.length, 0);
});

test("teardown (never replaced) + install (updated in place); secrets only on the install's stdin", async () => {
  const a = make("mon-a", 10);
  const b = make("mon-b", 4);
  await rec.settle();
  assert.equal(a.textfileDir, "/var/lib/prometheus/node-exporter");
  assert.equal(a.urls.prometheus, "http://127.0.0.1:9190/");
  const inputs = (n: string) => rec.named(n).inputs;
  for (const n of ["mon-a", "mon-b"]) {
    const install = inputs(`${n}-install`);
    assert.equal(install.create, install.update, "an input change runs the same script as an update");
    assert.equal(install.triggers, undefined, "no triggers: a change is never a replace");
    assert.equal(install.delete, undefined, "no teardown in a resource that changes");
    assert.match(install.create as string, /^# selfhosted-mcp remote script: monitoring-install\./m);
    assert.ok(isSecretValue(install.stdin));
    const am = Buffer.from((install.stdin.value as string).trim(), "base64").toString("utf8");
    assert.ok(am.includes(SMTP_PASSWORD) && am.includes(SLACK), "the Alertmanager config with the secrets travels on stdin");
    assert.match(inputs(`${n}-teardown`).delete as string, /^# selfhosted-mcp remote script: monitoring-uninstall\./m);
    assert.equal(inputs(`${n}-teardown`).triggers, undefined);
  }
  // A threshold change alters only the install's script: the teardown's inputs stay identical (no replace, no delete run).
  assert.notEqual(inputs("mon-a-install").create, inputs("mon-b-install").create);
  assert.deepEqual(withoutSecrets(inputs("mon-a-teardown")), withoutSecrets(inputs("mon-b-teardown")));
  const plain = JSON.stringify(rec.resources.map((r) => withoutSecrets(r.inputs)));
  assert.ok(!plain.includes(SMTP_PASSWORD) && !plain.includes(SLACK), "no secret outside secret values");
});
