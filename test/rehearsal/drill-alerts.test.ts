// The alert drill's own rules (rehearsal/drill-alerts.ts) against what the real programs print: which notification
// counts for which alert and channel (Alertmanager's webhook JSON v4; its e-mail subject "[FIRING:n] <alertname> …"
// and the SMTP AUTH user), each alert's bound from the drill's timings, and the checks of the stack on the droplet
// over `ss -Htlnp`, `stat` and `systemctl show` output captured from a rehearsed droplet (Debian bookworm).
import { test } from "node:test";
import assert from "node:assert/strict";
import { channelsOf, boundMs, checkStackOnDroplet, DRILL_ALERTS } from "../../rehearsal/drill-alerts.ts";

const at = 1_000_000;
const hook = (alertname: string, status: string, when = at, labels: Record<string, string> = {}) =>
  ({ path: "/webhook", at: when, body: { alerts: [{ status, labels: { alertname, ...labels } }] } });
const mail = (subject: string, authUser?: string, when = at) => ({ subject, at: when, ...(authUser ? { authUser } : {}) });
const drift = "McpUpstreamSchemaDrift";

test("channelsOf: when a webhook alert and an authenticated e-mail with the status first arrived, at or after `since`", () => {
  const got = { http: [hook(drift, "firing", at + 5), hook(drift, "firing", at + 9)], smtp: [mail(`[FIRING:1] ${drift} mcp 127.0.0.1:9090 (selfhosted-mcp critical blue)`, "alerts", at + 7)], smtpAuthFailures: 0 };
  assert.deepEqual(channelsOf(got, drift, "firing", at), { webhook: at + 5, email: at + 7 });
  assert.deepEqual(channelsOf(got, drift, "firing", at + 6), { webhook: at + 9, email: at + 7 });
  assert.deepEqual(channelsOf(got, drift, "resolved", at), { webhook: undefined, email: undefined });
  assert.deepEqual(channelsOf(got, drift, "firing", at + 10), { webhook: undefined, email: undefined }, "older than `since`");
  assert.deepEqual(channelsOf(got, "McpContainerRestarting", "firing", at), { webhook: undefined, email: undefined });
  const unauthenticated = { ...got, smtp: [mail(`[FIRING:1] ${drift} mcp`)] };
  assert.equal(channelsOf(unauthenticated, drift, "firing", at).email, undefined, "an e-mail sent without the secret password does not count");
});

test("channelsOf: a per-tool alert counts only for the drill's tool (search_notes may be slow under TCG by itself)", () => {
  const got = {
    http: [hook("McpToolLatencyHigh", "firing", at, { tool: "search_notes" }), hook("McpToolLatencyHigh", "resolved", at + 3, { tool: "get_forecast" })],
    smtp: [mail("[FIRING:1] McpToolLatencyHigh search_notes (warning)", "alerts"), mail("[RESOLVED] McpToolLatencyHigh get_forecast (warning)", "alerts", at + 4)],
    smtpAuthFailures: 0,
  };
  assert.deepEqual(channelsOf(got, "McpToolLatencyHigh", "firing", at), { webhook: undefined, email: undefined });
  assert.deepEqual(channelsOf(got, "McpToolLatencyHigh", "resolved", at), { webhook: at + 3, email: at + 4 });
});

test("boundMs: the pipeline's four 2 s intervals plus the TCG margin; resolving adds the rule's window", () => {
  assert.equal(boundMs("McpToolErrorRatioHigh", "firing"), 8_000 + 120_000);
  assert.equal(boundMs("McpToolErrorRatioHigh", "resolved"), 30_000 + 8_000 + 120_000);
  assert.equal(boundMs("McpContainerRestarting", "resolved"), 180_000 + 8_000 + 120_000);
  assert.equal(boundMs("McpHealthCheckFailing", "resolved"), 8_000 + 120_000, "a gauge: no window");
  assert.equal(Object.keys(DRILL_ALERTS).length, 5);
});

// Captured on a rehearsed droplet after `--drill alerts` (trimmed to the daemons, nginx and sshd).
const SS = [
  'LISTEN 0      511      0.0.0.0:80    0.0.0.0:* users:(("nginx",pid=2197,fd=13))',
  'LISTEN 0      4096   127.0.0.1:9190  0.0.0.0:* users:(("prometheus",pid=1646,fd=7))',
  'LISTEN 0      4096   127.0.0.1:9193  0.0.0.0:* users:(("prometheus-aler",pid=1721,fd=3))',
  'LISTEN 0      511    127.0.0.1:9090  0.0.0.0:* users:(("MainThread",pid=1999,fd=29))',
  'LISTEN 0      4096   127.0.0.1:9100  0.0.0.0:* users:(("prometheus-node",pid=1815,fd=3))',
  'LISTEN 0      128      0.0.0.0:42713 0.0.0.0:* users:(("sshd",pid=779,fd=3))',
].join("\n");
const SHOW = "MemoryCurrent=53325824\nId=prometheus.service\n\nMemoryCurrent=32432128\nId=prometheus-alertmanager.service\n\nMemoryCurrent=21897216\nId=prometheus-node-exporter.service";
const fake = (over: Partial<Record<"ss" | "stat" | "show", string>> = {}) => async (cmd: string) =>
  cmd.includes(" ss ") ? over.ss ?? SS : cmd.includes(" stat ") ? over.stat ?? "600 prometheus" : cmd.includes(" systemctl show ") ? over.show ?? SHOW : "";

test("checkStackOnDroplet: loopback listeners, a 0600 Alertmanager config, memory under each MemoryMax", async () => {
  assert.deepEqual(await checkStackOnDroplet(fake()), { prometheus: 51, alertmanager: 31, "node-exporter": 21 });
  await assert.rejects(checkStackOnDroplet(fake({ ss: SS.replace("127.0.0.1:9193", "0.0.0.0:9193") })), /listen beyond loopback:\n.*prometheus-aler/);
  await assert.rejects(checkStackOnDroplet(fake({ ss: SS.split("\n").slice(0, 2).join("\n") })), /expected the three monitoring daemons to listen/);
  await assert.rejects(checkStackOnDroplet(fake({ stat: "644 root" })), /alertmanager\.yml \(the receivers' secrets\) is "644 root", not "600 prometheus"/);
  await assert.rejects(checkStackOnDroplet(fake({ show: SHOW.replace("32432128", String(70 * 2 ** 20)) })), /alertmanager uses 70 MiB, not under its MemoryMax of 64 MiB/);
});
