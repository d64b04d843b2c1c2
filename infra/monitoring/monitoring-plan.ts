// Everything the monitoring stack puts on the droplet, rendered from plain values (pure, no Pulumi): the non-secret
// files (prometheus.yml, the alert rules, three systemd drop-ins), the install script (they travel inside it, base64)
// and the uninstall script, plus monitoringStdin(): the Alertmanager configuration, which holds the receivers'
// secrets and therefore travels only on the install command's stdin.
import { remoteScript } from "../render/remote-script.ts";
import { renderAlertRules } from "./alert-rules.ts";
import { renderAlertmanagerConfig } from "./alertmanager-config.ts";
import { DAEMONS, daemonFiles, renderDropIn, type DaemonName } from "./daemons.ts";
import { renderPrometheusConfig, SERVER_JOB, GATEWAY_JOB } from "./prometheus-config.ts";
import { resolveMonitoringOptions, type MonitoringOptions, type MonitoringSecrets, type ResolvedMonitoringOptions } from "./stack-options.ts";

const ORDER: DaemonName[] = ["prometheus", "alertmanager", "node-exporter"];

export interface MonitoringPlan {
  options: ResolvedMonitoringOptions;
  files: { "prometheus.yml": string; "alerts.yml": string; dropIns: Record<DaemonName, string> };
  /** Paths on the host. */
  paths: ReturnType<typeof daemonFiles> & { dropIns: Record<DaemonName, string> };
  /** Loopback URLs of the UIs / APIs (reach them with `ssh -L`). */
  urls: { prometheus: string; alertmanager: string; nodeExporter: string };
  /** bash (remoteCommand-wrapped) run as root: reads monitoringStdin() and installs / updates the stack. */
  install: string;
  /** bash (remoteCommand-wrapped) run as root: stops the daemons and removes configuration and data. */
  uninstall: string;
}

/** The alert rules with the server job of prometheus.yml (thresholds from the options). */
export function monitoringRules(o: ResolvedMonitoringOptions): string {
  return renderAlertRules({ ...o.thresholds, job: SERVER_JOB, ...(o.servers ? { perServer: true, gatewayJob: GATEWAY_JOB } : {}) });
}

export function renderMonitoringPlan(options: MonitoringOptions): MonitoringPlan {
  const o = resolveMonitoringOptions(options);
  const paths = daemonFiles(o);
  const dropIns = Object.fromEntries(ORDER.map((d) => [d, renderDropIn(d, o, paths)])) as Record<DaemonName, string>;
  const dropInPaths = Object.fromEntries(ORDER.map((d) => [d, `${o.unitDir}/${DAEMONS[d].unit}.service.d/selfhosted-mcp.conf`])) as Record<DaemonName, string>;
  // rule_files is relative: Prometheus (and promtool) resolve it next to prometheus.yml.
  const files = { "prometheus.yml": renderPrometheusConfig(o, { rulesFile: "alerts.yml" }), "alerts.yml": monitoringRules(o), dropIns };
  const urls = {
    prometheus: `http://127.0.0.1:${o.prometheusPort}/`, alertmanager: `http://127.0.0.1:${o.alertmanagerPort}/`,
    nodeExporter: `http://127.0.0.1:${o.nodeExporterPort}/metrics`,
  };
  const b64 = (t: string) => Buffer.from(t).toString("base64");
  const units = ORDER.map((d) => DAEMONS[d].unit).join(" ");
  const install = remoteScript("monitoring-install", {
    PACKAGES: ORDER.map((d) => DAEMONS[d].pkg).join(" "), UNITS: units,
    CONFIG_DIR: o.configDir, PROMETHEUS_DATA: paths.prometheusData, ALERTMANAGER_DATA: paths.alertmanagerData,
    TEXTFILE_DIR: o.textfileDir, UNIT_DIR: o.unitDir,
    READY_URLS: [`${urls.prometheus}-/ready`, `${urls.alertmanager}-/ready`, urls.nodeExporter].join(" "), READY_TIMEOUT_SECONDS: 120,
    PROMETHEUS_YML_B64: b64(files["prometheus.yml"]), RULES_B64: b64(files["alerts.yml"]),
    DROPINS_B64: ORDER.map((d) => b64(dropIns[d])).join(" "),
  });
  const uninstall = remoteScript("monitoring-uninstall", { UNITS: units, CONFIG_DIR: o.configDir, DATA_DIR: o.dataDir, UNIT_DIR: o.unitDir });
  return { options: o, files, paths: { ...paths, dropIns: dropInPaths }, urls, install, uninstall };
}

/** The install command's stdin: the Alertmanager configuration (with secrets), base64 on one line. */
export function monitoringStdin(o: ResolvedMonitoringOptions, secrets: MonitoringSecrets): string {
  return `${Buffer.from(renderAlertmanagerConfig(o, secrets)).toString("base64")}\n`;
}
