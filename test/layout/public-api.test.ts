// The package's public API is curated: package.json "exports" names the root and its subpaths, and this test
// snapshots every name each of them exports (values and types, read with the TypeScript compiler from the
// sources the build compiles), so an addition or a removal is a deliberate change made here too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const REPO = join(import.meta.dirname, "..", "..");

const API: Record<string, { source: string; values: string[]; types: string[] }> = {
  ".": {
    source: "infra/index.ts",
    values: ["InvalidArgsError", "McpDeployment", "McpHost", "McpImage", "McpMonitoring", "McpMonitoringStack", "McpSmokeTimer", "MANAGED_ENV", "SelfHostedMcp",
      "dockerRunArgs", "renderAlertRules", "renderCloudInit", "renderDeploymentPlan", "renderNginxConfig"],
    types: ["AlertRuleOptions", "ArgIssue", "CloudInitOptions", "Connection", "DeploymentPlan", "DeploymentPlanOptions", "DocrRegistry", "ExternalRegistry",
      "McpDeploymentArgs", "McpGatewayArgs", "McpHostArgs", "McpImageArgs", "McpImageBuild", "McpMonitoringArgs", "McpMonitoringStackArgs",
      "McpServerArgs", "McpSmokeTimerArgs", "RunSpec", "SelfHostedMcpArgs", "SitelessPlan", "SiteOptionsInput"],
  },
  "./contract": {
    source: "contract/index.ts",
    values: ["APP_NAME_PATTERN", "B64TOKEN_SOURCE", "BEARER_HEADER_SOURCE", "CONTAINER_SOCKET_DIR", "DIGEST_REF_PATTERN", "DOMAIN_MESSAGE",
      "DOMAIN_PATTERN", "ENV_NAME_PATTERN", "GATEWAY_DOCKERFILE", "InvalidArgsError", "LEDGER_FILE", "LEDGER_SCHEMA", "MAX_TOTAL_ROWS", "MIN_API_KEY_LENGTH", "SCOPE_TOKEN",
      "SERVER_DOCKERFILE", "SERVER_NAME_SOURCE", "SMOKE_META_KEY", "SMOKE_METRICS", "SOCKET_NAME", "TOTALS_SQL", "absPath", "appName", "argIssue",
      "bearerToken", "checkApiKeyEntries", "checkApiKeys", "contractEnv", "defaultUpstreamScope", "digestRef", "dockerBuildArgs", "dockerRunArgs", "dockerRunCommand", "domain",
      "imageBuildArgs", "isB64Token", "parseArgs", "resolveRunSpec", "runSpecSchema", "serverName", "shellCommand", "shellQuote", "singleLine",
      "smokeMeta", "splitKeyGrant", "splitList", "totalsScript", "upstreamVar"],
    types: ["ArgIssue", "FieldThreshold", "ImageBuildSpec", "ParseArgsOptions", "ResolvedRunSpec", "RunSpec", "SmokeExample", "UsageTotal"],
  },
  "./nginx": {
    source: "nginx/index.ts",
    values: ["ACME_CHALLENGE_PATH", "ACME_DIRECTORIES", "CONNLIMIT_CHAIN", "CONNLIMIT_UNIT", "DEFAULT_ACME_WEBROOT", "DEFAULT_CERTBOT_CONFIG_DIR",
      "DEFAULT_CONNLIMIT_SCRIPT_PATH", "DEFAULT_DEPLOY_HOOK_PATH", "DEFAULT_UPSTREAM_INCLUDE_DIR", "RENEWAL_UNIT", "TLS_CIPHERS",
      "acmeDirectoryUrl", "listenAddressSchema", "publicHealthPath", "renderCertbotIssueScript", "renderConnlimitScript", "renderConnlimitUnit",
      "renderDeployHook", "renderNginxConfig", "renderRenewalUnits", "renderUpstreamInclude", "renewCommand", "siteOptionsSchema", "upstreamIncludePath"],
    types: ["CertbotIssueOptions", "ConnlimitOptionsInput", "DeployHookOptions", "RenewalTimerOptions", "SiteOptions", "SiteOptionsInput", "UpstreamIncludeOptions"],
  },
  "./render": {
    source: "infra/render/index.ts",
    values: ["DROPLET_SIZES", "HOST_OVERHEAD_MB", "HOST_PACKAGES", "PLAIN_FILES", "SECRET_FILES", "SLOTS", "credentialsFromDockerConfig", "findDropletSize",
      "pickDropletSize", "registryHost", "remoteCommand", "remoteScript", "renderCloudInit", "renderDeploymentPlan", "renderDockerConfig", "renderEnvFile",
      "renderScript", "requiredMemoryMb", "slotPortsOf", "swapMbFor"],
    types: ["CloudInitOptions", "ContainerResources", "DeploymentPlan", "DeploymentPlanOptions", "DropletSize", "ScriptInputs", "ScriptName", "Slot", "StagedFile"],
  },
  "./monitoring": {
    source: "infra/monitoring/index.ts",
    values: ["alertRules", "bundleSmokeCli",
      "monitoringRules", "monitoringStdin", "renderAlertRules", "renderAlertmanagerConfig", "renderGrafanaDashboard", "renderMonitoringPlan",
      "renderPrometheusConfig", "renderSmokeTimer", "requiredSecrets", "resolveMonitoringOptions", "resolveMonitoringSettings", "smokeTimerStdin"],
    types: ["AlertRule", "AlertRuleOptions", "McpMonitoringSettings", "MonitoringOptions", "MonitoringPlan", "MonitoringSecrets", "SmokeTimer", "SmokeTimerOptions"],
  },
  "./smoke": {
    source: "smoke/index.ts",
    values: ["formatReport", "runSmoke"],
    types: ["CheckResult", "SmokeOptions", "SmokeReport"],
  },
};

/** Every name a module exports, split into values and type-only names, read by the TypeScript checker. */
function exportsOf(sources: string[]): Map<string, { values: string[]; types: string[] }> {
  const config = ts.readConfigFile(join(REPO, "tsconfig.json"), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO);
  const program = ts.createProgram(sources.map((s) => join(REPO, s)), { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const out = new Map<string, { values: string[]; types: string[] }>();
  for (const s of sources) {
    const file = program.getSourceFile(join(REPO, s));
    assert.ok(file, s);
    const symbols = checker.getExportsOfModule(checker.getSymbolAtLocation(file)!);
    const values: string[] = [];
    const types: string[] = [];
    for (const sym of symbols) {
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      (target.flags & ts.SymbolFlags.Value ? values : types).push(sym.name);
    }
    const sort = (a: string[]) => a.sort((x, y) => x.localeCompare(y, "en", { caseFirst: "upper" }));
    out.set(s, { values: sort(values), types: sort(types) });
  }
  return out;
}

test("package.json exports exactly the root and the documented subpaths, each from its built source", () => {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { exports: Record<string, unknown> };
  const entries = Object.keys(pkg.exports).filter((k) => k !== "./package.json");
  assert.deepEqual(entries, Object.keys(API));
  for (const [entry, { source }] of Object.entries(API)) {
    const dist = `./dist/${source.replace(/\.ts$/, "")}`;
    assert.deepEqual(pkg.exports[entry], { types: `${dist}.d.ts`, default: `${dist}.js` }, entry);
  }
});

test("the export list of the root and of every subpath (values and types) is the curated one", () => {
  const found = exportsOf(Object.values(API).map((a) => a.source));
  const sort = (a: string[]) => [...a].sort((x, y) => x.localeCompare(y, "en", { caseFirst: "upper" }));
  for (const [entry, { source, values, types }] of Object.entries(API)) {
    assert.deepEqual(found.get(source), { values: sort(values), types: sort(types) }, `selfhosted-mcp${entry === "." ? "" : entry.slice(1)} (${source})`);
  }
  const root = found.get("infra/index.ts")!;
  console.log(`root: ${root.values.length} values, ${root.types.length} types`);
});
