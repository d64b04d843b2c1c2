// The monitoring stack's stack config keys: on when a receiver is configured, off on request, and every bad value or
// missing companion key fails with the key and the `pulumi config set` fix (before any resource exists).
import { test } from "node:test";
import assert from "node:assert/strict";
import { validateMonitoringSettings, type StackContext } from "../../examples/stack/monitoring-config.ts";
import { renderMonitoringPlan } from "../../infra/monitoring/monitoring-plan.ts";

const ctx: StackContext = { app: "mcp", port: 8000, metricsPort: 9090, latencySlaSeconds: 10, alertEmails: ["ops@example.com"] };
const none = new Set<never>();

test("off without receivers; on with SMTP, Slack, webhook or PagerDuty; thresholds and retention from config", () => {
  assert.equal(validateMonitoringSettings({}, none, ctx), undefined);
  assert.equal(validateMonitoringSettings({ alertmanager: false }, new Set(["alertWebhookUrl"] as const), ctx), undefined);
  const o = validateMonitoringSettings({ alertSmtpSmarthost: "smtp.example.com:587", alertSmtpFrom: "mcp@example.com", alertErrorRatio: 0.1, prometheusRetention: "7d" },
    new Set(["alertWebhookUrl", "alertPagerdutyRoutingKey"] as const), { ...ctx, latencySlaSeconds: 4 })!;
  assert.deepEqual(Object.keys(o.receivers!), ["email", "webhook", "pagerduty"]);
  const plan = renderMonitoringPlan(o);
  assert.match(plan.files["alerts.yml"], /\) > 4\n/);
  assert.match(plan.files["alerts.yml"], /> 0\.1\n/);
  assert.match(plan.files.dropIns.prometheus, /--storage\.tsdb\.retention\.time=7d/);
  assert.ok(validateMonitoringSettings({}, new Set(["alertSlackWebhookUrl"] as const), { ...ctx, alertSlackChannel: "#ops" })!.receivers!.slack);
});

test("alertTimings: the pipeline's timers and the rules' windows reach the rendered files; absent fields keep the defaults", () => {
  const on = new Set(["alertWebhookUrl"] as const);
  const o = validateMonitoringSettings({ alertTimings: { scrapeInterval: "5s", evaluationInterval: "5s", groupWait: "2s", rateWindow: "1m", errorRatioFor: "0s" } }, on, ctx)!;
  const plan = renderMonitoringPlan(o);
  assert.match(plan.files["prometheus.yml"], /scrape_interval: 5s/);
  assert.match(plan.files["prometheus.yml"], /evaluation_interval: 5s/);
  assert.equal(plan.options.groupWait, "2s");
  assert.equal(plan.options.groupInterval, "5m", "absent: the default");
  assert.match(plan.files["alerts.yml"], /\[1m\]/);
  assert.doesNotMatch(plan.files["alerts.yml"], /\[5m\]/, "every rate window follows rateWindow");
  const defaults = renderMonitoringPlan(validateMonitoringSettings({}, on, ctx)!);
  assert.match(defaults.files["prometheus.yml"], /scrape_interval: 30s/);
  assert.equal(defaults.options.thresholds.rateWindow, "5m");
});

test("bad values and missing companions name the key and the fix", () => {
  const cases: [Record<string, unknown>, ReadonlySet<never> | Set<string>, RegExp][] = [
    [{ alertSmtpSmarthost: "smtp.example.com" }, none, /alertSmtpSmarthost: must be host:port[^\n]*\n\s+fix: pulumi config set alertSmtpSmarthost smtp\.example\.com:587/],
    [{ alertSmtpSmarthost: "smtp.example.com:587" }, none, /alertSmtpFrom: alertSmtpSmarthost is set, so the sender address is required/],
    [{ alertSmtpSmarthost: "smtp.example.com:587", alertSmtpFrom: "a@example.com", alertSmtpUsername: "u" }, none, /alertSmtpPassword: alertSmtpUsername is set[^\n]*\n\s+fix: pulumi config set alertSmtpPassword --secret/],
    [{ alertSmtpFrom: "a@example.com" }, none, /alertSmtpSmarthost: SMTP settings are set but not the server/],
    [{ alertErrorRatio: 5 }, none, /alertErrorRatio: must be a share between 0 and 1/],
    [{ alertmanager: true }, none, /alertmanager: alertmanager is true but no receiver is configured/],
    [{ prometheusRetentionSize: "lots" }, none, /prometheusRetentionSize: must be a size like "512MB"/],
    [{ alertTimings: { groupWait: "soon" } }, none, /alertTimings: groupWait: groupWait must be a duration like "15s"[^\n]*\n\s+fix: pulumi config set --path 'alertTimings\.scrapeInterval' 30s/],
    [{ alertTimings: { scrapeEvery: "5s" } }, none, /alertTimings: Unrecognized key: "scrapeEvery"/],
  ];
  for (const [raw, present, msg] of cases) {
    assert.throws(() => validateMonitoringSettings(raw, present as ReadonlySet<never>, ctx), (e: Error) => e.name === "StackConfigError" && msg.test(e.message), JSON.stringify(raw));
  }
  assert.throws(() => validateMonitoringSettings({ alertSmtpSmarthost: "smtp.example.com:587", alertSmtpFrom: "a@example.com" }, none, { ...ctx, alertEmails: [] }),
    /alertEmails: alertSmtpSmarthost is set but no recipient/);
  assert.throws(() => validateMonitoringSettings({}, new Set(["alertWebhookUrl"] as const), { ...ctx, metricsPort: 9189 }),
    /alertmanager: monitoring prometheusPort: prometheusPort 9190 clashes with metricsPort\+1/);
});

test("a monitoring option the stack passes but the renderer refuses is reported as the stack key it came from", () => {
  assert.throws(() => validateMonitoringSettings({}, new Set(["alertSlackWebhookUrl"] as const), { ...ctx, alertSlackChannel: "#ops!" }),
    (e: Error & { issues?: { key: string; message: string; fix: string }[] }) => {
      assert.equal(e.name, "StackConfigError");
      assert.deepEqual(e.issues?.map((i) => i.key), ["alertSlackChannel"]);
      assert.match(e.issues![0]!.message, /^monitoring receivers\.slack\.channel: slack\.channel must be a channel such as "#ops"/);
      assert.match(e.issues![0]!.fix, /^pulumi config set alertSlackChannel '#ops'/);
      return true;
    });
});
