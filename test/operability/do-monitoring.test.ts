// McpMonitoring under pulumi mocks: the uptime check on /health, its down/latency/ssl-expiry alerts, the droplet
// CPU/memory/disk monitor alerts with their thresholds, notifications (Slack webhook kept secret), and option errors;
// McpSmokeTimer: one remote Command installing the timer, the token only on stdin as a secret.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, valueOf, isSecretValue, withoutSecrets } from "../infra/mock-harness.ts";

const WEBHOOK = "https://hooks.example.test/T000/B000/XXXX";
const rec = await installMocks();
const { McpMonitoring } = await import("../../infra/monitoring/do-monitoring.ts");
const { McpSmokeTimer } = await import("../../infra/monitoring/smoke-timer-component.ts");
const TOKEN = "smoke-token-0123456789abcdef0123456789";
const CONNECTION = { host: "203.0.113.10", user: "deploy", privateKey: pulumi.secret("KEY") };

const mon = new McpMonitoring("prod-mon", {
  healthUrl: pulumi.output("https://mcp.example.com/health"), dropletIds: [pulumi.output("424242")],
  emails: ["ops@example.com"], slackChannel: "#ops", slackWebhookUrl: pulumi.secret(WEBHOOK),
  cpuPercent: 70, window: "5m",
});
const checkId = await valueOf(mon.uptimeCheckId);
const timer = new McpSmokeTimer("prod-smoke", { connection: CONNECTION, app: "mcp", url: "https://mcp.example.com", token: pulumi.secret(TOKEN), textfileDir: "/var/lib/prometheus/node-exporter" });
await rec.settle();
const COMMAND = "command:remote:Command";

const UPTIME_ALERT = "digitalocean:index/uptimeAlert:UptimeAlert";
const MONITOR_ALERT = "digitalocean:index/monitorAlert:MonitorAlert";
const byName = (type: string) => Object.fromEntries(rec.ofType(type).map((r) => [r.name, r.inputs]));

test("McpSmokeTimer: one remote Command installing and removing the timer; token + bundled CLI only on stdin, as a secret", () => {
  assert.equal(timer.unit, "selfhosted-mcp-smoke-mcp");
  const [cmd] = rec.ofType(COMMAND);
  assert.equal(rec.ofType(COMMAND).length, 1);
  const create = cmd!.inputs.create as string;
  // The remote scripts infra/render/scripts/smoke-timer-{install,uninstall}.sh, with their inputs in front.
  assert.match(create, /^# selfhosted-mcp remote script: smoke-timer-install\./m);
  assert.match(create, /^readonly UNIT=selfhosted-mcp-smoke-mcp$/m);
  assert.match(create, /^readonly SMOKE_DIR=\/var\/lib\/selfhosted-mcp\/mcp\/smoke$/m);
  const timerUnit = Buffer.from(/^readonly TIMER_B64=([A-Za-z0-9+\/=]+)$/m.exec(create)![1]!, "base64").toString();
  assert.match(timerUnit, /^WantedBy=timers\.target$/m);
  assert.equal(cmd!.inputs.update, create);
  assert.match(cmd!.inputs.delete as string, /^# selfhosted-mcp remote script: smoke-timer-uninstall\./m);
  assert.match(cmd!.inputs.delete as string, /systemctl disable --now "\$\{UNIT\}\.timer"/);
  assert.ok(isSecretValue(cmd!.inputs.stdin));
  const [tokenLine, bundle] = (cmd!.inputs.stdin.value as string).split("\n");
  assert.equal(tokenLine, TOKEN);
  assert.match(gunzipSync(Buffer.from(bundle!, "base64")).toString(), /selfhosted-mcp smoke/, "the bundled smoke CLI follows the token");
  assert.ok(!JSON.stringify(withoutSecrets(cmd!.inputs)).includes(TOKEN), "token outside stdin/triggers secrets");
});

test("one component, one uptime check, three uptime alerts, three droplet alerts — nothing else", () => {
  assert.deepEqual(rec.resources.filter((r) => !/SmokeTimer|remote:Command/.test(r.type)).map((r) => r.type).sort(), [
    "digitalocean:index/uptimeCheck:UptimeCheck", MONITOR_ALERT, MONITOR_ALERT, MONITOR_ALERT,
    UPTIME_ALERT, UPTIME_ALERT, UPTIME_ALERT, "selfhosted-mcp:index:McpMonitoring",
  ].sort());
});

test("the uptime check probes https://<domain>/health from two regions", () => {
  const [check] = rec.ofType("digitalocean:index/uptimeCheck:UptimeCheck");
  assert.deepEqual(check!.inputs, { name: "prod-mon health", target: "https://mcp.example.com/health", type: "https", regions: ["us_east", "eu_west"], enabled: true });
  assert.equal(checkId, "prod-mon-health-id");
});

test("uptime alerts: down for 2m, latency > 3000 ms for 5m, certificate expiring in < 14 days", () => {
  const a = byName(UPTIME_ALERT);
  const common = (x: Record<string, unknown>) => ({ checkId: x.checkId, name: x.name, type: x.type, threshold: x.threshold, comparison: x.comparison, period: x.period });
  assert.deepEqual(common(a["prod-mon-down"]!), { checkId: checkId, name: "prod-mon down", type: "down", threshold: undefined, comparison: undefined, period: "2m" });
  assert.deepEqual(common(a["prod-mon-latency"]!), { checkId: checkId, name: "prod-mon latency", type: "latency", threshold: 3000, comparison: "greater_than", period: "5m" });
  assert.deepEqual(common(a["prod-mon-ssl-expiry"]!), { checkId: checkId, name: "prod-mon ssl-expiry", type: "ssl_expiry", threshold: 14, comparison: "less_than", period: undefined });
});

test("droplet alerts: CPU (overridden to 70 %), memory 90 %, disk 85 %, on the droplet, over the window", () => {
  const a = byName(MONITOR_ALERT);
  const pick = (x: Record<string, unknown>) => [x.type, x.compare, x.value, x.window, x.entities, x.enabled];
  assert.deepEqual(pick(a["prod-mon-cpu"]!), ["v1/insights/droplet/cpu", "GreaterThan", 70, "5m", ["424242"], true]);
  assert.deepEqual(pick(a["prod-mon-memory"]!), ["v1/insights/droplet/memory_utilization_percent", "GreaterThan", 90, "5m", ["424242"], true]);
  assert.deepEqual(pick(a["prod-mon-disk"]!), ["v1/insights/droplet/disk_utilization_percent", "GreaterThan", 85, "5m", ["424242"], true]);
  assert.equal(a["prod-mon-disk"]!.description, "prod-mon: disk usage above 85 % for 5m");
});

test("every alert notifies the e-mails and Slack; the webhook URL makes the notifications secret", () => {
  const wrapped = [
    ...rec.ofType(UPTIME_ALERT).map((r) => r.inputs.notifications),
    ...rec.ofType(MONITOR_ALERT).map((r) => r.inputs.alerts),
  ];
  assert.equal(wrapped.length, 6);
  for (const w of wrapped) {
    assert.ok(isSecretValue(w), `notifications carrying the webhook must be secret, got ${JSON.stringify(w)}`);
    const v = w.value as { emails: string[]; slacks: unknown[] } | { emails: string[]; slacks: unknown[] }[];
    assert.deepEqual(Array.isArray(v) ? v : [v], [{ emails: ["ops@example.com"], slacks: [{ channel: "#ops", url: WEBHOOK }] }]);
  }
  assert.ok(!JSON.stringify(rec.resources.map((r) => withoutSecrets(r.inputs))).includes(WEBHOOK), "no plain copy of the webhook");
});

test("bad settings fail naming the option, before any resource is registered", () => {
  const before = rec.resources.length;
  const base = { healthUrl: "https://mcp.example.com/health", dropletIds: ["1"] };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /McpMonitoring emails: no one to notify: set emails .* and\/or slackWebhookUrl \+ slackChannel/],
    [{ emails: ["not-an-address"] }, /McpMonitoring emails\[0\]: must be an e-mail address/],
    [{ emails: ["a@example.com"], diskPercent: 150 }, /McpMonitoring diskPercent: diskPercent is a percentage between 0 and 100/],
    [{ emails: ["a@example.com"], regions: ["mars"] }, /McpMonitoring regions\[0\]: /],
    [{ emails: ["a@example.com"], window: "7m" }, /McpMonitoring window: /],
    [{ slackWebhookUrl: "https://hooks.example.test/x" }, /McpMonitoring slackChannel: slackWebhookUrl and slackChannel go together/],
    [{ emails: ["a@example.com"], latencyMS: 100 }, /McpMonitoring latencyMS: is not a known argument/],
    [{ emails: ["a@example.com"], dropletIds: [] }, /McpMonitoring dropletIds: is empty: pass the droplet id/],
  ];
  for (const [extra, msg] of cases) {
    assert.throws(() => new McpMonitoring("bad", { ...base, ...extra } as never), msg);
  }
  assert.equal(rec.resources.length, before);
});
