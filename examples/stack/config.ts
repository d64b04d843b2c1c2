// Stack configuration for the example program (Pulumi.yaml): read every key, validate with zod, and fail with the
// key name and the `pulumi config set ...` command that fixes it, before any resource is registered.
// Secrets are only checked for presence here; their values stay inside pulumi secret Outputs.
import * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { drainSecondsSchema } from "../../infra/render/deployment-plan.ts";
import { slotPortsOf } from "../../infra/render/deployment-plan.ts";
import { listenAddressSchema } from "../../nginx/index.ts";
import { absPath, digestRef, domain, ENV_NAME_PATTERN } from "../../contract/values.ts";
import { DOCR_REGIONS } from "../../infra/components/image.ts";
import { DO_SSH_KEY_REF } from "../../infra/render/ssh-keys.ts";
import { ANY_ADDRESS } from "../../infra/components/host.ts";
import { MANAGED_ENV } from "../../infra/components/selfhosted-mcp.ts";
import { StackConfigError, fixCommand, SECRET_KEYS, type ConfigIssue, type SecretKey } from "./config-error.ts";
import { isEmptyDefault, secretValueIssues, sshAuthIssues } from "./secret-rules.ts";

export { StackConfigError, fixCommand, SECRET_KEYS, type ConfigIssue, type SecretKey, isEmptyDefault, sshAuthIssues, secretValueIssues };

const CIDR4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\/(?:3[0-2]|[12]?\d)$/;
const CIDR6 = /^[0-9a-f:]+:[0-9a-f:]*\/(?:12[0-8]|1[01]\d|[1-9]?\d)$/i;

const port = z.number().int().min(1).max(65535);

export const StackSettingsSchema = z.object({
  domain: z.string().toLowerCase().pipe(domain),
  region: z.string().regex(/^[a-z]{3}\d$/, "must be a DigitalOcean region slug such as nyc3, fra1, sgp1").default("fra1"),
  dropletSize: z.string().regex(/^[a-z0-9-]+$/, "must be a droplet size slug such as s-1vcpu-1gb").optional(),
  resizeDisk: z.boolean().default(false),
  swapMb: z.number().int().min(0, "must be 0 (no swap) or more MB").max(65536).optional(),
  dropletImage: z.string().regex(/^[a-z0-9.-]+$/, "must be an image slug such as ubuntu-24-04-x64").default("ubuntu-24-04-x64"),
  containerMemoryMb: z.number().int().min(128, "must be at least 128").max(65536).default(256),
  containerCpus: z.number().int().min(1).max(32).default(1),
  sshPublicKey: z.string().trim().regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+=*( .*)?$/,
    "must be an OpenSSH public key line (the contents of ~/.ssh/id_ed25519.pub)"),
  sshKeyFingerprint: z.string().toLowerCase().regex(DO_SSH_KEY_REF,
    "must be the MD5 fingerprint (aa:bb:...:ff, from ssh-keygen -l -E md5) or numeric id of a key on your DigitalOcean account").optional(),
  sshAgentSocket: z.string().startsWith("/", "must be the absolute path of an SSH agent socket").optional(),
  sshUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a Unix user name").default("deploy"),
  sshPort: port.default(22),
  adminCidrs: z.array(z.string().refine((c) => CIDR4.test(c) || CIDR6.test(c), "must be a CIDR such as 203.0.113.7/32"))
    .min(1, "must list at least one CIDR allowed to reach SSH (your address, e.g. 203.0.113.7/32)"),
  allowSshFromAnywhere: z.boolean().default(false),
  acmeEmail: z.email("must be an e-mail address for the ACME account"),
  acmeServer: z.url({ protocol: /^https$/, error: "must be an https ACME directory URL" }).optional(),
  acmeCaBundle: absPath.optional(),
  certbotConfigDir: absPath.default("/etc/letsencrypt"),
  dnsZone: z.string().toLowerCase().pipe(domain).optional(),
  reservedIp: z.boolean().default(false),
  registryServer: z.string().regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/i, "must be a registry address such as ghcr.io/me or 127.0.0.1:5000").optional(),
  registryUsername: z.string().regex(/^\S+$/, "must be a user name without spaces").optional(),
  docrName: z.string().regex(/^[a-z0-9-]{3,63}$/, "must be 3-63 lowercase letters, digits or dashes").optional(),
  docrTier: z.enum(["starter", "basic", "professional"]).default("starter"),
  createDocr: z.boolean().default(true),
  docrRegion: z.enum(DOCR_REGIONS, { error: `must be a region with a container registry: ${DOCR_REGIONS.join(", ")}` }).optional(),
  image: digestRef.optional(),
  imageTag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be an image tag such as v1.2.3 or a git commit").optional(),
  imageRepository: z.string().regex(/^[a-z0-9._/-]+$/, "must be a lowercase repository name").default("selfhosted-mcp"),
  buildContext: z.string().min(1).default("."),
  dockerfile: z.string().min(1).default("server/Dockerfile"),
  baseImage: z.string().regex(/^[a-zA-Z0-9][^\s]*$/, "must be an image reference such as node:24-bookworm-slim (no spaces)").default("node:24-bookworm-slim"),
  platform: z.string().regex(/^linux\/[a-z0-9]+$/).default("linux/amd64"),
  port: port.default(8000),
  metricsPort: port.default(9090),
  healthPath: z.string().startsWith("/").default("/health"),
  healthTimeoutSeconds: z.number().int().min(5).max(900).default(90),
  drainSeconds: drainSecondsSchema,
  authMode: z.enum(["none", "api-key", "oauth"]).default("api-key"),
  env: z.record(z.string(), z.string().refine((v) => !/[\r\n]/.test(v), "env values must be single-line"))
    .refine((o) => Object.keys(o).every((k) => ENV_NAME_PATTERN.test(k)), "env names must be UPPER_SNAKE_CASE").default({}),
  rateLimitPerSecond: z.number().int().min(1).max(100000).default(10),
  rateLimitBurst: z.number().int().min(0).max(100000).default(20),
  maxBodySize: z.string().regex(/^\d+[kKmM]?$/, "must be an nginx size such as 1m or 512k").default("1m"),
  nginxListenAddresses: z.array(listenAddressSchema).default([]),
  alertsEnabled: z.boolean().default(false),
  alertEmails: z.array(z.email("must be an e-mail address")).default([]),
  alertSlackChannel: z.string().regex(/^[#@]?[^\s#@]+$/, "must be a Slack channel such as #ops (no spaces)").optional(),
  latencySlaSeconds: z.number().int().min(1, "must be at least 1 (seconds)").max(600).default(10),
  smokeTimer: z.boolean().default(false),
  smokeTextfileDir: absPath.optional(),
});

export type StackSettings = z.infer<typeof StackSettingsSchema>;


export interface StackSecrets {
  apiKeys?: pulumi.Output<string>;
  upstreamApiKey?: pulumi.Output<string>;
  sshPrivateKey?: pulumi.Output<string>;
  sshPrivateKeyPassword?: pulumi.Output<string>;
  registryPassword?: pulumi.Output<string>;
  secretEnv?: pulumi.Output<Record<string, string>>;
  alertSlackWebhookUrl?: pulumi.Output<string>;
  /** The on-droplet monitoring stack's receivers (examples/stack/monitoring-config.ts reads them again as its secrets). */
  alertSmtpPassword?: pulumi.Output<string>;
  alertWebhookUrl?: pulumi.Output<string>;
  alertPagerdutyRoutingKey?: pulumi.Output<string>;
}

export interface StackConfig { settings: StackSettings; secrets: StackSecrets }

/** Cross-field rules zod's per-field schema cannot express. */
function crossChecks(s: StackSettings, has: (k: SecretKey) => boolean): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (key: string, message: string) => issues.push({ key, message, fix: fixCommand(key) });
  const world = s.adminCidrs.filter((c) => ANY_ADDRESS.includes(c));
  if (world.length > 0 && !s.allowSshFromAnywhere) {
    add("adminCidrs", `${world.join(", ")} opens SSH to the whole internet; list your own address, or set allowSshFromAnywhere true if you really mean it`);
  }
  const reserved: Record<number, string> = { 80: "HTTP (nginx)", 443: "HTTPS (nginx)", [s.sshPort]: "SSH (sshPort)" };
  const used = new Map<number, string>();
  const slots = slotPortsOf(s);
  for (const [slot, p] of Object.entries(slots)) {
    for (const [what, n] of Object.entries(p)) {
      const key = what === "port" ? "port" : "metricsPort";
      const label = `${key} of the ${slot} slot (${n})`;
      if (n > 65535) add(key, `${label} is out of range: the green slot uses ${key}+1`);
      const clash = reserved[n] ?? used.get(n);
      if (clash) add(key, `${label} clashes with ${clash}; blue/green uses ${key} and ${key}+1, so keep port and metricsPort at least 2 apart and away from 22/80/443`);
      used.set(n, label);
    }
  }
  for (const k of Object.keys(s.env)) {
    if (MANAGED_ENV.includes(k)) add("env", `env.${k} is set by the components (from its own config key); remove it from env`);
  }
  if (s.dnsZone && s.domain !== s.dnsZone && !s.domain.endsWith(`.${s.dnsZone}`)) {
    add("dnsZone", `domain ${s.domain} is not inside zone ${s.dnsZone}`);
  }
  if (s.authMode === "api-key" && !has("apiKeys")) add("apiKeys", "authMode is api-key (the default), so at least one API key is required");
  if (s.alertsEnabled && s.alertEmails.length === 0 && !has("alertSlackWebhookUrl")) {
    add("alertEmails", "alertsEnabled is true but nobody is notified: list alertEmails and/or set alertSlackWebhookUrl + alertSlackChannel");
  }
  if (has("alertSlackWebhookUrl") !== (s.alertSlackChannel !== undefined)) {
    add(s.alertSlackChannel === undefined ? "alertSlackChannel" : "alertSlackWebhookUrl", "alertSlackWebhookUrl and alertSlackChannel go together: set both (or neither)");
  }
  if (s.smokeTimer && s.authMode === "oauth") add("authMode", "smokeTimer authenticates with an API key; with authMode oauth set smokeTimer false (or run the smoke test yourself with --token)");
  if (s.registryUsername && !has("registryPassword")) add("registryPassword", "registryUsername is set, so its password is required");
  if (s.registryUsername && s.registryServer === undefined) add("registryUsername", "registryUsername only applies with registryServer: set registryServer (or remove registryUsername)");
  if (has("registryPassword") && s.registryServer === undefined) add("registryPassword", "registryPassword only applies with registryServer: set registryServer (or pulumi config rm registryPassword)");
  // The build runs in the machine's docker with paths relative to the project directory (Pulumi runs the program there).
  if (!s.image && !existsSync(resolve(s.buildContext))) add("buildContext", `${s.buildContext} is not a directory next to Pulumi.yaml (the docker build context)`);
  else if (!s.image && !existsSync(resolve(s.dockerfile))) add("dockerfile", `${s.dockerfile} does not exist (the path is relative to the directory of Pulumi.yaml)`);
  // DOCR names are global across all DigitalOcean accounts and an account has one registry: no default can work
  // for everyone (API: POST /v2/registries, "A globally unique name").
  if (!s.image && s.registryServer === undefined && !s.docrName) {
    add("docrName", s.createDocr
      ? "building the server needs a registry: DigitalOcean Container Registry names are global, so pick a unique one (or set registryServer, or a prebuilt image)"
      : "createDocr is false: docrName must name your account's existing registry");
  }
  if (s.docrRegion && (s.registryServer !== undefined || !s.createDocr)) {
    add("docrRegion", "docrRegion only applies to a registry this stack creates (createDocr true, no registryServer)");
  }
  return issues;
}

/** Raw config values as they come from Pulumi config (non-secret keys only). */
export type RawSettings = Record<string, unknown>;

/** Validates raw (non-secret) settings plus the presence of secrets. Pure: used by loadStackConfig and tests. */
export function validateStackSettings(raw: RawSettings, presentSecrets: ReadonlySet<SecretKey>, hasProviderToken: boolean): StackSettings {
  const issues: ConfigIssue[] = [];
  if (!hasProviderToken) issues.push({ key: "digitalocean:token", message: "the DigitalOcean API token is not set", fix: fixCommand("digitalocean:token") });
  const parsed = StackSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? "config");
      const missing = raw[key] === undefined;
      issues.push({ key, message: missing ? "is required but not set" : `${issue.message} (got ${JSON.stringify(raw[key])})`, fix: fixCommand(key) });
    }
    throw new StackConfigError(issues);
  }
  issues.push(...crossChecks(parsed.data, (k) => presentSecrets.has(k)));
  if (issues.length > 0) throw new StackConfigError(issues);
  return parsed.data;
}

const NON_SECRET_KEYS = Object.keys(StackSettingsSchema.shape) as (keyof StackSettings)[];

/**
 * Reads the project's stack config (namespace = project name) and validates it.
 * Structured keys (adminCidrs, env) are read as objects; scalars are parsed from their YAML/JSON text.
 */
export function loadStackConfig(config: pulumi.Config = new pulumi.Config(), env: NodeJS.ProcessEnv = process.env): StackConfig {
  // Pulumi.yaml declares every optional key with a default ("" where there is no natural one): "" means unset.
  // The CLI hands the program every value as a string: Pulumi.yaml defaults included (objects and arrays as JSON
  // text, e.g. secretEnv's default {} arrives as the plain string "{}"), and lists the keys holding a secure value
  // in PULUMI_CONFIG_SECRET_KEYS (pulumi sdk/nodejs/runtime/config.ts; sdk/go/common/resource/config Map.SecureKeys).
  // "" (the declared default where there is no natural one) therefore means "not set"; for a secret key, so does
  // its declared empty object ({}), which never arrives as a secret.
  const value = (key: string) => pulumi.runtime.getConfig(`${config.name}:${key}`);
  const isSet = (key: string) => value(key) !== undefined && value(key) !== "";
  const raw: RawSettings = {};
  for (const key of NON_SECRET_KEYS) {
    if (!isSet(key)) continue;
    raw[key] = parseScalar(config.get(key)!, StackSettingsSchema.shape[key]);
  }
  const secrets: StackSecrets = {};
  const present = new Set<SecretKey>();
  const plainSecrets: ConfigIssue[] = [];
  for (const key of SECRET_KEYS) {
    if (isEmptyDefault(value(key))) continue;
    present.add(key);
    if (!isStoredSecret(`${config.name}:${key}`)) {
      plainSecrets.push({ key, message: "is stored in plain text in the stack file; it must be a secret", fix: fixCommand(key) });
    }
    if (key === "secretEnv") secrets.secretEnv = config.requireSecretObject<Record<string, string>>(key);
    else secrets[key] = config.requireSecret(key);
  }
  const token = pulumi.runtime.getConfig("digitalocean:token") || env.DIGITALOCEAN_TOKEN || env.DIGITALOCEAN_ACCESS_TOKEN;
  if (plainSecrets.length > 0) throw new StackConfigError(plainSecrets);
  const settings = validateStackSettings(raw, present, Boolean(token));
  // The secret values themselves, checked here in plain text (they never leave these checks).
  const plain = Object.fromEntries([...present].map((k) => [k, value(k)!]));
  const valueIssues = [...sshAuthIssues(plain.sshPrivateKey, present.has("sshPrivateKeyPassword"), settings.sshAgentSocket ?? env.SSH_AUTH_SOCK),
    ...secretValueIssues(plain)];
  if (valueIssues.length > 0) throw new StackConfigError(valueIssues);
  return { settings, secrets };
}

/** pulumi.runtime.isConfigSecret exists at runtime but is missing from the SDK's type declarations. */
function isStoredSecret(fullKey: string): boolean {
  const check = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  return check ? check(fullKey) : true;
}

/** Config values arrive as strings; numbers, booleans, arrays and objects are JSON. Wrong shapes fall to zod. */
function parseScalar(text: string, schema: z.ZodType): unknown {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodString || inner instanceof z.ZodEmail || inner instanceof z.ZodURL || inner instanceof z.ZodEnum) return text;
  try { return JSON.parse(text); } catch { return text; }
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else return s;
  }
}
