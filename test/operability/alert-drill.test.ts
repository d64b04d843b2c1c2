// The alert drill on loopback: a real reference server (upstream stub) scraped by a real Prometheus evaluating the
// package's rules, a real Alertmanager, node_exporter reading the real smoke CLI's textfile — all three started with
// the droplet's flags from the rendered plan (only scrape/evaluation intervals, rule windows and `for:` shortened,
// through the renderer's options). Each alert condition is made true the way production would see it; an HTTP
// endpoint (generic webhook, Slack, PagerDuty Events v2) and an SMTP sink must receive each firing notification and,
// after recovery, a resolved one, each alert within its own bound (boundMs: what its rule and the pipeline's
// intervals allow, plus a margin for a loaded 2-core CI machine; the waits run side by side). Then: every dashboard query parses and
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
import { alertRules } from "../../infra/monitoring/alert-rules.ts";
import { durationMs } from "../../infra/monitoring/prometheus-config.ts";

/** Added to every alert's pipeline bound: scheduling delay of Prometheus, Alertmanager and the sinks on a loaded host. */
const LOAD_MARGIN_MS = 40_000;
const WINDOW = "20s";
/** Two restarts must fall into one restart window; a server restart under load takes 10-20 s, so this one is wider. */
const RESTART_WINDOW = "60s";
const SMTP = { username: "alerts", password: "smtp-drill-pass" };
const CLI = join(import.meta.dirname, "..", "..", "smoke", "cli.ts");

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
    thresholds: { latencySlaSeconds: 1, rateWindow: WINDOW, driftWindow: WINDOW, restartWindow: RESTART_WINDOW, errorRatioFor: "0s", latencyFor: "0s", smokeFailingFor: "0s" },
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
/**
 * The drill's alerts, where each must arrive (PagerDuty takes critical ones only: minSeverity critical) and the range
 * of its rule (a rate/changes/increase window keeps the condition true that long after recovery; none for a gauge).
 */
const DRILL: Record<string, { channels: (keyof typeof CHANNELS)[]; window: string }> = {
  McpContainerRestarting: { channels: ["webhook", "email", "slack"], window: RESTART_WINDOW },
  McpHealthCheckFailing: { channels: ["webhook", "email", "slack", "pagerduty"], window: "0s" },
  McpToolErrorRatioHigh: { channels: ["webhook", "email", "slack"], window: WINDOW },
  McpUpstreamSchemaDrift: { channels: ["webhook", "email", "slack", "pagerduty"], window: WINDOW },
  McpToolLatencyHigh: { channels: ["webhook", "email", "slack"], window: WINDOW },
};

/**
 * How long one alert may take, by the pipeline (Prometheus alerting rules, Alertmanager dispatch): firing needs the
 * condition scraped (scrape_interval), the rule evaluated (evaluation_interval) and true for its `for:`, then the new
 * group's group_wait (or, for a group already notified, group_interval); resolving needs the condition to become
 * false (the rule's window of samples to age out, then scrape + evaluation) and the next group_interval. Plus
 * LOAD_MARGIN_MS. Each alert waits its own bound from the moment its condition was made true (or was removed).
 */
function boundMs(name: string, status: Status): number {
  const o = plan.options;
  const rule = alertRules(o.thresholds).find((r) => r.alert === name);
  assert.ok(rule, `${name} is one of the rendered rules`);
  const pipeline = durationMs(o.scrapeInterval) + durationMs(o.evaluationInterval) + durationMs(o.groupWait) + durationMs(o.groupInterval);
  return (status === "firing" ? durationMs(rule.for ?? "0s") : durationMs(DRILL[name]!.window)) + pipeline + LOAD_MARGIN_MS;
}

async function arrives(name: string, status: Status, since: number): Promise<number> {
  const channels = DRILL[name]!.channels;
  const missing = () => channels.filter((c) => !CHANNELS[c](name, status));
  const bound = boundMs(name, status);
  try {
    await waitFor(`${name} ${status} on ${channels.join(", ")}`, () => missing().length === 0, { timeoutMs: Math.max(1000, since + bound - Date.now()), intervalMs: 200 });
  } catch (e) {
    throw new Error(`${(e as Error).message} (bound ${bound} ms from its condition); missing on: ${missing().join(", ")}; Prometheus alerts: ${JSON.stringify(await mon.alerts())}`);
  }
  return Date.now() - since;
}

/** Each alert's arrival awaited side by side (so the whole wait is the longest bound, not their sum); all failures reported. */
async function allArrive(status: Status, since: Record<string, number>): Promise<Record<string, number>> {
  const names = Object.keys(DRILL);
  const settled = await Promise.allSettled(names.map((n) => arrives(n, status, since[n]!)));
  const failed = settled.flatMap((r) => r.status === "rejected" ? [(r.reason as Error).message] : []);
  assert.equal(failed.length, 0, failed.join("\n"));
  return Object.fromEntries(names.map((n, i) => [n, (settled[i] as PromiseFulfilledResult<number>).value]));
}

/** Resolves once Prometheus has evaluated every rule group at least twice more (two full evaluations from now on). */
async function ruleEvaluationsAfterNow(): Promise<void> {
  const since = Date.now() / 1000 + durationMs(plan.options.evaluationInterval) / 1000;
  await waitFor("two rule evaluations", async () => {
    const r = await fetch(`${mon.prometheusUrl}api/v1/rules`, { signal: AbortSignal.timeout(5000) });
    const groups = ((await r.json()) as { data: { groups: { lastEvaluation: string }[] } }).data.groups;
    return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) / 1000 > since);
  }, { timeoutMs: 30_000, intervalMs: 250 });
}

test("each alert condition notifies webhook, Slack, e-mail (and PagerDuty for critical) in bounded time, and resolves after recovery", async () => {
  await waitFor("both targets scraped", async () => (await mon.query('up{job="selfhosted-mcp",slot="blue"} == 1')).length === 1, { timeoutMs: 15_000 });
  assert.equal((await smoke()).code, 0, "healthy baseline smoke run");
  await forecastCalls(3);
  await waitFor("smoke metrics through node_exporter", async () => (await mon.query("selfhosted_mcp_smoke_success == 1")).length === 1, { timeoutMs: 15_000 });
  await ruleEvaluationsAfterNow();
  assert.deepEqual((await mon.alerts()).map((a) => a.labels.alertname), [], "quiet while healthy");

  // t[name]: when the alert's condition became true (the last step that makes it so has completed).
  const t: Record<string, number> = {};
  await restartServer();
  await restartServer();
  t.McpContainerRestarting = Date.now();

  stub.setMode("down");
  for (let i = 0; i < 3; i++) assert.equal((await smoke()).code, 1, "smoke fails while the upstream is down");
  t.McpHealthCheckFailing = Date.now();
  await forecastCalls(4);
  t.McpToolErrorRatioHigh = Date.now();

  stub.setMode("drifted");
  await forecastCalls(2);
  t.McpUpstreamSchemaDrift = Date.now();

  stub.setMode("slow");
  await forecastCalls(3);
  t.McpToolLatencyHigh = Date.now();

  const fired = await allArrive("firing", t);

  stub.setMode("normal");
  assert.equal((await smoke()).code, 0, "smoke passes again");
  await forecastCalls(3);
  const recovered = Date.now();
  const resolved = await allArrive("resolved", Object.fromEntries(Object.keys(DRILL).map((n) => [n, recovered])));
  assert.equal(sink.authFailures, 0, "Alertmanager authenticated with the SMTP password from the secrets");
  console.log(`# alert drill: firing after ${JSON.stringify(fired)} ms; resolved after ${JSON.stringify(resolved)} ms (rule windows ${WINDOW}, restarts ${RESTART_WINDOW})`);
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
