// Public API of the selfhosted-mcp package: the Pulumi components, the stack config loader, and the pure renderers
// (cloud-config, remote scripts, nginx site, run contract) they are built from.
export { SelfHostedMcp, type SelfHostedMcpArgs } from "./components/selfhosted-mcp.ts";
export { McpHost, validateHostArgs, recordName, REQUIRED_HOST_COMMANDS, type McpHostArgs, type Connection } from "./components/host.ts";
export { McpImage, type McpImageArgs, type McpImageBuild, type ExternalRegistry, type DocrRegistry } from "./components/image.ts";
export { McpDeployment, type McpDeploymentArgs } from "./components/deployment.ts";
export {
  loadStackConfig, validateStackSettings, StackSettingsSchema, StackConfigError, fixCommand, SECRET_KEYS, MANAGED_ENV,
  type StackConfig, type StackSettings, type StackSecrets, type ConfigIssue,
} from "./config.ts";
export { renderCloudInit, HOST_PACKAGES, type CloudInitOptions } from "./render/cloud-init.ts";
export { pickDropletSize, findDropletSize, requiredMemoryMb, swapMbFor, DROPLET_SIZES, HOST_OVERHEAD_MB, type DropletSize, type MemoryBudget } from "./render/droplet-size.ts";
export { renderScript, remoteCommand, remoteScript, type ScriptName, type ScriptInputs } from "./render/remote-script.ts";
export {
  renderDeploymentPlan, renderEnvFile, slotPortsOf, PLAIN_FILES, SECRET_FILES, SLOTS,
  type DeploymentPlan, type DeploymentPlanOptions, type StagedFile, type Slot,
} from "./render/deployment-plan.ts";
export { renderDockerConfig, credentialsFromDockerConfig, registryHost } from "./render/docker-config.ts";
export * from "./contract/run-contract.ts";
export * from "./contract/image-build.ts";
export {
  renderNginxConfig, renderUpstreamInclude, upstreamIncludePath, renderCertbotIssueScript, renderDeployHook,
  renderRenewalUnits, type SiteOptionsInput,
} from "../nginx/index.ts";
