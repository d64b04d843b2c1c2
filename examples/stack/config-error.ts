// The one error of the example stack's configuration: every issue names the stack key and the `pulumi config set`
// command that fixes it (with an example value; secrets with --secret). The stack's settings, its secrets and the
// monitoring keys all report through it. It is the edge's translation of the components' InvalidArgsError
// (contract/args-error.ts): an argument's path becomes the stack key it came from (stackConfigErrorOf).
import type { InvalidArgsError } from "../../contract/args-error.ts";

/** Secret keys: read with requireSecret/getSecret; never unwrapped by this module. */
export const SECRET_KEYS = ["apiKeys", "upstreamApiKey", "sshPrivateKey", "sshPrivateKeyPassword", "registryPassword", "secretEnv", "serverSecretEnv", "alertSlackWebhookUrl",
  "alertSmtpPassword", "alertWebhookUrl", "alertPagerdutyRoutingKey"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export interface ConfigIssue { key: string; message: string; fix: string }

export class StackConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super("Invalid stack configuration:\n" + issues.map((i) => `  - ${i.key}: ${i.message}\n      fix: ${i.fix}`).join("\n"));
    this.name = "StackConfigError";
    this.issues = issues;
  }
}

/**
 * A component's InvalidArgsError as stack keys: each issue goes to the key `keyOf` maps its argument path to (the
 * longest matching prefix of the table), else to `fallback`; the message keeps the component and the argument.
 */
export function stackConfigErrorOf(e: InvalidArgsError, keyOf: Readonly<Record<string, string>>, fallback: string): StackConfigError {
  const prefixes = Object.keys(keyOf).sort((a, b) => b.length - a.length);
  return new StackConfigError(e.issues.map((i) => {
    const hit = prefixes.find((p) => i.path === p || i.path.startsWith(`${p}.`) || i.path.startsWith(`${p}[`));
    const key = hit ? keyOf[hit]! : fallback;
    return { key, message: `${e.component} ${i.path}: ${i.message}`, fix: fixCommand(key) };
  }));
}

/** The command that sets a key, with an example value (secrets get --secret). */
export function fixCommand(key: string): string {
  const example: Record<string, string> = {
    "digitalocean:token": "pulumi config set digitalocean:token --secret   # or export DIGITALOCEAN_TOKEN",
    domain: "pulumi config set domain mcp.example.com",
    region: "pulumi config set region fra1",
    sshPublicKey: 'pulumi config set sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"',
    sshPrivateKey: "pulumi config set sshPrivateKey --secret < ~/.ssh/id_ed25519   (or run an SSH agent: ssh-add)",
    sshPrivateKeyPassword: "pulumi config set sshPrivateKeyPassword --secret   (the key's passphrase; or use the agent: pulumi config rm sshPrivateKey)",
    sshKeyFingerprint: "pulumi config set sshKeyFingerprint \"$(ssh-keygen -l -E md5 -f ~/.ssh/id_ed25519.pub | cut -d' ' -f2 | cut -c5-)\"",
    docrName: "pulumi config set docrName <globally-unique-name>   (or the name of your account's existing registry with createDocr false; or registryServer)",
    adminCidrs: "pulumi config set --path 'adminCidrs[0]' 203.0.113.7/32   (your public address)",
    acmeEmail: "pulumi config set acmeEmail ops@example.com",
    apiKeys: "pulumi config set apiKeys --secret \"$(openssl rand -hex 32)\"",
    registryPassword: "pulumi config set registryPassword --secret",
    port: "pulumi config set port 8000",
    metricsPort: "pulumi config set metricsPort 9090",
    sshPort: "pulumi config set sshPort 22",
    env: "pulumi config set --path 'env.LOG_LEVEL' info",
    dnsZone: "pulumi config set dnsZone example.com",
    alertEmails: "pulumi config set --path 'alertEmails[0]' ops@example.com",
    alertSlackChannel: "pulumi config set alertSlackChannel '#ops'",
    alertSlackWebhookUrl: "pulumi config set alertSlackWebhookUrl --secret <incoming-webhook URL>",
    alertSmtpPassword: "pulumi config set alertSmtpPassword --secret",
    alertWebhookUrl: "pulumi config set alertWebhookUrl --secret https://alerts.example.com/hook",
    alertPagerdutyRoutingKey: "pulumi config set alertPagerdutyRoutingKey --secret <Events API v2 integration key>",
    authMode: "pulumi config set authMode api-key",
    oauthIssuer: "pulumi config set oauthIssuer https://auth.example.com/   (your authorization server's issuer, exactly as in its metadata)",
    oauthJwksUrl: "pulumi config set oauthJwksUrl https://auth.example.com/.well-known/jwks.json   (its jwks_uri)",
    nginxListenAddresses: "pulumi config set --path 'nginxListenAddresses[0]' '*'   (or: pulumi config rm nginxListenAddresses for all addresses)",
    secretEnv: "pulumi config set --secret --path 'secretEnv.OAUTH_AUDIENCE' <value>",
    serverSecretEnv: "pulumi config set --secret --path 'serverSecretEnv.weather.UPSTREAM_API_KEY' <value>   (servers[].name, then the variable)",
    servers: "pulumi config set --path 'servers[0].name' weather   (pulumi config set --path 'servers[0].image' repo@sha256:..., ...)",
    upstreamApiKey: "pulumi config set upstreamApiKey --secret",
    alertmanager: "pulumi config set alertmanager false   (no on-droplet Prometheus/Alertmanager)",
    alertSmtpSmarthost: "pulumi config set alertSmtpSmarthost smtp.example.com:587",
    alertSmtpFrom: "pulumi config set alertSmtpFrom mcp-alerts@example.com",
    alertSmtpUsername: "pulumi config set alertSmtpUsername mcp-alerts@example.com",
    alertErrorRatio: "pulumi config set alertErrorRatio 0.05",
    alertTimings: "pulumi config set --path 'alertTimings.scrapeInterval' 30s   (fields: scrapeInterval, evaluationInterval, groupWait, groupInterval, repeatInterval, rateWindow, restartWindow, driftWindow, errorRatioFor, latencyFor, smokeFailingFor; or: pulumi config rm alertTimings for the defaults)",
  };
  if (example[key]) return example[key];
  if ((SECRET_KEYS as readonly string[]).includes(key)) return `pulumi config set ${key} --secret`;
  return `pulumi config set ${key} <value>   (or: pulumi config rm ${key} for the default)`;
}
