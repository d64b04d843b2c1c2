// The shipped Grafana dashboard is the renderer's output and a well-formed import: unique panel ids, non-overlapping
// grid, every target with a refId, the import-time datasource input and the `app` and `server` variables; every metric it queries is
// exposed by the reference server, node_exporter (collectors enabled on the droplet) or the smoke textfile. That each
// query parses and returns series from a real Prometheus is proven in alert-drill.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderGrafanaDashboard, dashboardQueries } from "../../infra/monitoring/grafana-dashboard.ts";

const SHIPPED = join(import.meta.dirname, "..", "..", "infra", "monitoring", "grafana-dashboard.json");

test("grafana-dashboard.json is the renderer's output and a well-formed dashboard import", () => {
  assert.equal(readFileSync(SHIPPED, "utf8"), renderGrafanaDashboard(),
    "stale: node -e 'import(\"./infra/monitoring/grafana-dashboard.ts\").then(m=>process.stdout.write(m.renderGrafanaDashboard()))' > infra/monitoring/grafana-dashboard.json");
  const d = JSON.parse(renderGrafanaDashboard());
  assert.deepEqual(d.__inputs.map((i: { name: string }) => i.name), ["DS_PROMETHEUS"]);
  assert.equal(d.templating.list[0].name, "app");
  const ids = d.panels.map((p: { id: number }) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  const cells = new Set<string>();
  for (const p of d.panels) {
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
      assert.ok(!cells.has(`${x},${y}`), `panel ${p.title} overlaps`); cells.add(`${x},${y}`);
    }
    assert.ok(p.gridPos.x + p.gridPos.w <= 24);
    for (const t of p.targets) assert.ok(t.refId && t.expr && t.datasource.uid === "${DS_PROMETHEUS}", p.title);
  }
  const titles = d.panels.map((p: { title: string }) => p.title).join(" | ");
  for (const want of [/Tool calls/, /error ratio/, /p50 \/ p95 \/ p99/, /Upstream latency/, /schema errors/, /sessions/, /RSS/, /restarts/]) assert.match(titles, want);
  assert.ok(dashboardQueries({ rateInterval: "1m", app: ".*" }).every((q) => !q.expr.includes("$")), "variables substituted");
});

test("the server variable (SelfHostedMcp servers) filters every server panel, groups by server, and leaves the host panels alone", () => {
  const d = JSON.parse(renderGrafanaDashboard());
  const v = d.templating.list.find((t: { name: string }) => t.name === "server");
  assert.ok(v, "a server variable");
  assert.equal(v.query.query, 'label_values(up{job="selfhosted-mcp",app=~"$app"}, server)');
  // "All" must also match a single server's series, which carry no server label: PromQL =~".*" matches the empty value.
  assert.equal(v.allValue, ".*");
  for (const p of d.panels) for (const t of p.targets) {
    const host = /^node_|node_cpu/.test(t.expr);
    assert.equal(t.expr.includes('server=~"$server"'), !host, `${p.title}: ${t.expr}`);
    if (/sum by \(/.test(t.expr)) assert.match(t.expr, /sum by \(server, /, `${p.title} keeps servers apart`);
  }
  const chosen = dashboardQueries({ rateInterval: "1m", app: "mcp", server: "notes" });
  assert.ok(chosen.filter((q) => !/node_/.test(q.expr)).every((q) => q.expr.includes('server=~"notes"')));
});
