// The Grafana dashboard for the reference server (pure): per-tool calls, error ratio, p50/p95/p99 latency, upstream
// latency, schema errors, active sessions, RSS, restarts, slot/smoke/host state — every query built from the metric
// names the server (server/src/metrics.ts), node_exporter and the smoke textfile really expose. The shipped
// infra/monitoring/grafana-dashboard.json is renderGrafanaDashboard()'s output (a test keeps them identical) in
// Grafana's dashboard JSON model with an import-time datasource input (`__inputs`, DS_PROMETHEUS): Dashboards → New
// → Import. Template variables `app` (label of every series the droplet's Prometheus scrapes) and `server` (with
// SelfHostedMcp `servers`, the label of each server's series; "All" is `.*`, which also matches a single server's
// series, which have no `server` label). Host panels are filtered by `app` only.
import { SERVER_JOB } from "./prometheus-config.ts";
import { SMOKE_METRICS } from "../../contract/smoke-metrics.ts";

interface Target { expr: string; legend: string }
interface PanelSpec { title: string; unit: string; targets: Target[]; type?: "timeseries" | "stat"; description?: string }

const A = 'app=~"$app"';
/** A server's series: its app and the chosen servers. */
const S = `${A},server=~"$server"`;
const RI = "$__rate_interval";
const server = `job="${SERVER_JOB}",${S}`;
const quantile = (q: number, metric: string, by: string) => `histogram_quantile(${q}, sum by (${by}, le) (rate(${metric}_bucket{${S}}[${RI}])))`;

const PANELS: PanelSpec[] = [
  { title: "Tool calls per second", unit: "reqps", targets: [{ expr: `sum by (server, tool, status) (rate(mcp_tool_calls_total{${S}}[${RI}]))`, legend: "{{server}} {{tool}} {{status}}" }] },
  {
    title: "Tool error ratio", unit: "percentunit", description: "Share of calls ending in error; the McpToolErrorRatioHigh alert fires above its threshold (5 % by default).",
    targets: [{ expr: `sum by (server, tool) (rate(mcp_tool_calls_total{${S},status="error"}[${RI}])) / sum by (server, tool) (rate(mcp_tool_calls_total{${S}}[${RI}]))`, legend: "{{server}} {{tool}}" }],
  },
  {
    title: "Tool latency p50 / p95 / p99", unit: "s", description: "The McpToolLatencyHigh alert fires when p95 exceeds the latency SLA.",
    targets: [0.5, 0.95, 0.99].map((q) => ({ expr: quantile(q, "mcp_tool_duration_seconds", "server, tool"), legend: `{{server}} {{tool}} p${Math.round(q * 100)}` })),
  },
  { title: "Upstream latency p95 by outcome", unit: "s", targets: [{ expr: quantile(0.95, "mcp_upstream_request_duration_seconds", "server, outcome"), legend: "{{server}} {{outcome}}" }] },
  { title: "Upstream schema errors", unit: "short", description: "Upstream responses that no longer match the expected format (McpUpstreamSchemaDrift).", targets: [{ expr: `sum by (server, slot) (increase(mcp_upstream_schema_errors_total{${S}}[${RI}]))`, legend: "{{server}} {{slot}}" }] },
  { title: "Active MCP sessions", unit: "short", targets: [{ expr: `sum by (server, slot) (mcp_active_sessions{${S}})`, legend: "{{server}} {{slot}}" }] },
  { title: "Server memory (RSS)", unit: "bytes", targets: [{ expr: `process_resident_memory_bytes{${server}}`, legend: "{{server}} {{slot}}" }] },
  { title: "Server restarts (1h)", unit: "short", description: "New process start times per slot; a deploy starts the other slot, a crash restarts the same one (McpContainerRestarting).", targets: [{ expr: `changes(process_start_time_seconds{${server}}[1h])`, legend: "{{server}} {{slot}}" }] },
  { title: "HTTP requests by status", unit: "reqps", targets: [{ expr: `sum by (server, status) (rate(mcp_http_requests_total{${S}}[${RI}]))`, legend: "{{server}} {{status}}" }] },
  { title: "Slots up (live = 1, idle = 0)", unit: "short", type: "stat", targets: [{ expr: `up{${server}}`, legend: "{{server}} {{slot}}" }] },
  {
    title: "Smoke test", unit: "short", type: "stat",
    targets: [{ expr: `${SMOKE_METRICS.success}{${S}}`, legend: "{{server}} passed" }, { expr: `${SMOKE_METRICS.healthFailures}{${S}}`, legend: "{{server}} health failures in a row" }],
  },
  { title: "Firing alerts", unit: "short", type: "stat", targets: [{ expr: `count(ALERTS{alertstate="firing",${S}}) or vector(0)`, legend: "firing" }] },
  { title: "Host memory available", unit: "bytes", targets: [{ expr: `node_memory_MemAvailable_bytes{${A}}`, legend: "available" }] },
  { title: "Host CPU busy", unit: "percentunit", targets: [{ expr: `1 - avg(rate(node_cpu_seconds_total{mode="idle",${A}}[${RI}]))`, legend: "busy" }] },
];

/** Every query of the dashboard with Grafana's variables substituted as Grafana would (for tests against Prometheus). */
export function dashboardQueries(vars: { rateInterval: string; app: string; server?: string }): { panel: string; expr: string }[] {
  return PANELS.flatMap((p) => p.targets.map((t) => ({
    panel: p.title,
    expr: t.expr.replaceAll("$__rate_interval", vars.rateInterval).replaceAll("$app", vars.app).replaceAll("$server", vars.server ?? ".*"),
  })));
}

const DATASOURCE = { type: "prometheus", uid: "${DS_PROMETHEUS}" };

export function renderGrafanaDashboard(): string {
  const panels = PANELS.map((p, i) => ({
    id: i + 1, type: p.type ?? "timeseries", title: p.title, ...(p.description ? { description: p.description } : {}),
    datasource: DATASOURCE,
    gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
    fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
    options: p.type === "stat" ? { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false } } : { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), datasource: DATASOURCE, expr: t.expr, legendFormat: t.legend })),
  }));
  const dashboard = {
    __inputs: [{ name: "DS_PROMETHEUS", label: "Prometheus", description: "The droplet's Prometheus (through the SSH tunnel) or any that scrapes it", type: "datasource", pluginId: "prometheus", pluginName: "Prometheus" }],
    __requires: [
      { type: "grafana", id: "grafana", name: "Grafana", version: "10.0.0" },
      { type: "datasource", id: "prometheus", name: "Prometheus", version: "1.0.0" },
      { type: "panel", id: "timeseries", name: "Time series", version: "" },
      { type: "panel", id: "stat", name: "Stat", version: "" },
    ],
    uid: "selfhosted-mcp", title: "selfhosted-mcp", tags: ["mcp", "selfhosted-mcp"], editable: true, schemaVersion: 39, version: 1,
    time: { from: "now-6h", to: "now" }, refresh: "30s", timezone: "",
    templating: {
      list: [{
        name: "app", label: "app", type: "query", datasource: DATASOURCE, refresh: 2, includeAll: true, multi: true, allValue: ".*",
        definition: `label_values(up{job="${SERVER_JOB}"}, app)`, query: { query: `label_values(up{job="${SERVER_JOB}"}, app)`, refId: "app" },
        current: {}, options: [], sort: 1,
      }, {
        // Empty for a single server (its series have no `server`): "All" (.*) then matches them.
        name: "server", label: "server", type: "query", datasource: DATASOURCE, refresh: 2, includeAll: true, multi: true, allValue: ".*",
        definition: `label_values(up{job="${SERVER_JOB}",${A}}, server)`, query: { query: `label_values(up{job="${SERVER_JOB}",${A}}, server)`, refId: "server" },
        current: {}, options: [], sort: 1,
      }],
    },
    annotations: { list: [] },
    panels,
  };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
