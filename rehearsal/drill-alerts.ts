// `npm run rehearse -- --drill alerts` (issue 16): the on-droplet alerting proven on the rehearsed droplet. The
// instance is deployed (or updated) with the monitoring stack on — Alertmanager delivering to the rehearsal services'
// HTTP receiver (generic webhook, a secret URL) and SMTP server (e-mail with AUTH, a secret password), the smoke timer
// installed, a 1 s latency SLA and short `alertTimings` (DRILL_TIMINGS) — then every alert condition is made true the
// way production would see it: the live container restarted twice, the upstream down (three smoke runs of the
// droplet's own timer unit fail, tool calls fail), the upstream drifted, the upstream slow. Each alert must arrive on
// both channels within its bound (boundMs); after recovery each must arrive resolved. What arrived is read from the
// receiver's `GET /__received`. Single-server instances (the drill's conditions target the one server).
import { modeUrl, type StubMode } from "../test/support/upstream-stub.ts";
import { sleep, waitFor } from "../test/support/proc.ts";
import { rehearse, type RehearsalOptions, type RehearsalResult } from "./rehearsal.ts";
import { openPublic } from "./observe.ts";
import type { ServicesInfo } from "./services.ts";
import { monitoringOptionsObject } from "../infra/monitoring/stack-options.ts";
import { DAEMONS, daemonFiles } from "../infra/monitoring/daemons.ts";
import { durationMs } from "../infra/monitoring/prometheus-config.ts";

/** The drill's timings (stack config alertTimings): seconds instead of minutes, so one drill takes minutes. */
export const DRILL_TIMINGS = {
  scrapeInterval: "2s", evaluationInterval: "2s", groupWait: "2s", groupInterval: "2s", repeatInterval: "1h",
  rateWindow: "30s", driftWindow: "30s", restartWindow: "3m", errorRatioFor: "0s", latencyFor: "0s", smokeFailingFor: "0s",
};
/**
 * The alerts the drill fires: the rule's window that keeps each true after its condition ended (none for a gauge),
 * and for the per-tool rules the tool the drill's calls use (search_notes may be over the 1 s SLA under TCG by itself).
 */
export const DRILL_ALERTS: Record<string, { window: string; tool?: string }> = {
  McpContainerRestarting: { window: DRILL_TIMINGS.restartWindow }, McpHealthCheckFailing: { window: "0s" },
  McpToolErrorRatioHigh: { window: DRILL_TIMINGS.rateWindow, tool: "get_forecast" },
  McpUpstreamSchemaDrift: { window: DRILL_TIMINGS.driftWindow }, McpToolLatencyHigh: { window: DRILL_TIMINGS.rateWindow, tool: "get_forecast" },
};
/** Added to every alert's pipeline bound: the TCG droplet's scheduling delays (Prometheus, Alertmanager, the smoke runs). */
const TCG_MARGIN_MS = 120_000;
const PROMETHEUS = `http://127.0.0.1:${monitoringOptionsObject.shape.prometheusPort.parse(undefined)}`;

/** The stack config that turns the drill on, given where the rehearsal's services run (tunnelled into the guest). */
export function drillSettings(services: ServicesInfo): { config: Record<string, string | string[]>; secrets: Record<string, string> } {
  const a = services.alerts;
  return {
    config: {
      alertEmails: ["oncall@example.test"], alertSmtpSmarthost: `127.0.0.1:${a.smtpPort}`,
      alertSmtpFrom: "alerts@example.test", alertSmtpUsername: a.smtpUsername, alertSmtpRequireTls: "false",
      latencySlaSeconds: "1", smokeTimer: "true", alertTimings: JSON.stringify(DRILL_TIMINGS),
    },
    secrets: { alertSmtpPassword: a.smtpPassword, alertWebhookUrl: `${a.receiverUrl}/webhook` },
  };
}

type Status = "firing" | "resolved";
interface Arrived { http: { path: string; body: { alerts?: { status: string; labels: Record<string, string> }[] }; at: number }[]; smtp: { subject: string; at: number; authUser?: string }[]; smtpAuthFailures: number }

/**
 * When `name` (its drill tool, if any) first arrived with `status` at or after `since`: on the webhook (Alertmanager's
 * JSON v4) and by e-mail ("[FIRING:n] <alertname> <labels>", sent with the SMTP AUTH of the secret password); absent
 * when it did not.
 */
export function channelsOf(got: Arrived, name: string, status: Status, since: number): { webhook?: number; email?: number } {
  const tool = DRILL_ALERTS[name]?.tool;
  const first = (ats: number[]) => (ats.length ? Math.min(...ats) : undefined);
  return {
    webhook: first(got.http.filter((r) => r.at >= since && r.path === "/webhook" && (r.body.alerts ?? [])
      .some((a) => a.labels.alertname === name && a.status === status && (!tool || a.labels.tool === tool))).map((r) => r.at)),
    email: first(got.smtp.filter((m) => m.at >= since && m.subject.startsWith(`[${status.toUpperCase()}`) && m.subject.includes(`${name} `)
      && (!tool || m.subject.includes(` ${tool} `)) && m.authUser !== undefined).map((m) => m.at)),
  };
}

/**
 * One alert's bound: firing needs the condition scraped, evaluated and true for its `for:` (0s here), then the group's
 * group_wait or group_interval; resolving needs the rule's window of samples to age out first. Plus TCG_MARGIN_MS.
 */
export function boundMs(name: string, status: Status): number {
  const t = DRILL_TIMINGS;
  const pipeline = [t.scrapeInterval, t.evaluationInterval, t.groupWait, t.groupInterval].reduce((s, d) => s + durationMs(d), 0);
  return (status === "resolved" ? durationMs(DRILL_ALERTS[name]!.window) : 0) + pipeline + TCG_MARGIN_MS;
}

export interface DrillResult {
  rehearsal: RehearsalResult;
  /** Milliseconds from each condition (its recovery) to its notification on both channels. */
  fired: Record<string, number>; resolved: Record<string, number>;
  /** Each daemon's memory on the droplet after the drill (its unit's cgroup MemoryCurrent), MiB. */
  memoryMb: Record<string, number>;
}

/**
 * What the drill checks of the stack itself on the droplet, throwing on the first violation: every daemon listens on
 * 127.0.0.1 only; the Alertmanager configuration (the receivers' secrets) is mode 0600, owned by its daemon's user;
 * each daemon's memory is under its MemoryMax. Returns the memory (MiB).
 */
export async function checkStackOnDroplet(sh: (cmd: string) => Promise<string>): Promise<Record<string, number>> {
  const o = monitoringOptionsObject.parse({ app: "mcp", receivers: {} });
  const listening = (await sh("sudo -n ss -Htlnp")).split("\n").filter((l) => /prometheus|alertmanager|node_exporter/.test(l));
  if (listening.length < 3) throw new Error(`expected the three monitoring daemons to listen:\n${listening.join("\n")}`);
  const open = listening.filter((l) => !/^127\.0\.0\.1:\d+$/.test(l.split(/\s+/)[3] ?? ""));
  if (open.length) throw new Error(`monitoring daemons listen beyond loopback:\n${open.join("\n")}`);
  const am = daemonFiles(o).alertmanagerConfig;
  const mode = await sh(`sudo -n stat -c '%a %U' ${am}`);
  if (mode !== "600 prometheus") throw new Error(`${am} (the receivers' secrets) is "${mode}", not "600 prometheus"`);
  const units = Object.values(DAEMONS).map((x) => `${x.unit}.service`);
  // One block per unit (blank-line separated) of KEY=VALUE lines.
  const shown = (await sh(`sudo -n systemctl show -p Id -p MemoryCurrent ${units.join(" ")}`)).split(/\n\s*\n/)
    .map((b) => Object.fromEntries(b.split("\n").map((l) => l.split("=", 2) as [string, string])));
  const memoryMb: Record<string, number> = {};
  for (const [name, x] of Object.entries(DAEMONS)) {
    const mb = Math.round(Number(shown.find((p) => p.Id === `${x.unit}.service`)?.MemoryCurrent) / 2 ** 20);
    const cap = o[x.memoryKey] as number;
    if (!(mb >= 0 && mb < cap)) throw new Error(`${name} uses ${mb} MiB, not under its MemoryMax of ${cap} MiB`);
    memoryMb[name] = mb;
  }
  return memoryMb;
}

/** The drill on the instance of `o.stateDir` (its config and secrets as its other runs pass them). */
export async function drillAlerts(o: Omit<RehearsalOptions, "settingsFor">): Promise<DrillResult> {
  const log = o.log ?? (() => undefined);
  if (o.config?.servers && o.config.servers !== "[]") throw new Error("the alert drill runs on a single-server instance: this one has `servers` (rehearse one with a fresh --state-dir)");
  const r = await rehearse({ ...o, settingsFor: (s) => {
    if (!s.alerts) throw new Error("this instance's rehearsal services predate the alert drill: run `npm run rehearse -- --destroy`, then the drill");
    return drillSettings(s);
  } });
  const { vm, services } = r;
  const sh = async (cmd: string) => (await vm.sshOk(cmd, { timeoutMs: 300_000 })).stdout.trim();
  const query = async (q: string) => (JSON.parse(await sh(`curl -fsS -m 20 --get --data-urlencode 'query=${q}' ${PROMETHEUS}/api/v1/query`)) as
    { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
  const arrived = async () => (await (await fetch(`${services.alerts.receiverUrl}/__received`, { signal: AbortSignal.timeout(10_000) })).json()) as Arrived;
  const unit = (await sh("sudo -n systemctl list-unit-files --no-legend --plain 'selfhosted-mcp-smoke-*.service' | awk '{print $1}'")).split("\n")[0];
  if (!unit) throw new Error("no smoke timer unit on the droplet (stack config smokeTimer)");
  const app = unit.replace(/^selfhosted-mcp-smoke-/, "").replace(/\.service$/, "");
  const smoke = async () => (await vm.ssh(`sudo -n systemctl start ${unit}`, { timeoutMs: 300_000 })).code;
  const setUpstream = async (mode: StubMode) => { await fetch(modeUrl(services.upstreamUrl, undefined, mode), { method: "POST", signal: AbortSignal.timeout(10_000) }); };
  const startTime = async () => Math.max(0, ...(await query(`process_start_time_seconds{job="selfhosted-mcp"}`)).map((x) => Number(x.value[1])));

  await waitFor("Prometheus to scrape the live slot", async () => (await query('up{job="selfhosted-mcp"} == 1')).length >= 1, { timeoutMs: 300_000, intervalMs: 2000 });
  await setUpstream("normal");
  if (await smoke() !== 0) throw new Error(`the droplet's smoke test fails before the drill: journalctl -u ${unit}`);
  const session = await openPublic(r);
  try {
    const forecasts = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => sleep(i * 250).then(() =>
      session.mcp.client.callTool({ name: "get_forecast", arguments: { latitude: 52.52, longitude: 13.41, days: 2 } }).catch(() => undefined))));
    await forecasts(3);
    const since = Date.now();
    const t: Record<string, number> = {};
    // Restarts as Prometheus sees them: the same target answers with a new process_start_time_seconds.
    for (let i = 0; i < 2; i++) {
      const before = await waitFor("a scraped start time", async () => { const s = await startTime(); return s > 0 && s; }, { timeoutMs: 120_000, intervalMs: 2000 });
      const live = await sh(`sudo -n cat /var/lib/selfhosted-mcp/${app}/active-slot`);
      await sh(`sudo -n docker restart ${app}-${live} >/dev/null`);
      await waitFor("Prometheus to scrape the restarted server", async () => (await startTime()) > before, { timeoutMs: 300_000, intervalMs: 2000 });
    }
    t.McpContainerRestarting = Date.now();
    log("drill: container restarted twice");
    await setUpstream("down");
    for (let i = 0; i < 3; i++) if (await smoke() === 0) throw new Error("the smoke test passed while the upstream was down");
    t.McpHealthCheckFailing = Date.now();
    await forecasts(4);
    t.McpToolErrorRatioHigh = Date.now();
    await setUpstream("drifted");
    await forecasts(2);
    t.McpUpstreamSchemaDrift = Date.now();
    await setUpstream("slow");
    await forecasts(3);
    t.McpToolLatencyHigh = Date.now();
    log("drill: upstream down (3 smoke runs failed, 4 calls), drifted (2 calls), slow (3 calls)");
    const fired = await allArrive("firing", t, () => since, arrived, query);
    log(`drill: firing after (ms) ${JSON.stringify(fired)}`);

    await setUpstream("normal");
    if (await smoke() !== 0) throw new Error("the smoke test still fails after the upstream recovered");
    await forecasts(3);
    const recovered = Date.now();
    // A windowed alert may resolve before the explicit recovery (its window passed without a new failure): any
    // resolved notification after the alert's own firing one counts, within its bound from the recovery.
    const firedAt = await arrived();
    const resolved = await allArrive("resolved", Object.fromEntries(Object.keys(DRILL_ALERTS).map((n) => [n, recovered])),
      (n) => arrivalOf(channelsOf(firedAt, n, "firing", since))!, arrived, query);
    log(`drill: resolved after (ms) ${JSON.stringify(resolved)}`);
    if ((await arrived()).smtpAuthFailures > 0) throw new Error("Alertmanager failed to authenticate to the SMTP server");
    const memoryMb = await checkStackOnDroplet(sh);
    log(`drill: the stack listens on 127.0.0.1 only, alertmanager.yml is 0600; memory (MiB) ${JSON.stringify(memoryMb)}`);
    return { rehearsal: r, fired, resolved, memoryMb };
  } finally {
    await setUpstream("normal").catch(() => undefined);
    await session.close();
  }
}

/** When a notification had arrived on both channels (the later of the two), if it had. */
const arrivalOf = (c: { webhook?: number; email?: number }) => (c.webhook !== undefined && c.email !== undefined ? Math.max(c.webhook, c.email) : undefined);

/**
 * Waits until every drill alert arrived with `status` on both channels (at or after sinceOf(name)), each within its
 * bound from t[name]; returns each arrival's delay from t[name] in ms (negative: it arrived before that step ended,
 * e.g. an alert resolved once its window passed). Throws naming every alert that is missing or late.
 */
async function allArrive(status: Status, t: Record<string, number>, sinceOf: (name: string) => number, arrived: () => Promise<Arrived>,
  query: (q: string) => Promise<{ metric: Record<string, string> }[]>): Promise<Record<string, number>> {
  const names = Object.keys(DRILL_ALERTS);
  const deadline = Math.max(...names.map((n) => t[n]! + boundMs(n, status)));
  let got = await arrived();
  const pending = () => names.filter((n) => arrivalOf(channelsOf(got, n, status, sinceOf(n))) === undefined);
  while (pending().length > 0 && Date.now() < deadline) {
    await sleep(1000);
    got = await arrived();
  }
  const took = Object.fromEntries(names.flatMap((n) => { const a = arrivalOf(channelsOf(got, n, status, sinceOf(n))); return a === undefined ? [] : [[n, a - t[n]!]]; }));
  const late = names.filter((n) => took[n] === undefined || took[n]! > boundMs(n, status));
  if (late.length) {
    const firing = (await query('ALERTS{alertstate="firing"}').catch(() => [])).map((a) => a.metric.alertname);
    throw new Error(`alert drill: ${late.map((n) => { const c = channelsOf(got, n, status, sinceOf(n));
      return `${n} ${status} ${took[n] === undefined ? "never arrived" : `took ${took[n]} ms`} (bound ${boundMs(n, status)} ms; webhook ${c.webhook !== undefined}, e-mail ${c.email !== undefined})`; })
      .join("; ")}; firing in Prometheus: ${firing.join(", ") || "none"}`);
  }
  return took;
}
