// Writes a smoke run as a Prometheus textfile (node_exporter textfile-collector format, written atomically) so the
// alert rules in infra/monitoring can use it. The consecutive /health failure count is carried over from the
// previous file, which makes "failing 3 times in a row" exact regardless of the timer interval.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { Gauge, Registry } from "prom-client";
import type { SmokeReport } from "./run.ts";
import { SMOKE_METRICS } from "../contract/smoke-metrics.ts";
import { SERVER_NAME_SOURCE } from "../contract/values.ts";

export { SMOKE_METRICS };

/** The consecutive-failure count a previous file recorded for this target (0 if none). */
export function previousHealthFailures(text: string, target: string): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${SMOKE_METRICS.healthFailures}{`)) continue;
    const m = /target="((?:[^"\\]|\\.)*)"[^}]*\}\s+(\d+)/.exec(line);
    if (m && m[1]!.replace(/\\(.)/g, "$1") === target) return Number(m[2]);
  }
  return 0;
}

/** A server name as a label value (SelfHostedMcp `servers` names, contract/values.ts). */
export const SMOKE_SERVER_LABEL = new RegExp(`^${SERVER_NAME_SOURCE}$`);

/**
 * The run's textfile metrics, each with `target`; with `server` (several servers behind one gateway) every series
 * also carries `server="<name>"`, so an alert on them names the server (infra/monitoring/alert-rules.ts perServer).
 */
export async function renderSmokeMetrics(r: SmokeReport, previousFailures: number, now = Date.now(), server?: string): Promise<string> {
  const registry = new Registry();
  if (server !== undefined) registry.setDefaultLabels({ server });
  const gauge = (name: string, help: string, labels: string[] = []) => new Gauge({ name, help, labelNames: ["target", ...labels], registers: [registry] });
  const t = { target: r.target };
  const healthOk = r.checks.some((c) => c.check === "health" && c.status === "pass");
  gauge(SMOKE_METRICS.success, "1 if the last smoke test passed every check, else 0.").set(t, r.ok ? 1 : 0);
  gauge(SMOKE_METRICS.lastRun, "Unix time of the last smoke test run.").set(t, Math.floor(now / 1000));
  gauge(SMOKE_METRICS.duration, "Duration of the last smoke test run in seconds.").set(t, r.durationMs / 1000);
  gauge(SMOKE_METRICS.healthUp, "1 if GET /health answered 200 in the last run, else 0.").set(t, healthOk ? 1 : 0);
  gauge(SMOKE_METRICS.healthFailures, "Consecutive smoke runs in which GET /health did not answer 200.").set(t, healthOk ? 0 : previousFailures + 1);
  const tools = gauge(SMOKE_METRICS.toolSuccess, "1 if the read-only tool's smoke call met its thresholds, 0 if it failed.", ["tool"]);
  for (const c of r.checks) if (c.tool && c.status !== "skip") tools.set({ ...t, tool: c.tool }, c.status === "pass" ? 1 : 0);
  if (r.tls) gauge(SMOKE_METRICS.certExpiry, "Unix time at which the served TLS certificate expires.").set(t, r.tls.expiresAt);
  return registry.metrics();
}

/** Renders and atomically replaces `file` (node_exporter never reads a half-written file). */
export async function writeSmokeMetrics(file: string, r: SmokeReport, server?: string): Promise<void> {
  let previous = "";
  try { previous = readFileSync(file, "utf8"); } catch { /* first run */ }
  const text = await renderSmokeMetrics(r, previousHealthFailures(previous, r.target), Date.now(), server);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}
