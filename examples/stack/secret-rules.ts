// Rules for the stack's secret values, checked at preview (the CLI hands the program the decrypted text; it stays
// in these functions and never appears in a message): what would otherwise fail only inside the deployment, e.g.
// a short API key refused by the server 90 s into `pulumi up`, or a line break that would corrupt the env file.
import { privateKeyIsEncrypted } from "../../infra/render/ssh-keys.ts";
import { MANAGED_ENV } from "../../infra/components/selfhosted-mcp.ts";
import { monitoringSecretsSchema } from "../../infra/monitoring/stack-options.ts";
import { checkApiKeyEntries, checkApiKeys, splitKeyGrant } from "../../contract/api-keys.ts";
import { splitList } from "../../contract/list.ts";
import { ENV_NAME_PATTERN, singleLine } from "../../contract/values.ts";
import { fixCommand, type ConfigIssue, type SecretKey } from "./config-error.ts";

/** "", "{}", "[]" (and absent): a secret key's Pulumi.yaml empty default as the CLI delivers it (plain text). */
export function isEmptyDefault(v: string | undefined): boolean {
  return v === undefined || v === "" || /^\s*(\{\s*\}|\[\s*\])\s*$/.test(v);
}

/**
 * What the remote commands will authenticate with, checked before anything registers (the plaintext key stays in
 * this function): a private key — with its passphrase when it is encrypted — or an SSH agent
 * (@pulumi/command: agentSocketPath, default SSH_AUTH_SOCK).
 */
export function sshAuthIssues(privateKey: string | undefined, hasPassphrase: boolean, agentSocket: string | undefined): ConfigIssue[] {
  const issue = (key: string, message: string) => [{ key, message, fix: fixCommand(key) }];
  if (isEmptyDefault(privateKey)) {
    if (hasPassphrase) return issue("sshPrivateKeyPassword", "is set but sshPrivateKey is not: set the key too, or pulumi config rm sshPrivateKeyPassword");
    return agentSocket ? [] : issue("sshPrivateKey", "no private key is set and no SSH agent is running (SSH_AUTH_SOCK is empty, sshAgentSocket unset): the remote commands could not log in");
  }
  if (privateKeyIsEncrypted(privateKey!) && !hasPassphrase) {
    return issue("sshPrivateKeyPassword", "sshPrivateKey is passphrase-protected: set its passphrase (or leave sshPrivateKey empty and use your SSH agent)");
  }
  return [];
}

/** The receivers' secret keys of the stack → their names in McpMonitoringStack's secrets. */
export const MONITORING_SECRET_KEYS = { alertSmtpPassword: "smtpPassword", alertSlackWebhookUrl: "slackWebhookUrl", alertWebhookUrl: "webhookUrl",
  alertPagerdutyRoutingKey: "pagerdutyRoutingKey" } as const;

const ONE_LINE = ["upstreamApiKey", "sshPrivateKeyPassword", "registryPassword"] as const;

/**
 * The problem with `apiKeys`, if any: the key rule (contract/api-keys.ts), and with `servers` each entry may grant
 * some of them, `<key>:<server>[+<server>…]` (the gateway's rule, gateway/src/config.ts), naming only listed servers.
 */
function apiKeysProblem(raw: string, servers: readonly string[]): string | undefined {
  if (servers.length === 0) return checkApiKeys(raw).problem;
  const entries = splitList(raw).map(splitKeyGrant);
  const unknown = entries.findIndex((e) => e.servers?.some((s) => !servers.includes(s)));
  if (unknown >= 0) return `key ${unknown + 1} grants a server that is not in servers (${servers.join(", ")}): write <key>:<server>[+<server>…]`;
  return checkApiKeyEntries(entries.map((e) => e.key)).problem;
}

/**
 * Issues with the secret values that are set (plaintext in, never out: messages name the key, not the value).
 * `secretEnv` arrives as its JSON text.
 */
export function secretValueIssues(values: Partial<Record<SecretKey, string>>, servers: readonly string[] = []): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (key: string, message: string) => issues.push({ key, message, fix: fixCommand(key) });
  const keysProblem = values.apiKeys === undefined ? undefined : apiKeysProblem(values.apiKeys, servers);
  if (keysProblem) add("apiKeys", keysProblem);
  for (const key of ONE_LINE) {
    const v = values[key];
    if (v !== undefined && (/[\r\n]/.test(v) || v.trim() === "")) add(key, "must be a single line of text (it is written to a file line by line)");
  }
  if (values.sshPrivateKey !== undefined && !/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(values.sshPrivateKey)) {
    add("sshPrivateKey", "must be a private key file's contents (-----BEGIN ... PRIVATE KEY-----), e.g. ~/.ssh/id_ed25519");
  }
  if (values.secretEnv !== undefined) issues.push(...secretEnvIssues(values.secretEnv));
  if (values.serverSecretEnv !== undefined) issues.push(...serverSecretEnvIssues(values.serverSecretEnv));
  for (const [key, name] of Object.entries(MONITORING_SECRET_KEYS) as [keyof typeof MONITORING_SECRET_KEYS, string][]) {
    const v = values[key];
    if (v === undefined) continue;
    const parsed = monitoringSecretsSchema.shape[MONITORING_SECRET_KEYS[key]].safeParse(v);
    if (!parsed.success) add(key, parsed.error.issues.map((i) => i.message.replace(`${name} `, "")).join("; "));
  }
  return issues;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** `env` (a parsed secret object) against the env rules; `at` is its key path in messages, e.g. secretEnv. */
function envObjectIssues(key: SecretKey, at: string, env: unknown): ConfigIssue[] {
  const issue = (message: string) => [{ key, message, fix: fixCommand(key) }];
  if (!isObject(env)) return issue(`${at} must be an object of NAME: value pairs (set with --path '${at}.NAME')`);
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME_PATTERN.test(name)) return issue(`${at}.${name}: environment names must be UPPER_SNAKE_CASE`);
    if (MANAGED_ENV.includes(name)) return issue(`${at}.${name} is set by the components (from its own config key); remove it from ${key}`);
    if (typeof value !== "string" || !singleLine.safeParse(value).success) return issue(`${at}.${name}: values must be single-line strings`);
  }
  return [];
}

function parsed(text: string): unknown {
  try { return JSON.parse(text); } catch { return undefined; }
}

function secretEnvIssues(text: string): ConfigIssue[] {
  return envObjectIssues("secretEnv", "secretEnv", parsed(text));
}

/** serverSecretEnv: { <server>: { NAME: value } } (which servers exist is checked with the settings). */
function serverSecretEnvIssues(text: string): ConfigIssue[] {
  const all = parsed(text);
  if (!isObject(all)) return envObjectIssues("serverSecretEnv", "serverSecretEnv", undefined);
  return Object.entries(all).flatMap(([server, env]) => envObjectIssues("serverSecretEnv", `serverSecretEnv.${server}`, env));
}
