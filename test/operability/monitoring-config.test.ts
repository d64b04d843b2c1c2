// The on-droplet monitoring stack's rendered files under the real programs that consume them: promtool check config
// (with the rules next to it), amtool check-config (all four receivers), shellcheck on the remote scripts, and the
// install script run for real (bash, as root, packages present, no systemd) under a temp root: files and modes,
// the secret only from stdin, and a bad configuration rejected with the old one left in place. Bad options name
// the option.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../support/proc.ts";
import { renderMonitoringPlan, monitoringStdin } from "../../infra/monitoring/monitoring-plan.ts";
import { renderAlertmanagerConfig } from "../../infra/monitoring/alertmanager-config.ts";
import { resolveMonitoringOptions, type MonitoringOptions, type MonitoringSecrets } from "../../infra/monitoring/stack-options.ts";
import { InvalidArgsError } from "../../contract/args-error.ts";
import { slotPortsOf } from "../../infra/render/deployment-plan.ts";

const dir = mkdtempSync(join(tmpdir(), "monitoring-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRETS: MonitoringSecrets = {
  smtpPassword: "smtp-pass-Zq81", slackWebhookUrl: "https://hooks.slack.test/services/T0/B0/sl4ck-s3cret",
  webhookUrl: "https://alerts.example.test/hook?token=w3bh00k-s3cret", pagerdutyRoutingKey: "0123456789abcdef0123456789abcdef",
};
const ALL_RECEIVERS: MonitoringOptions["receivers"] = {
  email: { to: ["ops@example.test", "oncall@example.test"], from: "mcp@example.test", smarthost: "smtp.example.test:587", username: "mcp" },
  slack: { channel: "#ops" }, webhook: {}, pagerduty: {},
};
const opts = (over: Partial<MonitoringOptions> = {}): MonitoringOptions => ({ app: "mcp", receivers: ALL_RECEIVERS, ...over });

function stageFiles(name: string, files: Record<string, string>): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
}

test("prometheus.yml passes promtool check config and loads the package's 9 rules; both slots and node_exporter are scraped on loopback", async () => {
  const plan = renderMonitoringPlan(opts({ thresholds: { latencySlaSeconds: 4, errorRatio: 0.1 } }));
  const d = stageFiles("prom", { "prometheus.yml": plan.files["prometheus.yml"], "alerts.yml": plan.files["alerts.yml"] });
  const r = await run("promtool", ["check", "config", join(d, "prometheus.yml")]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /SUCCESS: 9 rules found/);
  const slots = slotPortsOf({ port: 8000, metricsPort: 9090 });
  for (const t of [`127.0.0.1:${slots.blue.metricsPort}`, `127.0.0.1:${slots.green.metricsPort}`, "127.0.0.1:9100", "127.0.0.1:9193"]) {
    assert.ok(plan.files["prometheus.yml"].includes(`- ${t}`), `scrapes ${t}`);
  }
  assert.match(plan.files["alerts.yml"], /\) > 4\n/, "latency SLA from the options");
  assert.match(plan.files["alerts.yml"], /> 0\.1\n/, "error ratio from the options");
});

test("alertmanager.yml with e-mail, Slack, webhook and PagerDuty passes amtool check-config", async () => {
  const d = stageFiles("am", { "alertmanager.yml": renderAlertmanagerConfig(resolveMonitoringOptions(opts()), SECRETS) });
  const r = await run("amtool", ["check-config", join(d, "alertmanager.yml")]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Found:\n(.|\n)*- 5 receivers/);
  // A broken file fails: the check can fail.
  writeFileSync(join(d, "broken.yml"), renderAlertmanagerConfig(resolveMonitoringOptions(opts()), SECRETS).replace("receiver: email", "receiver: nobody"));
  assert.notEqual((await run("amtool", ["check-config", join(d, "broken.yml")])).code, 0);
});

test("the remote scripts pass shellcheck and carry no secret; every daemon listens on 127.0.0.1 with bounded memory", async () => {
  const plan = renderMonitoringPlan(opts());
  // The bash inside the sh wrapper (between the heredoc lines), checked as bash.
  const inner = (command: string) => command.split("\n").slice(4, -3).join("\n");
  for (const [name, text] of [["install", plan.install], ["uninstall", plan.uninstall]] as const) {
    assert.match(inner(text), /^#!\/usr\/bin\/env bash\n/);
    const f = join(dir, `${name}.sh`);
    writeFileSync(f, inner(text));
    const r = await run("shellcheck", ["-s", "bash", f]);
    assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
    for (const s of Object.values(SECRETS)) assert.ok(!text.includes(s) && !text.includes(Buffer.from(s).toString("base64")), `${name} holds no secret`);
  }
  for (const [daemon, dropIn] of Object.entries(plan.files.dropIns)) {
    assert.match(dropIn, /^ExecStart=\n/m, daemon);
    assert.match(dropIn, /--web\.listen-address=127\.0\.0\.1:\d+/, daemon);
    assert.match(dropIn, /^MemoryMax=\d+M$/m, daemon);
    assert.match(dropIn, /^Environment=GOMEMLIMIT=\d+MiB$/m, daemon);
  }
  assert.match(plan.files.dropIns.alertmanager, / --cluster\.listen-address=$/m, "HA gossip (0.0.0.0:9094 by default) is off");
  assert.match(plan.files.dropIns.prometheus, /--storage\.tsdb\.retention\.size=512MB/);
});

/** Runs the install script as the Command would (sh wrapper, stdin), but under a temp root and without systemd. */
async function install(root: string, stdin: string, over: Partial<MonitoringOptions> = {}) {
  const plan = renderMonitoringPlan(opts({
    configDir: join(root, "etc"), dataDir: join(root, "data"), unitDir: join(root, "units"), textfileDir: join(root, "textfile"), ...over,
  }));
  return { plan, r: await run("sh", ["-c", plan.install], { input: stdin, timeoutMs: 60_000 }) };
}

test("the install script writes every file (Alertmanager's 0600 for its user only, from stdin), and rejects a bad update keeping the old files", async () => {
  if (process.getuid?.() !== 0) assert.fail("runs as root (the script chowns to the prometheus user, as on the droplet)");
  const root = join(dir, "host");
  const o = resolveMonitoringOptions(opts());
  const { plan, r } = await install(root, monitoringStdin(o, SECRETS));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /configuration validated \(promtool, amtool\)/);
  const am = join(root, "etc", "alertmanager.yml");
  assert.equal(statSync(am).mode & 0o777, 0o600);
  const pw = (await run("id", ["-u", "prometheus"])).stdout.trim();
  assert.equal(String(statSync(am).uid), pw, "owned by the daemons' user");
  assert.ok(readFileSync(am, "utf8").includes(SECRETS.smtpPassword!));
  assert.equal(readFileSync(join(root, "etc", "prometheus.yml"), "utf8"), plan.files["prometheus.yml"]);
  assert.equal(readFileSync(join(root, "units", "prometheus.service.d", "selfhosted-mcp.conf"), "utf8"), plan.files.dropIns.prometheus);
  assert.ok(existsSync(join(root, "data", "prometheus")) && existsSync(join(root, "data", "alertmanager")));
  for (const s of Object.values(SECRETS)) assert.ok(!(r.stdout + r.stderr).includes(s), "no secret in the script's output");

  // An update whose Alertmanager config does not validate: rejected before anything is replaced.
  const bad = `${Buffer.from("route:\n  receiver: nobody\nreceivers: []\n").toString("base64")}\n`;
  const again = await install(root, bad, { thresholds: { latencySlaSeconds: 3 } });
  assert.notEqual(again.r.code, 0);
  assert.match(again.r.stderr, /alertmanager\.yml does not validate .*the running stack is unchanged/);
  assert.ok(readFileSync(am, "utf8").includes(SECRETS.smtpPassword!), "old Alertmanager config kept");
  assert.equal(readFileSync(join(root, "etc", "alerts.yml"), "utf8"), plan.files["alerts.yml"], "old rules kept");

  const empty = await install(root, "");
  assert.notEqual(empty.r.code, 0);
  assert.match(empty.r.stderr, /expected the Alertmanager configuration/);

  const u = await run("sh", ["-c", plan.uninstall], { timeoutMs: 30_000 });
  assert.equal(u.code, 0, u.stdout + u.stderr);
  assert.ok(!existsSync(am) && !existsSync(join(root, "data")) && !existsSync(join(root, "units", "prometheus.service.d")));
});

test("bad options and missing secrets fail naming the key, never echoing a secret", () => {
  const bad: [MonitoringOptions, RegExp][] = [
    [opts({ receivers: {} }), /monitoring receivers: no alert receiver/],
    [opts({ prometheusPort: 9091 }), /prometheusPort: prometheusPort 9091 clashes with metricsPort\+1 \(green slot\)/],
    [opts({ nodeExporterPort: 22 }), /nodeExporterPort 22 clashes with SSH/],
    [opts({ receivers: { email: { to: ["not-an-address"], from: "a@b.test", smarthost: "smtp:25" } } }), /monitoring receivers\.email\.to\[0\]: email\.to entries must be e-mail addresses/],
    [opts({ receivers: { email: { to: ["a@b.test"], from: "a@b.test", smarthost: "smtp.example.test" } } }), /smarthost must be host:port/],
    [opts({ retentionSize: "1T" }), /retentionSize must be a size like "512MB"/],
    [opts({ prometheusMemoryMb: 16 }), /prometheusMemoryMb must be at least 64/],
    [opts({ thresholds: { errorRatio: 5 } }), /monitoring thresholds\.errorRatio: errorRatio is a share between 0 and 1/],
    [opts({ scrapeInterval: "often" }), /scrapeInterval must be a duration/],
  ];
  for (const [o, msg] of bad) assert.throws(() => renderMonitoringPlan(o), (e: Error) => e instanceof InvalidArgsError && msg.test(e.message), JSON.stringify(o));
  const o = resolveMonitoringOptions(opts());
  assert.throws(() => renderAlertmanagerConfig(o, { ...SECRETS, slackWebhookUrl: undefined, pagerdutyRoutingKey: "" }),
    /monitoring secrets\.slackWebhookUrl: is missing: receivers\.slack needs it[^]*\nmonitoring secrets\.pagerdutyRoutingKey: is missing: receivers\.pagerduty needs it/);
  assert.throws(() => renderAlertmanagerConfig(o, { ...SECRETS, webhookUrl: "ftp://w3bh00k-s3cret" }),
    (e: Error) => /webhookUrl must be an http\(s\) URL/.test(e.message) && !e.message.includes("w3bh00k"));
});
