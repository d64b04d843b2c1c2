// The example stack (Pulumi.yaml `main`): the bundled reference server on one droplet, configured entirely by
// stack config. Config is validated first; a bad value stops here, before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./config.ts";
import { SelfHostedMcp } from "../../infra/components/selfhosted-mcp.ts";
import { renderAlertRules } from "../../infra/monitoring/alert-rules.ts";
import { loadMonitoringConfig } from "./monitoring-config.ts";
import { splitList } from "../../contract/list.ts";
import { splitKeyGrant } from "../../contract/api-keys.ts";

const { settings: s, secrets } = loadStackConfig();
const APP = "mcp";
// The on-droplet Prometheus/Alertmanager: on as soon as a receiver is configured (alertmanager false opts out).
const alerting = loadMonitoringConfig({
  app: APP, port: s.port, metricsPort: s.metricsPort, latencySlaSeconds: s.latencySlaSeconds, alertEmails: s.alertEmails,
  ...(s.alertSlackChannel ? { alertSlackChannel: s.alertSlackChannel } : {}),
});

const mcp = new SelfHostedMcp("mcp", {
  app: APP, domain: s.domain, region: s.region, dropletImage: s.dropletImage,
  ...(s.dropletSize ? { size: s.dropletSize } : {}), resizeDisk: s.resizeDisk,
  ...(s.swapMb !== undefined ? { swapMb: s.swapMb } : {}),
  sshPublicKey: s.sshPublicKey, sshUser: s.sshUser, sshPort: s.sshPort,
  ...(s.sshKeyFingerprint ? { sshKeys: [s.sshKeyFingerprint] } : {}),
  ...(secrets.sshPrivateKey ? { sshPrivateKey: secrets.sshPrivateKey } : {}),
  ...(secrets.sshPrivateKeyPassword ? { sshPrivateKeyPassword: secrets.sshPrivateKeyPassword } : {}),
  ...(s.sshAgentSocket ? { sshAgentSocket: s.sshAgentSocket } : {}),
  adminCidrs: s.adminCidrs, allowSshFromAnywhere: s.allowSshFromAnywhere,
  ...(s.dnsZone ? { dnsZone: s.dnsZone } : {}),
  reservedIp: s.reservedIp,
  ...(s.servers.length > 0 ? {
    // Several servers: each its image or build (in the stack's repository), env, secrets (serverSecretEnv.<name>), memory.
    servers: s.servers.map((v) => ({
      name: v.name, ...(v.image ? { image: v.image } : { build: { context: v.buildContext ?? s.buildContext, dockerfile: v.dockerfile ?? s.dockerfile, baseImage: s.baseImage, platform: s.platform } }),
      ...(v.imageTag ? { tag: v.imageTag } : {}), ...(v.memoryMb ? { memoryMb: v.memoryMb } : {}), ...(v.healthPath ? { healthPath: v.healthPath } : {}),
      ...(v.env ? { env: v.env } : {}), ...(v.oauthScope ? { oauthScope: v.oauthScope } : {}),
      ...(secrets.serverSecretEnv ? { secrets: secrets.serverSecretEnv.apply((all) => all[v.name] ?? {}) } : {}),
    })),
    // The gateway is built like the servers: the same base image and platform (e.g. linux/amd64 from an arm64 laptop).
    gateway: { build: { baseImage: s.baseImage, platform: s.platform } },
  } : {
    server: s.image
      ? { image: s.image }
      : { build: { context: s.buildContext, dockerfile: s.dockerfile, baseImage: s.baseImage, platform: s.platform }, repository: s.imageRepository,
        ...(s.imageTag ? { tag: s.imageTag } : {}) },
  }),
  ...(s.registryServer
    ? { registry: { server: s.registryServer, ...(s.registryUsername ? { username: s.registryUsername } : {}), ...(secrets.registryPassword ? { password: secrets.registryPassword } : {}) } }
    : s.docrName ? { docr: { name: s.docrName, create: s.createDocr, tier: s.docrTier, ...(s.docrRegion ? { region: s.docrRegion } : {}) } } : {}),
  env: s.env,
  ...(secrets.secretEnv || secrets.upstreamApiKey
    ? { secrets: mergeSecrets(secrets.secretEnv, secrets.upstreamApiKey) } : {}),
  auth: {
    mode: s.authMode, ...(secrets.apiKeys ? { apiKeys: secrets.apiKeys } : {}),
    ...(s.oauthIssuer && s.oauthJwksUrl ? { oauth: { issuer: s.oauthIssuer, jwksUrl: s.oauthJwksUrl } } : {}),
  },
  rateLimit: { perSecond: s.rateLimitPerSecond, burst: s.rateLimitBurst },
  maxBodySize: s.maxBodySize, listenAddresses: s.nginxListenAddresses,
  resources: { memoryMb: s.containerMemoryMb, cpus: s.containerCpus },
  acme: {
    email: s.acmeEmail,
    ...(s.acmeServer ? { server: s.acmeServer } : {}),
    ...(s.acmeCaBundle ? { caBundle: s.acmeCaBundle } : {}),
    certbotConfigDir: s.certbotConfigDir,
  },
  port: s.port, metricsPort: s.metricsPort, healthPath: s.healthPath,
  healthTimeoutSeconds: s.healthTimeoutSeconds, drainSeconds: s.drainSeconds,
  healthCheckIntervalSeconds: s.healthCheckIntervalSeconds,
  ...(s.alertsEnabled ? {
    monitoring: {
      emails: s.alertEmails,
      ...(s.alertSlackChannel && secrets.alertSlackWebhookUrl ? { slackChannel: s.alertSlackChannel, slackWebhookUrl: secrets.alertSlackWebhookUrl } : {}),
    },
  } : {}),
  ...(alerting ? { alertStack: { ...withoutServer(alerting.options), secrets: alerting.secrets } } : {}),
  ...(s.smokeTimer ? {
    smokeTimer: {
      ...(s.smokeTextfileDir ? { textfileDir: s.smokeTextfileDir } : {}),
      // The timer authenticates with the first API key, without its grants (sent to the host on stdin, stored there
      // 0600); under oauth too: the server and the gateway accept API keys next to access tokens.
      ...(s.authMode !== "none" && secrets.apiKeys ? { token: secrets.apiKeys.apply((k) => splitKeyGrant(splitList(k)[0] ?? "").key) } : {}),
    },
  } : {}),
});

/** The monitoring options without what SelfHostedMcp fills in itself (the server's name and ports). */
function withoutServer<T extends { app?: unknown; port?: unknown; metricsPort?: unknown }>(o: T): Omit<T, "app" | "port" | "metricsPort"> {
  const { app: _a, port: _p, metricsPort: _m, ...rest } = o;
  return rest;
}

function mergeSecrets(extra: typeof secrets.secretEnv, upstreamApiKey: typeof secrets.upstreamApiKey) {
  return pulumi.all([extra ?? {}, upstreamApiKey ?? ""])
    .apply(([e, k]) => ({ ...e, ...(k ? { UPSTREAM_API_KEY: k } : {}) }));
}

export const url = mcp.url;
export const healthUrl = mcp.healthUrl;
export const ipv4 = mcp.ipv4;
export const imageDigest = mcp.imageDigest;
export const dropletId = mcp.dropletId;
/** Prometheus alert rules for this server with the configured latency SLA: pulumi stack output alertRules > alerts.yml */
export const alertRules = pulumi.output(renderAlertRules({ latencySlaSeconds: s.latencySlaSeconds }));
