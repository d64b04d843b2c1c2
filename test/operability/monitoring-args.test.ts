// The monitoring components' own argument rules (infra/monitoring/monitoring-args.ts): McpMonitoring, McpMonitoringStack
// and McpSmokeTimer refuse a bad argument at construction (before anything registers: already at preview) with
// InvalidArgsError naming the component and the argument. Their option rules are tested with their renderers
// (do-monitoring, monitoring-config, smoke-timer tests); here: what the components add. A good variant constructs.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks } from "../infra/mock-harness.ts";
import { InvalidArgsError } from "../../contract/args-error.ts";

const rec = await installMocks();
const { McpMonitoring, McpMonitoringStack, McpSmokeTimer } = await import("../../infra/index.ts");
const CONNECTION = { host: "203.0.113.10", user: "deploy" };

function refuses(make: () => unknown, component: string, path: string, message: RegExp): void {
  assert.throws(make, (e: unknown) => {
    assert.ok(e instanceof InvalidArgsError, String(e));
    const issue = e.issues.find((i) => i.path === path);
    assert.ok(issue && e.component === component, `${component} ${path}: ${e.message}`);
    assert.match(issue.message, message);
    return true;
  });
}

test("McpMonitoring: healthUrl and dropletIds are required; Slack needs channel and URL; someone is notified", () => {
  const good = { healthUrl: pulumi.output("https://mcp.example.com/health"), dropletIds: [pulumi.output("1")], emails: ["ops@example.com"] };
  new McpMonitoring("good", good);
  const before = rec.resources.length;
  refuses(() => new McpMonitoring("b1", { ...good, healthUrl: undefined as never }), "McpMonitoring", "healthUrl", /is required/);
  refuses(() => new McpMonitoring("b2", { ...good, dropletIds: [] }), "McpMonitoring", "dropletIds", /is empty/);
  refuses(() => new McpMonitoring("b3", { ...good, slackChannel: "#ops" }), "McpMonitoring", "slackWebhookUrl", /go together/);
  refuses(() => new McpMonitoring("b4", { ...good, emails: [] }), "McpMonitoring", "emails", /no one to notify/);
  assert.equal(rec.resources.length, before);
});

test("McpMonitoringStack: each configured receiver needs its secret; options keep their rules; unknown arguments are named", () => {
  const good = { connection: CONNECTION, app: "mcp", receivers: { webhook: {} }, secrets: { webhookUrl: pulumi.secret("https://alerts.example.com/x") } };
  new McpMonitoringStack("good", good);
  const before = rec.resources.length;
  refuses(() => new McpMonitoringStack("b1", { ...good, secrets: {} }), "McpMonitoringStack", "secrets.webhookUrl", /is missing: receivers\.webhook needs it/);
  refuses(() => new McpMonitoringStack("b2", { ...good, prometheusPort: 9091 }), "McpMonitoringStack", "prometheusPort", /clashes with metricsPort\+1/);
  refuses(() => new McpMonitoringStack("b3", { ...good, thresholds: { errorRatio: 2 } }), "McpMonitoringStack", "thresholds.errorRatio", /between 0 and 1/);
  refuses(() => new McpMonitoringStack("b4", { ...good, retention: "7d" } as never), "McpMonitoringStack", "retention", /not a known argument/);
  assert.equal(rec.resources.length, before);
});

test("McpSmokeTimer: connection is required; a plain token is one non-empty line; the timer's options keep their rules", () => {
  const good = { connection: CONNECTION, app: "mcp", url: "https://mcp.example.com", token: "0123456789abcdef0123" };
  new McpSmokeTimer("good", good);
  new McpSmokeTimer("good-secret", { ...good, token: pulumi.secret("0123456789abcdef0123") });
  const before = rec.resources.length;
  refuses(() => new McpSmokeTimer("b1", { ...good, connection: undefined as never }), "McpSmokeTimer", "connection", /is required/);
  refuses(() => new McpSmokeTimer("b2", { ...good, token: "a\nb" }), "McpSmokeTimer", "token", /one non-empty line/);
  refuses(() => new McpSmokeTimer("b3", { ...good, token: "" }), "McpSmokeTimer", "token", /one non-empty line/);
  refuses(() => new McpSmokeTimer("b4", { ...good, interval: "often" }), "McpSmokeTimer", "interval", /systemd time span/);
  assert.equal(rec.resources.length, before);
});
