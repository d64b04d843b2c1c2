// Public API of the selfhosted-mcp package: the Pulumi components, the stack config loader, and the pure renderers
// (cloud-config, remote scripts, nginx site, run contract) they are built from.
export { SelfHostedMcp, type SelfHostedMcpArgs } from "./components/selfhosted-mcp.ts";
export { McpHost, validateHostArgs, recordName, REQUIRED_HOST_COMMANDS, type McpHostArgs, type Connection } from "./components/host.ts";
export { McpImage, type McpImageArgs, type McpImageBuild, type ExternalRegistry, type DocrRegistry } from "./components/image.ts";
export { McpDeployment, type McpDeploymentArgs } from "./components/deployment.ts";
export {
  loadStackConfig, validateStackSettings, StackSettingsSchema, StackConfigError, fixCommand, SECRET_KEYS, MANAGED_ENV,
  type StackConfig, type StackSettings, type StackSecrets, type ConfigIssue,
} from "../examples/stack/config.ts";
export { renderCloudInit, HOST_PACKAGES, type CloudInitOptions } from "./render/cloud-init.ts";
export { pickDropletSize, findDropletSize, requiredMemoryMb, swapMbFor, DROPLET_SIZES, HOST_OVERHEAD_MB, type DropletSize, type MemoryBudget } from "./render/droplet-size.ts";
export { renderScript, remoteCommand, remoteScript, type ScriptName, type ScriptInputs } from "./render/remote-script.ts";
export {
  renderDeploymentPlan, renderEnvFile, slotPortsOf, PLAIN_FILES, SECRET_FILES, SLOTS,
  type DeploymentPlan, type DeploymentPlanOptions, type StagedFile, type Slot,
} from "./render/deployment-plan.ts";
export { renderDockerConfig, credentialsFromDockerConfig, registryHost } from "./render/docker-config.ts";
export * from "../contract/run-contract.ts";
export * from "../contract/image-build.ts";
export {
  renderNginxConfig, renderUpstreamInclude, upstreamIncludePath, renderCertbotIssueScript, renderDeployHook,
  renderRenewalUnits, type SiteOptionsInput,
} from "../nginx/index.ts";
export { McpMonitoring, type McpMonitoringArgs } from "./monitoring/do-monitoring.ts";
export { resolveMonitoringSettings, MonitoringSettingsError, type McpMonitoringSettings } from "./monitoring/do-alert-plan.ts";
export { renderAlertRules, alertRules, AlertRuleOptionsError, type AlertRuleOptions, type AlertRule } from "./monitoring/alert-rules.ts";
export { McpSmokeTimer, type McpSmokeTimerArgs } from "./monitoring/smoke-timer-component.ts";
export { renderSmokeTimer, smokeTimerStdin, SmokeTimerOptionsError, type SmokeTimerOptions, type SmokeTimer } from "./monitoring/smoke-timer.ts";
export { bundleSmokeCli } from "./monitoring/smoke-bundle.ts";
export { runSmoke, type SmokeOptions, type SmokeReport, type CheckResult } from "../smoke/run.ts";
export { formatReport } from "../smoke/report.ts";
export { SMOKE_META_KEY, smokeMeta, type SmokeExample, type FieldThreshold } from "../contract/smoke-example.ts";
export { McpMonitoringStack, type McpMonitoringStackArgs } from "./monitoring/monitoring-stack.ts";
export { renderMonitoringPlan, monitoringStdin, monitoringRules, type MonitoringPlan } from "./monitoring/monitoring-plan.ts";
export { resolveMonitoringOptions, requiredSecrets, MonitoringOptionsError, type MonitoringOptions, type MonitoringSecrets } from "./monitoring/stack-options.ts";
export { renderPrometheusConfig } from "./monitoring/prometheus-config.ts";
export { renderAlertmanagerConfig } from "./monitoring/alertmanager-config.ts";
export { renderGrafanaDashboard } from "./monitoring/grafana-dashboard.ts";
export { loadMonitoringConfig, validateMonitoringSettings, type StackContext } from "../examples/stack/monitoring-config.ts";
