// SelfHostedMcp with several servers + alertStack + smokeTimer under Pulumi's mocks: Prometheus scrapes every server's
// two slots (label `server`, ports as the deployments got them) and the gateway as its own job; the rules group and
// name by server; each server gets its own smoke timer through its route with a key that grants it (the gateway's
// token for it when no key does), its metrics labelled with its name, and the gateway keeps its timer.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { installMocks, isSecretValue, bundleFiles } from "./mock-harness.ts";
import { multiStackArgs, KEY_ALL, KEY_NOTES } from "./multi-fixtures.ts";

const rec = await installMocks();
const { SelfHostedMcp } = await import("../../infra/index.ts");
const { upstreamToken } = await import("../../infra/render/servers.ts");
const KEYS = `${KEY_NOTES}:notes,${KEY_ALL}:weather+notes`;
const WEBHOOK = "https://alerts.example.test/hook/SENTINEL";
new SelfHostedMcp("prod", {
  ...multiStackArgs({ keys: KEYS }),
  alertStack: { receivers: { webhook: {} }, secrets: { webhookUrl: pulumi.secret(WEBHOOK) } },
  smokeTimer: { token: pulumi.secret(KEY_ALL) },
});
await rec.settle();

const input = (script: string, key: string) => Buffer.from(new RegExp(`^readonly ${key}=(\\S+)$`, "m").exec(script)![1]!, "base64").toString("utf8");
/** The METRICS_PORT each slot of a deployment runs with (its run spec: blue, then green). */
const deployMetricsPorts = (name: string) => {
  const spec = bundleFiles(String((rec.named(name).inputs as { stdin: { value: string } }).stdin.value))["run-spec.sh"]!;
  return [...spec.matchAll(/--env METRICS_PORT=(\d+) /g)].map((m) => Number(m[1]));
};
type Target = { targets: string[]; labels: Record<string, string> };
const prom = parse(input(String(rec.named("prod-alert-stack-install").inputs.create), "PROMETHEUS_YML_B64")) as
  { scrape_configs: { job_name: string; static_configs: Target[] }[] };
const job = (n: string) => prom.scrape_configs.find((j) => j.job_name === n)!.static_configs;

test("Prometheus scrapes both slots of every server, labelled with its name, and the gateway as its own job", () => {
  const servers = job("selfhosted-mcp");
  assert.deepEqual(servers.map((t) => `${t.labels.server}/${t.labels.slot}`),
    ["weather/blue", "weather/green", "notes/blue", "notes/green", "search/blue", "search/green"]);
  for (const name of ["weather", "notes", "search"]) {
    const scraped = servers.filter((t) => t.labels.server === name).map((t) => Number(t.targets[0]!.split(":")[1]));
    assert.deepEqual(scraped, deployMetricsPorts(`prod-${name}-deploy-deploy`), `${name}: the ports its slots run with`);
    assert.ok(servers.every((t) => t.targets[0]!.startsWith("127.0.0.1:")), "loopback only");
  }
  assert.deepEqual(job("selfhosted-mcp-gateway").map((t) => [t.targets[0], t.labels.slot, t.labels.server]),
    [["127.0.0.1:9090", "blue", undefined], ["127.0.0.1:9091", "green", undefined]]);
});

test("the rules aggregate by server and name it; the restart rule watches the gateway's job too", () => {
  const rules = input(String(rec.named("prod-alert-stack-install").inputs.create), "RULES_B64");
  assert.match(rules, /sum by \(server, tool\) \(rate\(mcp_tool_calls_total\{status="error"\}/);
  assert.match(rules, /sum by \(server, tool, le\)/);
  assert.match(rules, /process_start_time_seconds\{job=~"selfhosted-mcp\|selfhosted-mcp-gateway"\}/);
  assert.match(rules, /\{\{ with \$labels\.server \}\}server \{\{ \. \}\}: \{\{ end \}\}GET \/health/);
});

test("a smoke timer per server: its route, a key that grants it (else the gateway's token for it), server label", () => {
  const expected = { weather: KEY_ALL, notes: KEY_NOTES, search: upstreamToken(KEYS.split(","), "search") };
  for (const [name, key] of Object.entries(expected)) {
    const install = rec.named(`prod-smoke-${name}-install`).inputs as { create: string; stdin: unknown };
    const service = input(install.create, "SERVICE_B64");
    assert.match(service, new RegExp(`^Environment=SMOKE_URL=https://mcp\\.example\\.com/${name}$`, "m"));
    assert.match(service, new RegExp(`^Environment=SMOKE_SERVER=${name}$`, "m"));
    assert.match(service, new RegExp(`^Environment=APP=${name}$`, "m"), "the live container is the server's own");
    assert.match(service, /^Environment=TEXTFILE_DIR=\/var\/lib\/prometheus\/node-exporter$/m);
    assert.ok(isSecretValue(install.stdin), `${name}: the token travels only on secret stdin`);
    assert.equal(String((install.stdin as { value: string }).value).split("\n")[0], key, `${name}'s token`);
    assert.ok(!install.create.includes(key));
    const deps = rec.named(`prod-smoke-${name}-install`).options.dependencies as string[];
    assert.ok(deps.some((u) => u.endsWith(`::prod-${name}-deploy-deploy`)) && deps.some((u) => u.endsWith("::prod-deploy-certificate")), `${name}: after its deploy and the certificate`);
  }
  const gateway = rec.named("prod-smoke-install").inputs as { create: string; stdin: { value: string } };
  assert.match(input(gateway.create, "SERVICE_B64"), /^Environment=SMOKE_URL=https:\/\/mcp\.example\.com$/m);
  assert.doesNotMatch(input(gateway.create, "SERVICE_B64"), /SMOKE_SERVER/);
  assert.equal(gateway.stdin.value.split("\n")[0], KEY_ALL, "the gateway's timer keeps the token it was given");
});
