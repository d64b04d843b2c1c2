// `selfhosted-mcp/render`: the pure renderers under the components, for stacks that compose their own (no Pulumi
// imports here: each takes plain values and returns text or argument lists).
export { renderCloudInit, HOST_PACKAGES, type CloudInitOptions } from "./cloud-init.ts";
export {
  pickDropletSize, findDropletSize, requiredMemoryMb, swapMbFor, DROPLET_SIZES, HOST_OVERHEAD_MB, type DropletSize, type ContainerResources,
} from "./droplet-size.ts";
export { renderScript, remoteCommand, remoteScript, type ScriptName, type ScriptInputs } from "./remote-script.ts";
export {
  renderDeploymentPlan, renderEnvFile, slotPortsOf, PLAIN_FILES, SECRET_FILES, SLOTS,
  type DeploymentPlan, type DeploymentPlanOptions, type StagedFile, type Slot,
} from "./deployment-plan.ts";
export { renderDockerConfig, credentialsFromDockerConfig, registryHost } from "./docker-config.ts";
