// Monitoring several servers behind the gateway (SelfHostedMcp `servers`): the rendered prometheus.yml passes
// `promtool check config` and scrapes every server's slots labelled `server`; `promtool test rules` proves the rules
// fire per server and name it (one of two servers failing alerts for that one only) and that the gateway's restarts
// alert; the smoke textfile of a server's run carries `server` (promtool check metrics) and its failure count carries
// over; run-smoke.sh hands the label to the CLI.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../support/proc.ts";
import { assertPromtool, at, type Series } from "../support/promtool.ts";
import { renderMonitoringPlan } from "../../infra/monitoring/monitoring-plan.ts";
import { renderSmokeTimer } from "../../infra/monitoring/smoke-timer.ts";
import { renderSmokeMetrics, previousHealthFailures } from "../../smoke/metrics-file.ts";
import type { SmokeReport } from "../../smoke/run.ts";
import { InvalidArgsError } from "../../contract/args-error.ts";

const dir = mkdtempSync(join(tmpdir(), "multi-alerts-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const SERVERS = [{ name: "weather", metricsPort: 9346 }, { name: "notes", metricsPort: 9780 }];
const plan = renderMonitoringPlan({ app: "mcp", receivers: { webhook: {} }, servers: SERVERS });
const rules = plan.files["alerts.yml"];
const T = "https://mcp.example.test/notes";

test("prometheus.yml with servers passes promtool check config (9 rules); each server's slots and the gateway's job on loopback", async () => {
  const d = join(dir, "prom");
  mkdirSync(d);
  writeFileSync(join(d, "prometheus.yml"), plan.files["prometheus.yml"]);
  writeFileSync(join(d, "alerts.yml"), rules);
  const r = await run("promtool", ["check", "config", join(d, "prometheus.yml")]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /SUCCESS: 9 rules found/);
  for (const [port, server, slot] of [[9346, "weather", "blue"], [9347, "weather", "green"], [9780, "notes", "blue"], [9781, "notes", "green"]] as const) {
    assert.match(plan.files["prometheus.yml"], new RegExp(`- 127\\.0\\.0\\.1:${port}\\n\\s+labels:\\n\\s+app: mcp\\n\\s+server: ${server}\\n\\s+slot: ${slot}\\n`));
  }
  assert.match(plan.files["prometheus.yml"], /job_name: selfhosted-mcp-gateway\n(.|\n)*- 127\.0\.0\.1:9090\n/);
});

test("a server's metrics port that clashes with the stack's own is refused naming the server", () => {
  assert.throws(() => renderMonitoringPlan({ app: "mcp", receivers: { webhook: {} }, servers: [{ name: "notes", metricsPort: 9099 }], prometheusPort: 9100, nodeExporterPort: 9101 }),
    (e: Error) => e instanceof InvalidArgsError && /prometheusPort 9100 clashes with server notes's metricsPort/.test(e.message));
});

const calls = (server: string, tool: string, ok: number, errors: number): Series[] => [
  { series: `mcp_tool_calls_total{job="selfhosted-mcp",server="${server}",tool="${tool}",status="ok"}`, values: `0+${ok}x20` },
  { series: `mcp_tool_calls_total{job="selfhosted-mcp",server="${server}",tool="${tool}",status="error"}`, values: `0+${errors}x20` },
];

test("one of two servers failing a tool alerts for that server only, naming it", () => assertPromtool(rules, [{
  // The same tool on both servers: without `by (server)` their calls would be summed (5 %: no alert at all).
  input_series: [...calls("weather", "get_forecast", 100, 10), ...calls("notes", "get_forecast", 100, 0)],
  alert_rule_test: [at("10m", "McpToolErrorRatioHigh", {
    exp_labels: { severity: "warning", server: "weather", tool: "get_forecast" },
    exp_annotations: { summary: "MCP tool error ratio above 5 %", description: "server weather: 9.091% of get_forecast calls failed over the last 5 minutes (threshold 5 %)." },
  })],
}]));

const buckets = (server: string, perMinute: Record<string, number>): Series[] => Object.entries(perMinute)
  .map(([le, n]) => ({ series: `mcp_tool_duration_seconds_bucket{server="${server}",tool="search_notes",le="${le}"}`, values: `0+${n}x20` }));

test("p95 over the SLA on one server alerts for that server only", () => assertPromtool(rules, [{
  input_series: [...buckets("notes", { "5": 90, "10": 90, "30": 100, "+Inf": 100 }), ...buckets("weather", { "5": 100, "10": 100, "30": 100, "+Inf": 100 })],
  alert_rule_test: [at("10m", "McpToolLatencyHigh", {
    exp_labels: { severity: "warning", server: "notes", tool: "search_notes" },
    exp_annotations: { summary: "MCP tool p95 latency above the 10 s SLA", description: "server notes: p95 latency of search_notes is 20s over the last 5 minutes (SLA 10 s)." },
  })],
}]));

test("a server's smoke /health failing 3 times alerts naming it; the gateway's restarts alert too", () => assertPromtool(rules, [{
  input_series: [
    { series: `selfhosted_mcp_smoke_health_consecutive_failures{server="notes",target="${T}"}`, values: "0 1 2 3" },
    { series: `selfhosted_mcp_smoke_health_consecutive_failures{server="weather",target="https://mcp.example.test/weather"}`, values: "0 0 0 0" },
    { series: 'process_start_time_seconds{job="selfhosted-mcp-gateway",instance="127.0.0.1:9090"}', values: "100 200 300 300" },
  ],
  alert_rule_test: [
    at("3m", "McpHealthCheckFailing", {
      exp_labels: { severity: "critical", server: "notes", target: T },
      exp_annotations: { summary: "MCP server health check failing", description: `server notes: GET /health of ${T} failed 3 smoke runs in a row (alerts at 3).` },
    }),
    at("3m", "McpContainerRestarting", {
      exp_labels: { severity: "warning", job: "selfhosted-mcp-gateway", instance: "127.0.0.1:9090" },
      exp_annotations: { summary: "MCP server container restarting", description: "The server at 127.0.0.1:9090 restarted 2 times in 30m; check `docker logs` for the crash." },
    }),
  ],
}]));

const report = (ok: boolean): SmokeReport => ({
  target: T, mcpUrl: `${T}/mcp`, healthUrl: `${T}/health`, ok, startedAt: new Date().toISOString(), durationMs: 800,
  checks: [{ check: "health", status: ok ? "pass" : "fail", message: "" }, { check: "tool", tool: "search_notes", status: ok ? "pass" : "fail", message: "" }],
});

test("a server's smoke textfile labels every series with the server; the failure count carries over", async () => {
  const first = await renderSmokeMetrics(report(false), 0, Date.now(), "notes");
  const series = first.split("\n").filter((l) => l && !l.startsWith("#"));
  assert.equal(series.length, 6);
  for (const l of series) assert.match(l, /\{[^}]*server="notes"[^}]*\}/, l);
  assert.equal(previousHealthFailures(first, T), 1);
  const second = await renderSmokeMetrics(report(false), previousHealthFailures(first, T), Date.now(), "notes");
  assert.match(second, /selfhosted_mcp_smoke_health_consecutive_failures\{[^}]*server="notes"[^}]*\} 2\n/);
  assert.equal((await run("promtool", ["check", "metrics"], { input: second })).code, 0);
});

test("the smoke timer of a server passes its name to the CLI (run-smoke.sh with a recording docker)", async () => {
  const t = renderSmokeTimer({ app: "notes", url: "https://mcp.example.test/notes", server: "notes", stateDir: join(dir, "state") });
  const env = Object.fromEntries([...t.service.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  assert.equal(env.SMOKE_SERVER, "notes");
  // A fake docker on PATH records its arguments (run-smoke.sh's only dependency besides bash).
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "docker"), `#!/bin/sh\necho "$@" >> ${join(dir, "docker.log")}\n[ "$1" = inspect ] && echo sha256:feed\nexit 0\n`);
  chmodSync(join(bin, "docker"), 0o755);
  mkdirSync(env.SMOKE_DIR!, { recursive: true });
  writeFileSync(join(env.SMOKE_DIR!, "smoke.mjs"), "// bundle\n");
  writeFileSync(join(env.STATE_DIR!, "active-slot"), "green\n");
  const r = await run("bash", [join(import.meta.dirname, "..", "..", "infra", "monitoring", "smoke-run.sh")], { env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}` } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const runLine = readFileSync(join(dir, "docker.log"), "utf8").split("\n").find((l) => l.startsWith("run "))!;
  assert.match(runLine, / sha256:feed \/opt\/selfhosted-mcp-smoke\.mjs smoke https:\/\/mcp\.example\.test\/notes --json .* --metrics-server notes$/);
});

test("smoke --metrics-server refuses a value that is not a server name (exit 2, naming the option)", async () => {
  const cli = join(import.meta.dirname, "..", "..", "smoke", "cli.ts");
  const r = await run(process.execPath, [cli, "smoke", "http://127.0.0.1:9/", "--metrics-server", 'x"} 1'], { timeoutMs: 30_000 });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /--metrics-server: "x"\} 1" is not a server name/);
});
