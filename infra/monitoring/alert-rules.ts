// Prometheus alerting rules for the reference server's metrics (server/src/metrics.ts) and the smoke test's textfile
// metrics (smoke/metrics-file.ts). Rendered from options so the latency SLA etc. are inputs; the shipped
// infra/monitoring/alerts.yml is this renderer's output with the defaults (a test keeps them identical).
import * as z from "zod";
import { stringify } from "yaml";
import { SMOKE_METRICS } from "../../contract/smoke-metrics.ts";
import { parseArgs } from "../../contract/args-error.ts";

/** A Prometheus duration (https://prometheus.io/docs/prometheus/latest/querying/basics/#time-durations), one unit. */
const DURATION = /^[1-9][0-9]*(s|m|h|d)$/;
const window = (key: string, dflt: string) => z.string().regex(DURATION, `${key} must be a duration like "30s", "5m" or "1h"`).default(dflt);
const pendingFor = (key: string, dflt: string) => z.string().regex(/^(0s|[1-9][0-9]*(s|m|h))$/, `${key} must be a duration like "0s", "2m" or "1h"`).default(dflt);
const UNIT_WORDS: Record<string, string> = { s: "second", m: "minute", h: "hour", d: "day" };
/** "5m" -> "5 minutes", "1h" -> "1 hour" (annotation text). */
export function durationWords(d: string): string {
  const n = Number(d.slice(0, -1));
  return `${n} ${UNIT_WORDS[d.slice(-1)]}${n === 1 ? "" : "s"}`;
}

export const alertRuleOptionsSchema = z.object({
  /** p95 tool latency above this many seconds (over 5 minutes) alerts. */
  latencySlaSeconds: z.number().positive("latencySlaSeconds must be > 0, e.g. 10").default(10),
  /** Share of tool calls ending in error (over 5 minutes) above which to alert, 0..1. */
  errorRatio: z.number().gt(0).lt(1, "errorRatio is a share between 0 and 1, e.g. 0.05 for 5 %").default(0.05),
  /** Consecutive failed /health checks of the smoke timer that alert. */
  healthFailures: z.number().int().min(1).default(3),
  /** Alert when the served certificate expires within this many days. */
  certExpiryDays: z.number().int().min(1).default(14),
  /** Process (container) restarts within restartWindow that alert. */
  restarts: z.number().int().min(1).default(2),
  restartWindow: window("restartWindow", "30m"),
  /** Range of the error-ratio and p95 latency rules (PromQL `rate(...[rateWindow])`). */
  rateWindow: window("rateWindow", "5m"),
  /** An upstream schema error alerts for this long after it happened (`increase(...[driftWindow])`). */
  driftWindow: window("driftWindow", "10m"),
  /** How long each condition must hold before the alert fires (the rule's `for:`); "0s" fires at once. */
  errorRatioFor: pendingFor("errorRatioFor", "2m"),
  latencyFor: pendingFor("latencyFor", "5m"),
  smokeFailingFor: pendingFor("smokeFailingFor", "10m"),
  /** The smoke test's result is stale (timer not running) after this many minutes. */
  smokeStaleMinutes: z.number().int().min(1).default(60),
  /** Prometheus job label of the server's /metrics scrape (process_start_time_seconds is exposed by many jobs). */
  job: z.string().regex(/^[^"\\]+$/, "job must not contain quotes or backslashes").default("selfhosted-mcp"),
  /**
   * Several servers (SelfHostedMcp `servers`): every scrape target and smoke textfile carries `server="<name>"`, so
   * the per-tool rules aggregate `by (server, tool)` and every annotation names the server; the restart rule also
   * watches `gatewayJob`. Default false: the single-server rules, unchanged.
   */
  perServer: z.boolean().default(false),
  /** With perServer: the gateway's Prometheus job, whose restarts alert too (its series carry no `server`). */
  gatewayJob: z.string().regex(/^[A-Za-z0-9_-]+$/, "gatewayJob must be letters, digits, _ or -").optional(),
}).strict();

export type AlertRuleOptions = z.input<typeof alertRuleOptionsSchema>;

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: "critical" | "warning" };
  annotations: { summary: string; description: string };
}

/** Validates the options; throws InvalidArgsError ("alert rules <option>: ...") naming each bad one. */
export function resolveAlertRuleOptions(opts: AlertRuleOptions = {}): z.output<typeof alertRuleOptionsSchema> {
  return parseArgs("alert rules", alertRuleOptionsSchema, opts);
}

export function alertRules(opts: AlertRuleOptions = {}): AlertRule[] {
  const o = resolveAlertRuleOptions(opts);
  const errorPct = +(o.errorRatio * 100).toFixed(4);
  // Per server: group by it too and say which server in the text ("server notes: ..."); series without the label
  // (the gateway's) keep the single-server text. Prometheus templates: {{ with }} renders only a non-empty value.
  const by = o.perServer ? "server, tool" : "tool";
  const who = o.perServer ? "{{ with $labels.server }}server {{ . }}: {{ end }}" : "";
  const jobMatcher = o.perServer && o.gatewayJob ? `job=~"${o.job}|${o.gatewayJob}"` : `job="${o.job}"`;
  return [
    {
      alert: "McpHealthCheckFailing",
      expr: `${SMOKE_METRICS.healthFailures} >= ${o.healthFailures}`,
      labels: { severity: "critical" },
      annotations: {
        summary: "MCP server health check failing",
        description: `${who}GET /health of {{ $labels.target }} failed {{ $value }} smoke runs in a row (alerts at ${o.healthFailures}).`,
      },
    },
    {
      alert: "McpToolErrorRatioHigh",
      expr: `sum by (${by}) (rate(mcp_tool_calls_total{status="error"}[${o.rateWindow}])) / sum by (${by}) (rate(mcp_tool_calls_total[${o.rateWindow}])) > ${o.errorRatio}`,
      for: o.errorRatioFor,
      labels: { severity: "warning" },
      annotations: {
        summary: "MCP tool error ratio above " + `${errorPct} %`,
        description: `${who}{{ $value | humanizePercentage }} of {{ $labels.tool }} calls failed over the last ${durationWords(o.rateWindow)} (threshold ${errorPct} %).`,
      },
    },
    {
      alert: "McpToolLatencyHigh",
      expr: `histogram_quantile(0.95, sum by (${by}, le) (rate(mcp_tool_duration_seconds_bucket[${o.rateWindow}]))) > ${o.latencySlaSeconds}`,
      for: o.latencyFor,
      labels: { severity: "warning" },
      annotations: {
        summary: `MCP tool p95 latency above the ${o.latencySlaSeconds} s SLA`,
        description: `${who}p95 latency of {{ $labels.tool }} is {{ $value | humanizeDuration }} over the last ${durationWords(o.rateWindow)} (SLA ${o.latencySlaSeconds} s).`,
      },
    },
    {
      alert: "McpContainerRestarting",
      expr: `changes(process_start_time_seconds{${jobMatcher}}[${o.restartWindow}]) >= ${o.restarts}`,
      labels: { severity: "warning" },
      annotations: {
        summary: "MCP server container restarting",
        description: `${who}The server at {{ $labels.instance }} restarted {{ $value }} times in ${o.restartWindow}; check \`docker logs\` for the crash.`,
      },
    },
    {
      alert: "McpUpstreamSchemaDrift",
      expr: `increase(mcp_upstream_schema_errors_total[${o.driftWindow}]) > 0`,
      labels: { severity: "critical" },
      annotations: {
        summary: "Upstream API response format changed",
        description: `${who}{{ $labels.instance }} got upstream responses that no longer match the expected schema in the last ${durationWords(o.driftWindow)}; the affected tools return errors.`,
      },
    },
    {
      // Metering (docs/server.md): a billable call whose usage event could not be written is revenue lost; the
      // server logs it (meter_write_failed) and counts it, and this makes it a page, never a silent drop.
      alert: "McpMeterWriteFailing",
      expr: `increase(mcp_meter_write_failures_total[${o.driftWindow}]) > 0`,
      labels: { severity: "critical" },
      annotations: {
        summary: "Usage events are not being recorded",
        description: `${who}{{ $labels.instance }} could not write {{ $value }} billable calls to its usage ledger in the last ${durationWords(o.driftWindow)}; see the meter_write_failed log lines.`,
      },
    },
    {
      alert: "McpTlsCertificateExpiringSoon",
      expr: `${SMOKE_METRICS.certExpiry} - time() < ${o.certExpiryDays} * 86400`,
      labels: { severity: "warning" },
      annotations: {
        summary: `TLS certificate expires within ${o.certExpiryDays} days`,
        description: `${who}The certificate served for {{ $labels.target }} expires in {{ $value | humanizeDuration }}; check the certbot renewal timer.`,
      },
    },
    {
      alert: "McpSmokeTestFailing",
      expr: `${SMOKE_METRICS.success} == 0`,
      for: o.smokeFailingFor,
      labels: { severity: "warning" },
      annotations: {
        summary: "MCP smoke test failing",
        description: `${who}The smoke test of {{ $labels.target }} has been failing for ${durationWords(o.smokeFailingFor)}; see \`journalctl -u 'selfhosted-mcp-smoke-*'\` for the tool and field.`,
      },
    },
    {
      alert: "McpSmokeTestStale",
      expr: `time() - ${SMOKE_METRICS.lastRun} > ${o.smokeStaleMinutes * 60}`,
      labels: { severity: "warning" },
      annotations: {
        summary: "MCP smoke test not running",
        description: `${who}The smoke test of {{ $labels.target }} last ran {{ $value | humanizeDuration }} ago (more than ${o.smokeStaleMinutes} minutes); check \`systemctl list-timers 'selfhosted-mcp-smoke-*'\`.`,
      },
    },
  ];
}

/** The rules file (YAML) for Prometheus' `rule_files`. */
export function renderAlertRules(opts: AlertRuleOptions = {}): string {
  const header = "# Generated by selfhosted-mcp (infra/monitoring/alert-rules.ts); render other thresholds with renderAlertRules().\n";
  return header + stringify({ groups: [{ name: "selfhosted-mcp", rules: alertRules(opts) }] }, { lineWidth: 0 });
}
