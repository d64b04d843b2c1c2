// The alert rules only use metric names that really exist: the reference server's /metrics (scraped from the live
// process) and the smoke CLI's textfile (rendered from a real report shape). A renamed metric fails here, not in production.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderAlertRules } from "../../infra/monitoring/alert-rules.ts";
import { renderSmokeMetrics } from "../../smoke/metrics-file.ts";
import type { SmokeReport } from "../../smoke/run.ts";
import { startServer } from "../support/server.ts";

const typed = (exposition: string) => new Set([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
  type === "histogram" ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!]));

test("every metric in the alert rules is exposed by the server or written by the smoke test", async () => {
  const used = new Set(renderAlertRules().match(/\b(?:mcp|selfhosted_mcp|process)_[a-z_]+\b/g));
  assert.ok(used.size >= 8, [...used].join(" "));

  const server = await startServer();
  let exposition: string;
  try {
    exposition = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  } finally { await server.stop(); }
  const report: SmokeReport = {
    target: "https://mcp.example.test", mcpUrl: "https://mcp.example.test/mcp", healthUrl: "https://mcp.example.test/health",
    ok: true, startedAt: new Date().toISOString(), durationMs: 1000,
    tls: { trusted: true, validTo: "2030-01-01T00:00:00.000Z", expiresAt: 1893456000, daysLeft: 1000 },
    checks: [{ check: "health", status: "pass", message: "" }, { check: "tool", tool: "get_forecast", status: "pass", message: "" }],
  };
  const known = new Set([...typed(exposition), ...typed(await renderSmokeMetrics(report, 0))]);
  const missing = [...used].filter((m) => !known.has(m));
  assert.deepEqual(missing, [], `alert rules use metrics nobody exposes: ${missing.join(", ")}`);
});
