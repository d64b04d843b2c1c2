// `selfhosted-mcp/monitoring`: alert rules, DigitalOcean alert policies, the on-droplet Prometheus/Alertmanager
// stack's renderers and the smoke timer's (docs/operability.md). The components themselves are root exports.
export { resolveMonitoringSettings, type McpMonitoringSettings } from "./do-alert-plan.ts";
export { renderAlertRules, alertRules, type AlertRuleOptions, type AlertRule } from "./alert-rules.ts";
export { renderSmokeTimer, smokeTimerStdin, type SmokeTimerOptions, type SmokeTimer } from "./smoke-timer.ts";
export { bundleSmokeCli } from "./smoke-bundle.ts";
export { renderMonitoringPlan, monitoringStdin, monitoringRules, type MonitoringPlan } from "./monitoring-plan.ts";
export { resolveMonitoringOptions, requiredSecrets, type MonitoringOptions, type MonitoringSecrets } from "./stack-options.ts";
export { renderPrometheusConfig } from "./prometheus-config.ts";
export { renderAlertmanagerConfig } from "./alertmanager-config.ts";
export { renderGrafanaDashboard } from "./grafana-dashboard.ts";
