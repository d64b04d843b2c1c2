// The alert drill on loopback: a real reference server (upstream stub) scraped by a real Prometheus evaluating the
// package's rules, a real Alertmanager, node_exporter reading the real smoke CLI's textfile — all three started with
// the droplet's flags from the rendered plan (only scrape/evaluation intervals, rule windows and `for:` shortened,
// through the renderer's options). Each alert condition is made true the way production would see it; an HTTP
// endpoint (generic webhook, Slack, PagerDuty Events v2) and an SMTP sink must receive each firing notification within
// FIRE_BOUND_MS and, after recovery, a resolved one within RESOLVE_BOUND_MS. Then: every dashboard query parses and
// returns series from this Prometheus, every daemon listens on 127.0.0.1 only, and their RSS is reported.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, run, sleep, waitFor } from "../support/proc.ts";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { startAlertReceiver, type AlertReceiver } from "../support/alert-receiver.ts";
import { startMonitoring, type RunningMonitoring } from "../support/monitoring-stack.ts";
import { connect, call } from "../server/mcp-client.ts";
import { renderMonitoringPlan, type MonitoringPlan } from "../../infra/monitoring/monitoring-plan.ts";
import type { MonitoringSecrets } from "../../infra/monitoring/stack-options.ts";
import { dashboardQueries } from "../../infra/monitoring/grafana-dashboard.ts";

const FIRE_BOUND_MS = 30_000;
const RESOLVE_BOUND_MS = 60_000;
const WINDOW = "20s";
const SMTP = { username: "alerts", password: "smtp-drill-pass" };
const CLI = join(import.meta.dirname, "..", "..", "infra", "smoke", "cli.ts");

const dir = mkdtempSync(join(tmpdir(), "alert-drill-"));
let stub: UpstreamStub, sink: SmtpSink, receiver: AlertReceiver, server: RunningServer, mon: RunningMonitoring, plan: MonitoringPlan;
let serverEnv: Record<string, string>;

before(async () => {
  stub = await startUpstreamStub({ slowMs: 2500 });
  sink = await startSmtpSink(SMTP);
  receiver = await startAlertReceiver();
  const [port, metricsPort, prometheusPort, alertmanagerPort, nodeExporterPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  serverEnv = {
    PORT: String(port), METRICS_PORT: String(metricsPort), DATA_DIR: join(dir, "server-data"), UPSTREAM_URL: stub.url,
    UPSTREAM_RETRIES: "0", HEALTH_CACHE_MS: "100", MCP_SESSIONS: "stateful",
  };
  server = await startServer(serverEnv, { keepDataDir: true });
  plan = renderMonitoringPlan({
    app: "drill", port, metricsPort, prometheusPort, alertmanagerPort, nodeExporterPort,
    textfileDir: join(dir, "textfile"), configDir: dir, dataDir: join(dir, "data"),
    scrapeInterval: "1s", evaluationInterval: "1s", groupWait: "1s", groupInterval: "1s", repeatInterval: "1h",
    thresholds: { latencySlaSeconds: 1, rateWindow: WINDOW, driftWindow: WINDOW, restartWindow: WINDOW, errorRatioFor: "0s", latencyFor: "0s", smokeFailingFor: "0s" },
    receivers: {
      email: { to: ["oncall@example.test"], from: "alerts@example.test", smarthost: `127.0.0.1:${sink.port}`, username: SMTP.username, requireTls: false },
      slack: { channel: "#drill" }, webhook: {}, pagerduty: { url: `${receiver.url}/pagerduty` },
    },
  });
  const secrets: MonitoringSecrets = {
    smtpPassword: SMTP.password, slackWebhookUrl: `${receiver.url}/slack`, webhookUrl: `${receiver.url}/webhook`, pagerdutyRoutingKey: "drill0123456789abcdef0123456789ab",
  };
  mon = await startMonitoring(plan, secrets, dir);
});

after(async () => {
  await mon?.stop();
  await server?.stop();
  await Promise.all([stub?.stop(), sink?.stop(), receiver?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const smoke = () => run(process.execPath, [CLI, "smoke", server.url, "--json", "--timeout-ms", "5000",
  "--metrics-file", join(plan.options.textfileDir, "selfhosted-mcp-smoke-drill.prom")], { timeoutMs: 30_000 });

async function forecastCalls(n: number): Promise<void> {
  const client = await connect(server.mcpUrl);
  try { await Promise.all(Array.from({ length: n }, () => call(client, "get_forecast", { latitude: 52.52, longitude: 13.41, days: 3 }, 10_000))); } finally { await client.close(); }
}

const startTime = async () => Number((await mon.query('process_start_time_seconds{job="selfhosted-mcp",slot="blue"}'))[0]?.value[1] ?? NaN);

/** A container restart as Prometheus sees it: the same instance answers with a new process_start_time_seconds. */
async function restartServer(): Promise<void> {
  const before = await waitFor("a scraped start time", async () => { const t = await startTime(); return Number.isFinite(t) && t; }, { timeoutMs: 10_000 });
  await sleep(Math.max(0, before * 1000 + 1500 - Date.now()));
  await server.stop();
  server = await startServer(serverEnv, { keepDataDir: true });
  await waitFor("Prometheus to scrape the restarted server", async () => (await startTime()) > before, { timeoutMs: 15_000, intervalMs: 250 });
}

type Status = "firing" | "resolved";
const alertsIn = (b: Record<string, unknown>) => (b.alerts as { status: string; labels: Record<string, string> }[] | undefined) ?? [];
const CHANNELS = {
  webhook: (name: string, s: Status) => receiver.received.some((r) => r.path === "/webhook" && alertsIn(r.body).some((a) => a.labels.alertname === name && a.status === s)),
  slack: (name: string, s: Status) => receiver.received.some((r) => r.path === "/slack" && JSON.stringify(r.body).includes(`[${s.toUpperCase()}`) && JSON.stringify(r.body).includes(name)),
  email: (name: string, s: Status) => sink.messages.some((m) => m.subject.startsWith(`[${s.toUpperCase()}`) && m.subject.includes(name) && m.authUser === SMTP.username),
  pagerduty: (name: string, s: Status) => receiver.received.some((r) => r.path === "/pagerduty" && r.body.event_action === (s === "firing" ? "trigger" : "resolve") && JSON.stringify(r.body).includes(name)),
};
/** The drill's alerts and where each must arrive (PagerDuty takes critical ones only: minSeverity critical). */
const DRILL: Record<string, (keyof typeof CHANNELS)[]> = {
  McpContainerRestarting: ["webhook", "email", "slack"],
  McpHealthCheckFailing: ["webhook", "email", "slack", "pagerduty"],
  McpToolErrorRatioHigh: ["webhook", "email", "slack"],
  McpUpstreamSchemaDrift: ["webhook", "email", "slack", "pagerduty"],
  McpToolLatencyHigh: ["webhook", "email", "slack"],
};

async function arrives(name: string, status: Status, since: number, boundMs: number): Promise<number> {
  const missing = () => DRILL[name]!.filter((c) => !CHANNELS[c](name, status));
  try {
    await waitFor(`${name} ${status} on ${DRILL[name]!.join(", ")}`, () => missing().length === 0, { timeoutMs: Math.max(1000, since + boundMs - Date.now()), intervalMs: 200 });
  } catch (e) {
    throw new Error(`${(e as Error).message}; missing on: ${missing().join(", ")}; Prometheus alerts: ${JSON.stringify(await mon.alerts())}`);
  }
  return Date.now() - since;
}

test("each alert condition notifies webhook, Slack, e-mail (and PagerDuty for critical) in bounded time, and resolves after recovery", async () => {
  await waitFor("both targets scraped", async () => (await mon.query('up{job="selfhosted-mcp",slot="blue"} == 1')).length === 1, { timeoutMs: 15_000 });
  assert.equal((await smoke()).code, 0, "healthy baseline smoke run");
  await forecastCalls(3);
  await waitFor("smoke metrics through node_exporter", async () => (await mon.query("selfhosted_mcp_smoke_success == 1")).length === 1, { timeoutMs: 15_000 });
  await sleep(3000);
  assert.deepEqual((await mon.alerts()).map((a) => a.labels.alertname), [], "quiet while healthy");

  const t: Record<string, number> = {};
  t.McpContainerRestarting = Date.now();
  await restartServer();
  await restartServer();

  stub.setMode("down");
  t.McpHealthCheckFailing = t.McpToolErrorRatioHigh = Date.now();
  for (let i = 0; i < 3; i++) assert.equal((await smoke()).code, 1, "smoke fails while the upstream is down");
  await forecastCalls(4);

  stub.setMode("drifted");
  t.McpUpstreamSchemaDrift = Date.now();
  await forecastCalls(2);

  stub.setMode("slow");
  t.McpToolLatencyHigh = Date.now();
  await forecastCalls(3);

  const fired: Record<string, number> = {};
  for (const name of Object.keys(DRILL)) fired[name] = await arrives(name, "firing", t[name]!, FIRE_BOUND_MS);

  stub.setMode("normal");
  const recovered = Date.now();
  assert.equal((await smoke()).code, 0, "smoke passes again");
  await forecastCalls(3);
  const resolved: Record<string, number> = {};
  for (const name of Object.keys(DRILL)) resolved[name] = await arrives(name, "resolved", recovered, RESOLVE_BOUND_MS);
  assert.equal(sink.authFailures, 0, "Alertmanager authenticated with the SMTP password from the secrets");
  console.log(`# alert drill: firing after ${JSON.stringify(fired)} ms; resolved after ${JSON.stringify(resolved)} ms (rule windows ${WINDOW})`);
});

test("every dashboard query parses and returns series from the drill's Prometheus", async () => {
  for (const q of dashboardQueries({ rateInterval: "1m", app: "drill" })) {
    const result = await mon.query(q.expr);
    assert.ok(result.length > 0, `${q.panel}: ${q.expr} returned no series`);
  }
});

test("the daemons listen on 127.0.0.1 only; their memory (RSS) is reported", async () => {
  const ss = await run("ss", ["-Htlnp"]);
  for (const [name, d] of Object.entries(mon.daemons)) {
    const own = ss.stdout.split("\n").filter((l) => l.includes(`pid=${d.pid},`));
    assert.ok(own.length > 0, `${name} listens`);
    for (const l of own) assert.match(l.split(/\s+/)[3]!, /^127\.0\.0\.1:\d+$/, `${name}: ${l}`);
  }
  const rss = Object.fromEntries(Object.entries(mon.daemons).map(([name, d]) =>
    [name, Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${d.pid}/status`, "utf8"))![1]) / 1024)]));
  console.log(`# monitoring RSS after the drill (MB): ${JSON.stringify(rss)}`);
  assert.ok(rss.prometheus! < plan.options.prometheusMemoryMb && rss.alertmanager! < plan.options.alertmanagerMemoryMb
    && rss["node-exporter"]! < plan.options.nodeExporterMemoryMb, `within the MemoryMax caps: ${JSON.stringify(rss)}`);
});
