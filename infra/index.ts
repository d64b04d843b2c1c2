// The package's root API (`selfhosted-mcp`): the Pulumi components, their argument types, and the renderers the
// docs describe (docs/infra.md). Everything else is a subpath export (package.json "exports"):
//   selfhosted-mcp/contract    the run contract, env and value rules, API keys, smoke-example schema (contract/)
//   selfhosted-mcp/nginx       the nginx site renderer and certificate lifecycle scripts (nginx/)
//   selfhosted-mcp/render      the lower-level renderers: droplet sizing, remote scripts, env and docker files
//   selfhosted-mcp/monitoring  alert rules, the on-droplet monitoring stack's and the smoke timer's renderers
//   selfhosted-mcp/smoke       the smoke test as a library (the CLI is `npx selfhosted-mcp smoke`)
// test/layout/public-api.test.ts snapshots these lists, so an addition is a deliberate change.
export { SelfHostedMcp, MANAGED_ENV, type SelfHostedMcpArgs, type McpServerArgs, type McpGatewayArgs } from "./components/selfhosted-mcp.ts";
export { McpHost, type McpHostArgs, type Connection } from "./components/host.ts";
export { McpImage, type McpImageArgs, type McpImageBuild, type ExternalRegistry, type DocrRegistry } from "./components/image.ts";
export { McpDeployment, type McpDeploymentArgs } from "./components/deployment.ts";
export { McpMonitoring, type McpMonitoringArgs } from "./monitoring/do-monitoring.ts";
export { McpMonitoringStack, type McpMonitoringStackArgs } from "./monitoring/monitoring-stack.ts";
export { McpSmokeTimer, type McpSmokeTimerArgs } from "./monitoring/smoke-timer-component.ts";
export { renderCloudInit, type CloudInitOptions } from "./render/cloud-init.ts";
export { renderDeploymentPlan, type DeploymentPlan, type SitelessPlan, type DeploymentPlanOptions } from "./render/deployment-plan.ts";
export { renderAlertRules, type AlertRuleOptions } from "./monitoring/alert-rules.ts";
export { renderNginxConfig, type SiteOptionsInput } from "../nginx/index.ts";
export { dockerRunArgs, type RunSpec } from "../contract/run-contract.ts";
export { InvalidArgsError, type ArgIssue } from "../contract/args-error.ts";
