// The alert drill with several servers (SelfHostedMcp `servers`), on loopback: two real reference servers ("weather"
// and "notes", each with its own upstream stub) scraped by a real Prometheus with the rendered multi-server
// prometheus.yml and rules, a real Alertmanager and node_exporter reading each server's smoke textfile (the real smoke
// CLI with --metrics-server, as each server's timer runs it). Weather's upstream goes down: its tool error ratio and
// its failing /health reach the webhook labelled server="weather" and named in the description, and nothing ever fires
// for "notes", which keeps answering. Then the dashboard's queries with the server variable set select one server, and
// a real gateway in front of both (on the gateway job's metrics port) has its per-upstream series labelled `server`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, run, waitFor } from "../support/proc.ts";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { startAlertReceiver, type AlertReceiver } from "../support/alert-receiver.ts";
import { startGateway } from "../support/gateway.ts";
import { startMonitoring, type RunningMonitoring } from "../support/monitoring-stack.ts";
import { connect, call } from "../server/mcp-client.ts";
import { renderMonitoringPlan, type MonitoringPlan } from "../../infra/monitoring/monitoring-plan.ts";
import { dashboardQueries } from "../../infra/monitoring/grafana-dashboard.ts";

const NAMES = ["weather", "notes"] as const;
type Name = (typeof NAMES)[number];
/** Scrape, evaluation, group_wait and group_interval are 1 s; this bounds each wait on a loaded 2-core machine. */
const BOUND_MS = 45_000;
const CLI = join(import.meta.dirname, "..", "..", "smoke", "cli.ts");
const dir = mkdtempSync(join(tmpdir(), "multi-alert-drill-"));
const stubs = {} as Record<Name, UpstreamStub>;
const servers = {} as Record<Name, RunningServer>;
let receiver: AlertReceiver, mon: RunningMonitoring, plan: MonitoringPlan, gateway: RunningServer;

/** A free port whose neighbour (the green slot, +1) is not one of `taken` or their neighbours: slots never overlap. */
async function slotPort(taken: number[]): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 65535 && taken.every((t) => Math.abs(t - p) > 1)) return p;
  }
  throw new Error("no free port pair in 50 tries");
}

before(async () => {
  receiver = await startAlertReceiver();
  const taken: number[] = [];
  for (const name of NAMES) {
    stubs[name] = await startUpstreamStub();
    const metricsPort = await slotPort(taken);
    taken.push(metricsPort);
    servers[name] = await startServer({ METRICS_PORT: String(metricsPort), UPSTREAM_URL: stubs[name].url, UPSTREAM_RETRIES: "0", HEALTH_CACHE_MS: "100" });
  }
  const [gatewayMetricsPort, prometheusPort, alertmanagerPort, nodeExporterPort] = [await slotPort(taken), await freePort(), await freePort(), await freePort()];
  plan = renderMonitoringPlan({
    app: "drill", metricsPort: gatewayMetricsPort, prometheusPort, alertmanagerPort, nodeExporterPort,
    servers: NAMES.map((name) => ({ name, metricsPort: servers[name].metricsPort })),
    textfileDir: join(dir, "textfile"), configDir: dir, dataDir: join(dir, "data"),
    scrapeInterval: "1s", evaluationInterval: "1s", groupWait: "1s", groupInterval: "1s", repeatInterval: "1h",
    thresholds: { rateWindow: "20s", errorRatioFor: "0s" },
    receivers: { webhook: {} },
  });
  mon = await startMonitoring(plan, { webhookUrl: `${receiver.url}/webhook` }, dir);
  gateway = await startGateway({ weather: servers.weather.mcpUrl, notes: servers.notes.mcpUrl }, { AUTH_MODE: "none", METRICS_PORT: String(gatewayMetricsPort) });
});

after(async () => {
  await mon?.stop();
  await gateway?.stop();
  for (const name of NAMES) { await servers[name]?.stop(); await stubs[name]?.stop(); }
  await receiver?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const smoke = (name: Name) => run(process.execPath, [CLI, "smoke", servers[name].url, "--json", "--timeout-ms", "5000",
  "--metrics-file", join(plan.options.textfileDir, `selfhosted-mcp-smoke-${name}.prom`), "--metrics-server", name], { timeoutMs: 30_000 });

async function forecastCalls(name: Name, n: number): Promise<void> {
  const client = await connect(servers[name].mcpUrl);
  try { await Promise.all(Array.from({ length: n }, () => call(client, "get_forecast", { latitude: 52.52, longitude: 13.41, days: 3 }, 10_000))); } finally { await client.close(); }
}

type Notified = { status: string; labels: Record<string, string>; annotations: Record<string, string> };
const notified = (): Notified[] => receiver.received.filter((r) => r.path === "/webhook").flatMap((r) => (r.body.alerts as Notified[] | undefined) ?? []);

test("one of two servers failing fires alerts naming that server, and none for the other", async () => {
  await waitFor("both servers scraped", async () => (await mon.query('up{job="selfhosted-mcp",slot="blue"} == 1')).length === 2, { timeoutMs: BOUND_MS });
  for (const name of NAMES) { assert.equal((await smoke(name)).code, 0, `${name}: healthy baseline`); await forecastCalls(name, 3); }
  await waitFor("both smoke results through node_exporter", async () => (await mon.query("selfhosted_mcp_smoke_success == 1")).length === 2, { timeoutMs: BOUND_MS });
  assert.deepEqual((await mon.alerts()).map((a) => a.labels.alertname), [], "quiet while healthy");

  stubs.weather.setMode("down");
  for (let i = 0; i < 3; i++) assert.equal((await smoke("weather")).code, 1, "weather's smoke fails while its upstream is down");
  await forecastCalls("weather", 4);
  assert.equal((await smoke("notes")).code, 0, "notes keeps passing");
  await forecastCalls("notes", 4);

  const wanted = ["McpHealthCheckFailing", "McpToolErrorRatioHigh"];
  await waitFor(`${wanted.join(", ")} for weather at the webhook`, () => wanted.every((n) =>
    notified().some((a) => a.status === "firing" && a.labels.alertname === n && a.labels.server === "weather")), { timeoutMs: BOUND_MS, intervalMs: 250 })
    .catch(async (e: Error) => {
      // Where the alerts stopped: Prometheus' side, Alertmanager's own list, what the receiver got (CI diagnosis).
      const am = await fetch(`${mon.alertmanagerUrl}api/v2/alerts`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text(), (x: Error) => x.message);
      const running = Object.entries(mon.daemons).map(([n, d]) => `${n} ${d.running() ? "running" : "exited"}`).join(", ");
      throw new Error(`${e.message}; Prometheus alerts: ${JSON.stringify(await mon.alerts())}; Alertmanager alerts: ${am.slice(0, 2000)}; `
        + `received: ${JSON.stringify(receiver.received.map((r) => r.path))}; daemons: ${running}`);
    });
  for (const a of notified().filter((x) => wanted.includes(x.labels.alertname!))) {
    assert.match(a.annotations.description!, /^server weather: /, `${a.labels.alertname} names the server`);
  }
  assert.deepEqual(notified().filter((a) => a.labels.server === "notes").map((a) => a.labels.alertname), [], "nothing for notes");
  assert.deepEqual((await mon.alerts()).filter((a) => a.labels.server !== "weather").map((a) => a.labels.alertname), [], "Prometheus: only weather's alerts");
});

test("the dashboard's queries with the server variable set return that server's series only", async () => {
  const rss = dashboardQueries({ rateInterval: "1m", app: "drill", server: "notes" }).find((q) => q.panel === "Server memory (RSS)")!;
  const series = await mon.query(rss.expr);
  assert.ok(series.length > 0 && series.every((s) => s.metric.server === "notes"), JSON.stringify(series.map((s) => s.metric)));
  const all = await mon.query(dashboardQueries({ rateInterval: "1m", app: "drill" }).find((q) => q.panel === "Server memory (RSS)")!.expr);
  assert.deepEqual([...new Set(all.map((s) => s.metric.server))].sort(), ["notes", "weather"]);
});

test("the gateway's per-upstream series carry server=<upstream> (metric_relabel_configs), its process series no server", async () => {
  const client = await connect(gateway.mcpUrl);
  try {
    for (const name of NAMES) assert.equal((await call(client, `${name}__search_notes`, { query: "x" })).isError, undefined, name);
  } finally { await client.close(); }
  const calls = await waitFor("the gateway's tool calls scraped", async () => {
    const r = await mon.query('mcp_gateway_tool_calls_total{job="selfhosted-mcp-gateway"}');
    return r.length === NAMES.length ? r : undefined;
  }, { timeoutMs: BOUND_MS });
  for (const s of calls) assert.equal(s.metric.server, s.metric.upstream, JSON.stringify(s.metric));
  assert.deepEqual((await mon.query('mcp_gateway_tool_calls_total{server="notes"}')).map((s) => s.metric.upstream), ["notes"]);
  const proc = await mon.query('process_start_time_seconds{job="selfhosted-mcp-gateway"}');
  assert.ok(proc.length > 0 && proc.every((s) => s.metric.server === undefined), JSON.stringify(proc.map((s) => s.metric)));
});
