// Runs the monitoring stack of a rendered plan for real on loopback: the Debian packages' prometheus,
// prometheus-alertmanager and prometheus-node-exporter binaries with exactly the flags the droplet's systemd drop-ins
// use (daemonArgs), only with the configuration and data under a temp directory. Stopped by PID.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, waitFor, type Daemon } from "./proc.ts";
import { DAEMONS, daemonArgs, goMemLimit, type DaemonName } from "../../infra/monitoring/daemons.ts";
import { monitoringStdin, type MonitoringPlan } from "../../infra/monitoring/monitoring-plan.ts";
import type { MonitoringSecrets } from "../../infra/monitoring/stack-options.ts";

export interface RunningMonitoring {
  prometheusUrl: string;
  alertmanagerUrl: string;
  daemons: Record<DaemonName, Daemon>;
  /** Instant query; resolves to the result vector (throws on a PromQL error). */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Alerts Prometheus currently has (pending or firing). */
  alerts(): Promise<{ labels: Record<string, string>; state: string }[]>;
  stop(): Promise<void>;
}

export async function startMonitoring(plan: MonitoringPlan, secrets: MonitoringSecrets, dir: string): Promise<RunningMonitoring> {
  const o = plan.options;
  const files = {
    prometheusConfig: join(dir, "prometheus.yml"), alertmanagerConfig: join(dir, "alertmanager.yml"),
    prometheusData: join(dir, "data", "prometheus"), alertmanagerData: join(dir, "data", "alertmanager"),
  };
  mkdirSync(o.textfileDir, { recursive: true });
  writeFileSync(files.prometheusConfig, plan.files["prometheus.yml"]);
  writeFileSync(join(dir, "alerts.yml"), plan.files["alerts.yml"]);
  writeFileSync(files.alertmanagerConfig, Buffer.from(monitoringStdin(o, secrets).trim(), "base64").toString("utf8"), { mode: 0o600 });
  const daemons = {} as Record<DaemonName, Daemon>;
  const stop = async () => { for (const d of Object.values(daemons).reverse()) await d.stop(); };
  try {
    for (const name of ["node-exporter", "alertmanager", "prometheus"] as DaemonName[]) {
      daemons[name] = startDaemon(DAEMONS[name].bin, daemonArgs(name, o, files), join(dir, `${name}.log`), {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", GOMEMLIMIT: goMemLimit(o[DAEMONS[name].memoryKey] as number) },
      });
    }
    for (const url of [`${plan.urls.prometheus}-/ready`, `${plan.urls.alertmanager}-/ready`, plan.urls.nodeExporter]) {
      await waitFor(url, async () => (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok, { timeoutMs: 30_000, intervalMs: 200 });
    }
    // A ready answer from a daemon that already exited came from another process on its port (picked free, taken
    // before the bind: other tests run at the same time), and this stack would be wired to that one.
    const gone = Object.entries(daemons).filter(([, d]) => !d.running()).map(([n]) => n);
    if (gone.length) throw new Error(`${gone.join(", ")} exited right after start (another process answers on its port?)`);
  } catch (e) {
    const logs = Object.entries(daemons).map(([n, d]) => `--- ${n} ---\n${d.log().slice(-2000)}`).join("\n");
    await stop();
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${plan.urls.prometheus}api/v1/${path}`, { signal: AbortSignal.timeout(5000) });
    const j = await r.json() as { status: string; data: T; error?: string };
    if (j.status !== "success") throw new Error(`Prometheus ${path}: ${j.error}`);
    return j.data;
  };
  return {
    prometheusUrl: plan.urls.prometheus, alertmanagerUrl: plan.urls.alertmanager, daemons, stop,
    query: async (expr) => (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api<{ alerts: { labels: Record<string, string>; state: string }[] }>("alerts")).alerts,
  };
}
