// The alert rules under Prometheus' own tools: `promtool check rules` on the shipped file (which must equal the
// renderer's defaults) and `promtool test rules` proving each alert fires on a bad series and stays quiet on a good one,
// including the configurable latency SLA.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../support/proc.ts";
import { assertPromtool, promtoolTest, at, type Alert, type Series } from "../support/promtool.ts";
import { renderAlertRules, alertRules, type AlertRuleOptions } from "../../infra/monitoring/alert-rules.ts";
import { InvalidArgsError } from "../../contract/args-error.ts";

const SHIPPED = join(import.meta.dirname, "..", "..", "infra", "monitoring", "alerts.yml");
const T = "https://mcp.example.test";

test("the shipped alerts.yml is the renderer's default output and passes promtool check rules", async () => {
  assert.equal(readFileSync(SHIPPED, "utf8"), renderAlertRules(),
    "infra/monitoring/alerts.yml is stale: node -e 'import(\"./infra/monitoring/alert-rules.ts\").then(m=>process.stdout.write(m.renderAlertRules()))' > infra/monitoring/alerts.yml");
  const r = await run("promtool", ["check", "rules", SHIPPED]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: 9 rules found/);
});

test("health check failing 3 times in a row fires, 2 does not, recovery clears it", () => assertPromtool(renderAlertRules(), [{
  input_series: [{ series: `selfhosted_mcp_smoke_health_consecutive_failures{target="${T}"}`, values: "0 1 2 3 0" }],
  alert_rule_test: [
    at("2m", "McpHealthCheckFailing"),
    at("3m", "McpHealthCheckFailing", {
      exp_labels: { severity: "critical", target: T },
      exp_annotations: { summary: "MCP server health check failing", description: `GET /health of ${T} failed 3 smoke runs in a row (alerts at 3).` },
    }),
    at("4m", "McpHealthCheckFailing"),
  ],
}]));

test("tool error ratio above 5 % over 5 minutes fires for that tool only (3.8 % stays quiet)", () => assertPromtool(renderAlertRules(), [{
  input_series: [
    { series: 'mcp_tool_calls_total{tool="get_forecast",status="ok"}', values: "0+100x20" },
    { series: 'mcp_tool_calls_total{tool="get_forecast",status="error"}', values: "0+10x20" },
    { series: 'mcp_tool_calls_total{tool="search_notes",status="ok"}', values: "0+100x20" },
    { series: 'mcp_tool_calls_total{tool="search_notes",status="error"}', values: "0+4x20" },
  ],
  alert_rule_test: [
    at("2m", "McpToolErrorRatioHigh"),
    at("10m", "McpToolErrorRatioHigh", {
      exp_labels: { severity: "warning", tool: "get_forecast" },
      exp_annotations: { summary: "MCP tool error ratio above 5 %", description: "9.091% of get_forecast calls failed over the last 5 minutes (threshold 5 %)." },
    }),
  ],
}]));

const latencySeries = (tool: string, buckets: Record<string, number>): Series[] =>
  Object.entries(buckets).map(([le, perMinute]) => ({ series: `mcp_tool_duration_seconds_bucket{tool="${tool}",le="${le}"}`, values: `0+${perMinute}x20` }));
// get_forecast: p95 = 10 + (95-90)/10 * 20 = 20 s; search_notes: p95 = 0.95 * 5 = 4.75 s.
const latencyInput = [
  ...latencySeries("get_forecast", { "5": 90, "10": 90, "30": 100, "+Inf": 100 }),
  ...latencySeries("search_notes", { "5": 100, "10": 100, "30": 100, "+Inf": 100 }),
];
const slow = (tool: string, value: string, sla: number): Alert => ({
  exp_labels: { severity: "warning", tool },
  exp_annotations: { summary: `MCP tool p95 latency above the ${sla} s SLA`, description: `p95 latency of ${tool} is ${value} over the last 5 minutes (SLA ${sla} s).` },
});

test("p95 latency above the default 10 s SLA fires for the slow tool only", () => assertPromtool(renderAlertRules(), [{
  input_series: latencyInput,
  alert_rule_test: [at("4m", "McpToolLatencyHigh"), at("10m", "McpToolLatencyHigh", slow("get_forecast", "20s", 10))],
}]));

test("the latency SLA is an input: 30 s silences it, 4 s catches both tools", async () => {
  await assertPromtool(renderAlertRules({ latencySlaSeconds: 30 }), [{ input_series: latencyInput, alert_rule_test: [at("10m", "McpToolLatencyHigh")] }]);
  await assertPromtool(renderAlertRules({ latencySlaSeconds: 4 }), [{
    input_series: latencyInput,
    alert_rule_test: [at("10m", "McpToolLatencyHigh", slow("get_forecast", "20s", 4), slow("search_notes", "4.75s", 4))],
  }]);
});

test("container restarting twice in 30 minutes fires; one deploy or another job's process does not", () => assertPromtool(renderAlertRules(), [{
  input_series: [
    { series: 'process_start_time_seconds{job="selfhosted-mcp",instance="127.0.0.1:9090"}', values: "100 100 100 400 400 700 700" },
    { series: 'process_start_time_seconds{job="selfhosted-mcp",instance="127.0.0.1:9091"}', values: "100 100 500 500 500 500 500" },
    { series: 'process_start_time_seconds{job="node",instance="127.0.0.1:9100"}', values: "1 2 3 4 5 6 7" },
  ],
  alert_rule_test: [
    at("4m", "McpContainerRestarting"),
    at("6m", "McpContainerRestarting", {
      exp_labels: { severity: "warning", job: "selfhosted-mcp", instance: "127.0.0.1:9090" },
      exp_annotations: { summary: "MCP server container restarting", description: "The server at 127.0.0.1:9090 restarted 2 times in 30m; check `docker logs` for the crash." },
    }),
  ],
}]));

// A counter that increases once on one instance fires for that instance only, and clears 10 minutes later.
const counterIncreaseFires = (metric: string, alert: string, summary: string, description: string) => assertPromtool(renderAlertRules(), [{
  input_series: [
    { series: `${metric}{instance="127.0.0.1:9090"}`, values: "0 0 0 1x20" },
    { series: `${metric}{instance="127.0.0.1:9091"}`, values: "0x23" },
  ],
  alert_rule_test: [
    at("2m", alert),
    at("5m", alert, { exp_labels: { severity: "critical", instance: "127.0.0.1:9090" }, exp_annotations: { summary, description } }),
    at("20m", alert),
  ],
}]);

test("any upstream schema error fires, and clears 10 minutes after the last one", () => counterIncreaseFires(
  "mcp_upstream_schema_errors_total", "McpUpstreamSchemaDrift", "Upstream API response format changed",
  "127.0.0.1:9090 got upstream responses that no longer match the expected schema in the last 10 minutes; the affected tools return errors."));

test("a usage-ledger write failure pages (metering: never a silent drop), and clears 10 minutes after the last one", () => counterIncreaseFires(
  "mcp_meter_write_failures_total", "McpMeterWriteFailing", "Usage events are not being recorded",
  "127.0.0.1:9090 could not write 1 billable calls to its usage ledger in the last 10 minutes; see the meter_write_failed log lines."));

test("certificate expiring within 14 days fires; 30 days left stays quiet", () => assertPromtool(renderAlertRules(), [{
  input_series: [
    { series: `selfhosted_mcp_smoke_tls_cert_expiry_timestamp_seconds{target="${T}"}`, values: String(10 * 86400) },
    { series: 'selfhosted_mcp_smoke_tls_cert_expiry_timestamp_seconds{target="https://ok.example.test"}', values: String(30 * 86400) },
  ],
  alert_rule_test: [at("0m", "McpTlsCertificateExpiringSoon", {
    exp_labels: { severity: "warning", target: T },
    exp_annotations: { summary: "TLS certificate expires within 14 days", description: `The certificate served for ${T} expires in 10d 0h 0m 0s; check the certbot renewal timer.` },
  })],
}]));

test("smoke test failing for 10 minutes fires; a brief failure or a fresh result does not; a stopped timer is stale", () => assertPromtool(renderAlertRules(), [{
  input_series: [
    { series: `selfhosted_mcp_smoke_success{target="${T}"}`, values: "1 0x70" },
    { series: 'selfhosted_mcp_smoke_success{target="https://ok.example.test"}', values: "0 0 0 1x68" },
    { series: `selfhosted_mcp_smoke_last_run_timestamp_seconds{target="${T}"}`, values: "0x70" },
    { series: 'selfhosted_mcp_smoke_last_run_timestamp_seconds{target="https://ok.example.test"}', values: "0+60x70" },
  ],
  alert_rule_test: [
    at("5m", "McpSmokeTestFailing"),
    at("12m", "McpSmokeTestFailing", {
      exp_labels: { severity: "warning", target: T },
      exp_annotations: {
        summary: "MCP smoke test failing",
        description: `The smoke test of ${T} has been failing for 10 minutes; see \`journalctl -u 'selfhosted-mcp-smoke-*'\` for the tool and field.`,
      },
    }),
    at("30m", "McpSmokeTestStale"),
    at("65m", "McpSmokeTestStale", {
      exp_labels: { severity: "warning", target: T },
      exp_annotations: {
        summary: "MCP smoke test not running",
        description: `The smoke test of ${T} last ran 1h 5m 0s ago (more than 60 minutes); check \`systemctl list-timers 'selfhosted-mcp-smoke-*'\`.`,
      },
    }),
  ],
}]));

test("a wrong expectation makes promtool fail (the harness can fail)", async () => {
  const r = await promtoolTest(renderAlertRules(), [{
    input_series: [{ series: `selfhosted_mcp_smoke_health_consecutive_failures{target="${T}"}`, values: "0 1 2" }],
    alert_rule_test: [at("2m", "McpHealthCheckFailing", { exp_labels: { severity: "critical", target: T }, exp_annotations: {} })],
  }]);
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /FAILED/);
});

test("bad options are rejected naming the option", () => {
  const bad: [AlertRuleOptions, RegExp][] = [
    [{ latencySlaSeconds: 0 }, /alert rules latencySlaSeconds: latencySlaSeconds must be > 0/],
    [{ errorRatio: 5 }, /alert rules errorRatio: errorRatio is a share between 0 and 1/],
    [{ restartWindow: "half an hour" }, /restartWindow must be a duration like "30s", "5m" or "1h"/],
    [{ latencyFor: "soon" }, /latencyFor must be a duration like "0s"/],
    [{ latencySla: 5 } as AlertRuleOptions, /alert rules latencySla: is not a known argument/],
  ];
  for (const [opts, msg] of bad) assert.throws(() => alertRules(opts), (e: Error) => e instanceof InvalidArgsError && msg.test(e.message));
  assert.match(renderAlertRules({ latencySlaSeconds: 2.5 }), /\) > 2\.5\n/);
});
