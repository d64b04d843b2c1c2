// Every key of the example stack (Pulumi.yaml `config:`, the reference docs/infra.md points to) is validated at
// preview: the real program (examples/stack/program.ts) evaluated with the config as the CLI delivers it fails with
// StackConfigError before registering anything, and the issue names the key and the `pulumi config set` (or `rm`)
// that fixes it. One case per rule at least; a key added to Pulumi.yaml without a case here fails the first test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { installMocks } from "./mock-harness.ts";
import { REQUIRED_STACK_CONFIG, asTheCliDelivers, runProgram } from "./fixtures.ts";

delete process.env.DIGITALOCEAN_TOKEN;
delete process.env.DIGITALOCEAN_ACCESS_TOKEN;
const rec = await installMocks();
const P = "selfhosted-mcp";
const GOOD: Record<string, string> = { ...REQUIRED_STACK_CONFIG, [`${P}:apiKeys`]: "0123456789abcdef0123456789abcdef" };
const BASE_SECRETS = ["digitalocean:token", `${P}:apiKeys`];
const ENCRYPTED_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0\n-----END OPENSSH PRIVATE KEY-----";

/** A bad value (or combination) for `key`; `secret` lists the keys set with --secret; `why` is the rule. */
interface Case { key: string; set: Record<string, string>; secret?: string[]; why: string }
const c = (key: string, value: string, why: string, more: Record<string, string> = {}): Case => ({ key, set: { [key]: value, ...more }, why });
const s = (key: string, value: string, why: string, more: Record<string, string> = {}): Case => ({ ...c(key, value, why, more), secret: [key] });

const CASES: Case[] = [
  c("domain", "https://mcp.example.com", "a DNS name, no scheme"),
  c("sshPublicKey", "not-a-key", "an OpenSSH public key line"),
  c("adminCidrs", '["203.0.113.7"]', "CIDRs"),
  c("adminCidrs", "[]", "at least one"),
  c("adminCidrs", '["0.0.0.0/0"]', "the world only with allowSshFromAnywhere"),
  c("acmeEmail", "ops-at-example.com", "an e-mail address"),
  c("region", "Frankfurt", "a region slug"),
  c("dropletSize", "S 1VCPU", "a size slug"),
  c("resizeDisk", "maybe", "a boolean"),
  c("swapMb", "-1", "0 or more MB"),
  c("dropletImage", "Ubuntu 24.04", "an image slug"),
  c("containerMemoryMb", "64", "at least 128"),
  c("containerMemoryMb", "9000", "two containers fit on a Basic droplet"),
  c("containerCpus", "0", "at least 1"),
  c("sshKeyFingerprint", "my-laptop-key", "an MD5 fingerprint or id"),
  c("sshAgentSocket", "ssh-agent.sock", "an absolute path"),
  c("sshUser", "Root User", "a Unix user name"),
  c("sshPort", "70000", "a TCP port"),
  s("sshPrivateKey", "hunter2", "a private key file"),
  s("sshPrivateKeyPassword", "Tr0ub4dor&3", "only with sshPrivateKey"),
  { key: "sshPrivateKeyPassword", set: { sshPrivateKey: ENCRYPTED_KEY }, secret: ["sshPrivateKey"], why: "required by an encrypted key" },
  c("allowSshFromAnywhere", "yes", "a boolean"),
  c("acmeServer", "http://acme.example.com/dir", "an https URL"),
  c("acmeCaBundle", "/etc/ssl/my ca.pem", "a host path without spaces"),
  c("certbotConfigDir", "letsencrypt", "an absolute host path"),
  c("dnsZone", "example.org", "a zone holding domain"),
  c("reservedIp", "sometimes", "a boolean"),
  c("registryServer", "my registry", "a registry address"),
  c("registryUsername", "me", "only with registryServer"),
  c("registryUsername", "my name", "no spaces", { registryServer: "ghcr.io/acme" }),
  c("registryPassword", "", "required with registryUsername", { registryServer: "ghcr.io/acme", registryUsername: "me" }),
  s("registryPassword", "tok\nen", "one line", { registryServer: "ghcr.io/acme" }),
  c("docrName", "My_Registry", "1-63 lowercase letters, digits, dashes"),
  { key: "docrName", set: { docrName: "" }, why: "required unless registryServer or image" },
  c("docrTier", "gold", "a DOCR tier"),
  c("createDocr", "nope", "a boolean"),
  c("docrRegion", "lon1", "a region with a registry"),
  c("image", "ghcr.io/acme/mcp:latest", "pinned by digest"),
  c("imageTag", "-latest", "a tag"),
  c("imageRepository", "Acme/MCP", "a lowercase repository"),
  c("buildContext", "no-such-dir", "an existing directory"),
  c("dockerfile", "server/Dockerfile.missing", "an existing file"),
  c("baseImage", "node 24", "an image reference"),
  c("platform", "windows/amd64", "a linux platform"),
  c("port", "443", "not a port nginx uses"),
  c("metricsPort", "80", "not a port nginx uses"),
  c("metricsPort", "65535", "room for the green slot (+1)"),
  c("healthPath", "health", "an absolute path"),
  c("healthTimeoutSeconds", "1", "5 to 900 s"),
  c("drainSeconds", "1", "longer than nginx reuses a connection"),
  c("healthCheckIntervalSeconds", "0", "1 to 3600 seconds"),
  c("authMode", "basic", "none, api-key or oauth"),
  s("apiKeys", "short-key", "at least 16 characters (the server's rule, at preview)"),
  s("apiKeys", "0123456789abcdef\"quoted\"", "a b64token"),
  { key: "apiKeys", set: { apiKeys: "" }, secret: [], why: "required with api-key" },
  s("upstreamApiKey", "line1\nline2", "one line"),
  c("env", '{"log_level":"debug"}', "UPPER_SNAKE_CASE names"),
  c("env", '{"AUTH_MODE":"none"}', "no name the components set"),
  s("secretEnv", '{"PUBLIC_URL":"https://x"}', "no name the components set"),
  s("secretEnv", '{"TOKEN":"a\\nb"}', "single-line values"),
  c("rateLimitPerSecond", "0", "at least 1"),
  c("rateLimitBurst", "-1", "0 or more"),
  c("maxBodySize", "1 GB", "an nginx size"),
  c("nginxListenAddresses", '["localhost"]', "addresses"),
  c("alertsEnabled", "please", "a boolean"),
  { key: "alertEmails", set: { alertsEnabled: "true" }, why: "a receiver when alertsEnabled" },
  c("alertEmails", '["ops"]', "e-mail addresses"),
  { key: "alertSlackWebhookUrl", set: { alertSlackChannel: "#ops" }, why: "required with alertSlackChannel" },
  c("alertSlackChannel", "my channel", "no spaces"),
  s("alertSlackWebhookUrl", "hooks.slack.example/x", "an http(s) URL", { alertSlackChannel: "#ops" }),
  c("latencySlaSeconds", "0", "at least 1"),
  c("smokeTimer", "daily", "a boolean"),
  { key: "apiKeys", set: { apiKeys: "", authMode: "oauth", smokeTimer: "true" }, why: "smokeTimer needs an API key, also with oauth" },
  c("smokeTextfileDir", "textfile", "an absolute host path"),
  c("alertmanager", "maybe", "a boolean"),
  c("alertSmtpSmarthost", "smtp.example.com", "host:port"),
  c("alertSmtpFrom", "alerts", "an e-mail address", { alertSmtpSmarthost: "smtp.example.com:587", alertEmails: '["ops@example.com"]' }),
  c("alertSmtpUsername", "", "required with alertSmtpPassword", {}),
  c("alertSmtpPassword", "", "required with alertSmtpUsername", { alertSmtpUsername: "me" }),
  c("alertSmtpRequireTls", "sure", "a boolean"),
  s("alertWebhookUrl", "ftp://alerts.example.com/hook", "an http(s) URL"),
  s("alertPagerdutyRoutingKey", "not a key", "the integration key"),
  c("alertErrorRatio", "2", "between 0 and 1"),
  c("prometheusRetention", "15 days", "a duration"),
  c("prometheusRetentionSize", "1TB", "MB or GB"),
  c("alertTimings", '{"scrapeInterval":"fast"}', "Prometheus durations"),
  c("alertTimings", '{"scrapeEvery":"5s"}', "only the known fields"),
  c("servers", '[{"name":"Weather"}]', "server names [a-z][a-z0-9-]{0,19}"),
  c("servers", '[{"name":"notes"},{"name":"notes"}]', "unique names"),
  { key: "oauthIssuer", set: { authMode: "oauth", servers: '[{"name":"weather"}]' }, why: "required by servers with oauth" },
  c("oauthIssuer", "auth.example.com", "an http(s) URL", { authMode: "oauth", oauthJwksUrl: "https://auth.example.com/jwks" }),
  c("oauthIssuer", "https://auth.example.com", "only with authMode oauth", { oauthJwksUrl: "https://auth.example.com/jwks" }),
  { key: "oauthJwksUrl", set: { authMode: "oauth", oauthIssuer: "https://auth.example.com" }, why: "set together with oauthIssuer" },
  { key: "apiKeys", set: { apiKeys: "", authMode: "oauth", oauthIssuer: "https://auth.example.com", oauthJwksUrl: "https://auth.example.com/jwks", servers: '[{"name":"weather"}]' },
    why: "servers with oauth derive the gateway's tokens from the API keys" },
  { key: "env", set: { env: '{"OAUTH_ISSUER":"https://other.example.com"}', authMode: "oauth", oauthIssuer: "https://auth.example.com", oauthJwksUrl: "https://auth.example.com/jwks" },
    why: "OAUTH_ISSUER comes from oauthIssuer" },
  c("servers", '[{"name":"weather","oauthScope":"two scopes"}]', "oauthScope is one RFC 6749 scope"),
  s("apiKeys", "0123456789abcdef0123456789abcdef:nosuch", "a grant names a listed server", { servers: '[{"name":"weather"}]' }),
  s("apiKeys", "0123456789abcdef0123456789abcdef:weather", "grants only with servers"),
  c("image", `x/y@sha256:${"a".repeat(64)}`, "the single server's image, not with servers", { servers: '[{"name":"weather"}]' }),
  s("serverSecretEnv", '{"weather":{"API_KEYS":"x"}}', "no name the components set"),
];
// alertSmtpUsername's case needs the password set as a secret.
const smtpUser = CASES.find((x) => x.key === "alertSmtpUsername")!;
smtpUser.set = { alertSmtpPassword: "s3cret" };
smtpUser.secret = ["alertSmtpPassword"];

const project = parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8")) as { config: Record<string, unknown> };

test("every key of Pulumi.yaml has at least one rule case here", () => {
  const covered = new Set(CASES.map((x) => x.key));
  assert.deepEqual(Object.keys(project.config).filter((k) => !covered.has(k)), []);
});

for (const x of CASES) {
  test(`${x.key}: ${x.why} (${Object.entries(x.set).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")})`, async () => {
    const stack = { ...GOOD, ...Object.fromEntries(Object.entries(x.set).map(([k, v]) => [`${P}:${k}`, v])) };
    const secrets = [...BASE_SECRETS, ...(x.secret ?? []).map((k) => `${P}:${k}`)];
    await assert.rejects(runProgram(asTheCliDelivers(stack), secrets), (e: Error & { issues?: { key: string; message: string; fix: string }[] }) => {
      assert.equal(e.name, "StackConfigError", e.stack);
      const issue = e.issues?.find((i) => i.key === x.key);
      assert.ok(issue, `an issue names ${x.key}: ${e.message}`);
      assert.match(issue.fix, new RegExp(`^pulumi config (set|rm)\\b.*${x.key}`), issue.fix);
      for (const k of x.secret ?? []) {
        const v = x.set[k]!;
        if (v.length >= 4) assert.ok(!e.message.includes(v), `the message does not show the secret ${k}`);
      }
      return true;
    });
    await rec.settle(20);
    assert.equal(rec.resources.length, 0, `nothing registered: ${rec.resources.map((r) => r.name).join(", ")}`);
  });
}
