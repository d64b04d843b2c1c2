// The example program's monitoring keys (Pulumi.yaml): alertsEnabled creates McpMonitoring with the configured
// e-mails and secret Slack webhook, smokeTimer installs McpSmokeTimer with the first API key on stdin, the
// alertRules output carries the configured SLA; bad combinations fail naming the key before any resource exists.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, isSecretValue, valueOf, withoutSecrets } from "../infra/mock-harness.ts";
import { REQUIRED_STACK_CONFIG, runProgram as evaluate } from "../infra/fixtures.ts";

delete process.env.DIGITALOCEAN_TOKEN;
delete process.env.DIGITALOCEAN_ACCESS_TOKEN;
const rec = await installMocks();
const WEBHOOK = "https://hooks.example.test/T1/B2/SENTINEL-WEBHOOK";
const API_KEY = "first-key-0123456789abcdef0123456789";
const base: Record<string, string> = {
  ...REQUIRED_STACK_CONFIG,
  "selfhosted-mcp:apiKeys": `${API_KEY}, second-key-0123456789abcdef0123456789`,
};
const SECRET = ["digitalocean:token", "selfhosted-mcp:apiKeys", "selfhosted-mcp:alertSlackWebhookUrl"];
const runProgram = (config: Record<string, string>) => evaluate(config, SECRET);

test("bad monitoring config fails naming the key, before any resource is registered", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ "selfhosted-mcp:alertsEnabled": "true" }, /alertEmails: alertsEnabled is true but nobody is notified/],
    [{ "selfhosted-mcp:alertEmails": '["not-an-address"]' }, /alertEmails: must be an e-mail address/],
    [{ "selfhosted-mcp:alertSlackChannel": "#ops" }, /alertSlackWebhookUrl: alertSlackWebhookUrl and alertSlackChannel go together/],
    [{ "selfhosted-mcp:latencySlaSeconds": "0" }, /latencySlaSeconds: must be at least 1/],
    [{ "selfhosted-mcp:smokeTimer": "true", "selfhosted-mcp:authMode": "oauth", "selfhosted-mcp:apiKeys": "" }, /apiKeys: smokeTimer authenticates with an API key \(accepted next to OAuth tokens\)/],
  ];
  for (const [extra, msg] of cases) {
    await assert.rejects(runProgram({ ...base, ...extra }), (e: Error) => e.name === "StackConfigError" && msg.test(e.message));
  }
  await rec.settle(100);
  assert.equal(rec.resources.length, 0);
});

test("alertsEnabled + smokeTimer: McpMonitoring and McpSmokeTimer wired to the stack's droplet, health URL and key", async () => {
  const out = await runProgram({
    ...base, "selfhosted-mcp:alertsEnabled": "true", "selfhosted-mcp:alertEmails": '["ops@example.com"]',
    "selfhosted-mcp:alertSlackChannel": "#ops", "selfhosted-mcp:alertSlackWebhookUrl": WEBHOOK,
    // Keys separated the ways the server accepts (leading separator, newline, space): the timer must pick the
    // same first key the server would.
    "selfhosted-mcp:apiKeys": `,\n${API_KEY} second-key-0123456789abcdef0123456789`,
    "selfhosted-mcp:latencySlaSeconds": "4", "selfhosted-mcp:smokeTimer": "true", "selfhosted-mcp:smokeTextfileDir": "/var/lib/prometheus/node-exporter",
  });
  assert.match(await valueOf(out.alertRules as pulumi.Output<string>), /histogram_quantile\(0\.95, .*\) > 4\n/);
  await rec.settle();
  const one = (type: string) => { const r = rec.ofType(type); assert.equal(r.length, 1, type); return r[0]!; };
  one("selfhosted-mcp:index:McpMonitoring");
  assert.equal(one("digitalocean:index/uptimeCheck:UptimeCheck").inputs.target, "https://mcp.example.com/health");
  const cpu = rec.ofType("digitalocean:index/monitorAlert:MonitorAlert").find((r) => r.inputs.type === "v1/insights/droplet/cpu")!;
  assert.deepEqual(cpu.inputs.entities, ["424242"]);
  const alerts = cpu.inputs.alerts as { value: { emails: string[]; slacks: { channel: string; url: string }[] } };
  assert.ok(isSecretValue(alerts));
  assert.deepEqual(alerts.value, { emails: ["ops@example.com"], slacks: [{ channel: "#ops", url: WEBHOOK }] });

  one("selfhosted-mcp:index:McpSmokeTimer");
  const install = rec.resources.find((r) => r.name === "mcp-smoke-install")!;
  assert.ok(isSecretValue(install.inputs.stdin));
  assert.equal((install.inputs.stdin.value as string).split("\n")[0], API_KEY, "the first API key, on stdin only");
  assert.match(install.inputs.create as string, /^readonly UNIT=selfhosted-mcp-smoke-mcp$/m);
  assert.match(install.inputs.create as string, /^readonly UNIT_DIR=\/etc\/systemd\/system$/m);
  const everything = JSON.stringify(rec.resources.map((r) => withoutSecrets(r.inputs)));
  assert.ok(!everything.includes(WEBHOOK) && !everything.includes(API_KEY), "no secret outside secret values");
});
