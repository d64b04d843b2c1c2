// Stack configuration for the example program (Pulumi.yaml): read every key, validate with zod, and fail with the
// key name and the `pulumi config set ...` command that fixes it, before any resource is registered.
// Secrets are only checked for presence here; their values stay inside pulumi secret Outputs.
import * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { slotPortsOf } from "../../infra/render/deployment-plan.ts";
import { fittingDropletSize, noFittingSizeMessage } from "../../infra/render/droplet-size.ts";
import { absPath, digestRef, serverName } from "../../contract/values.ts";
import { oauthIssues, oauthSchema, oauthScopeSchema, serversIssues } from "../../infra/components/servers-args.ts";
import { IMAGE_FIELDS } from "../../infra/components/image-args.ts";
import { HOST_FIELDS, worldOpenCidrs, inZone } from "../../infra/components/host-args.ts";
import { MCP_FIELDS } from "../../infra/components/selfhosted-mcp-args.ts";
import { DEFAULTS } from "../../infra/defaults.ts";
import { StackConfigError, fixCommand, SECRET_KEYS, type ConfigIssue, type SecretKey } from "./config-error.ts";
import { isEmptyDefault, secretValueIssues, sshAuthIssues } from "./secret-rules.ts";

export { StackConfigError, fixCommand, SECRET_KEYS, type ConfigIssue, type SecretKey, isEmptyDefault, sshAuthIssues, secretValueIssues };

const H = HOST_FIELDS;
const M = MCP_FIELDS;
const I = IMAGE_FIELDS;
const D = DEFAULTS;

/**
 * The stack's keys, each mapped to the rule of the component argument it becomes (HOST_FIELDS, MCP_FIELDS) with
 * its default from infra/defaults.ts; only what has no component argument (registry, image build, alerts) is
 * defined here. Pulumi.yaml declares the same keys and defaults (test/infra/pulumi-yaml.test.ts).
 */
export const StackSettingsSchema = z.object({
  domain: z.string().toLowerCase().pipe(M.domain),
  region: H.region.default(D.region),
  dropletSize: H.size.optional(),
  resizeDisk: H.resizeDisk.default(D.resizeDisk),
  swapMb: H.swapMb.optional(),
  dropletImage: H.dropletImage.default(D.dropletImage),
  containerMemoryMb: H.memoryMb.default(D.memoryMb),
  containerCpus: H.cpus.default(D.cpus),
  sshPublicKey: H.sshPublicKey,
  sshKeyFingerprint: H.sshKey.optional(),
  sshAgentSocket: H.sshAgentSocket.optional(),
  sshUser: H.sshUser.default(D.sshUser),
  sshPort: H.sshPort.default(D.sshPort),
  adminCidrs: H.adminCidrs,
  allowSshFromAnywhere: H.allowSshFromAnywhere.default(D.allowSshFromAnywhere),
  acmeEmail: M.acmeEmail,
  acmeServer: M.acmeServer.optional(),
  acmeCaBundle: M.acmeCaBundle.optional(),
  certbotConfigDir: M.certbotConfigDir.default(D.certbotConfigDir),
  dnsZone: z.string().toLowerCase().pipe(M.domain).optional(),
  reservedIp: H.reservedIp.default(D.reservedIp),
  registryServer: z.string().regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/i, "must be a registry address such as ghcr.io/me or 127.0.0.1:5000").optional(),
  registryUsername: z.string().regex(/^\S+$/, "must be a user name without spaces").optional(),
  docrName: I.docrName.optional(),
  docrTier: I.docrTier.default(D.docrTier),
  createDocr: z.boolean().default(D.createDocr),
  docrRegion: I.docrRegion.optional(),
  image: I.image.optional(),
  imageTag: I.tag.optional(),
  imageRepository: I.repository.default(D.imageRepository),
  buildContext: z.string().min(1).default("."),
  dockerfile: z.string().min(1).default("server/Dockerfile"),
  baseImage: I.baseImage.default(D.baseImage),
  platform: I.platform.default(D.platform),
  port: M.port.default(D.port),
  metricsPort: M.metricsPort.default(D.metricsPort),
  healthPath: M.healthPath.default(D.healthPath),
  healthTimeoutSeconds: M.healthTimeoutSeconds.default(D.healthTimeoutSeconds),
  drainSeconds: M.drainSeconds.default(D.drainSeconds),
  healthCheckIntervalSeconds: M.healthCheckIntervalSeconds.default(D.healthCheckIntervalSeconds),
  authMode: M.authMode.default(D.authMode),
  oauthIssuer: oauthSchema.shape.issuer.optional(),
  oauthJwksUrl: oauthSchema.shape.jwksUrl.optional(),
  env: M.env.default({}),
  rateLimitPerSecond: M.rateLimitPerSecond.default(D.rateLimitPerSecond),
  rateLimitBurst: M.rateLimitBurst.default(D.rateLimitBurst),
  maxBodySize: M.maxBodySize.default(D.maxBodySize),
  nginxListenAddresses: M.listenAddresses.default([]),
  alertsEnabled: z.boolean().default(false),
  alertEmails: z.array(z.email("must be an e-mail address")).default([]),
  alertSlackChannel: z.string().regex(/^[#@]?[^\s#@]+$/, "must be a Slack channel such as #ops (no spaces)").optional(),
  latencySlaSeconds: z.number().int().min(1, "must be at least 1 (seconds)").max(600).default(10),
  smokeTimer: z.boolean().default(false),
  smokeTextfileDir: absPath.optional(),
  /**
   * Several servers behind the gateway (docs/infra.md "Several servers behind one gateway"), e.g.
   * `pulumi config set --path 'servers[0].name' weather`; each builds buildContext/dockerfile (default: the reference
   * server) unless it names a prebuilt image. Empty: the single server of the keys above.
   */
  servers: z.array(z.object({
    name: serverName, image: digestRef.optional(),
    buildContext: z.string().min(1).optional(), dockerfile: z.string().min(1).optional(),
    imageTag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be an image tag such as v1.2.3 or a git commit").optional(),
    memoryMb: H.memoryMb.optional(), healthPath: M.healthPath.optional(), env: M.env.optional(),
    oauthScope: oauthScopeSchema.optional(),
  }).strict()).default([]),
});

export type StackSettings = z.infer<typeof StackSettingsSchema>;


export interface StackSecrets {
  apiKeys?: pulumi.Output<string>;
  upstreamApiKey?: pulumi.Output<string>;
  sshPrivateKey?: pulumi.Output<string>;
  sshPrivateKeyPassword?: pulumi.Output<string>;
  registryPassword?: pulumi.Output<string>;
  secretEnv?: pulumi.Output<Record<string, string>>;
  /** Secret environment per server of `servers`: { <server name>: { NAME: value } }. */
  serverSecretEnv?: pulumi.Output<Record<string, Record<string, string>>>;
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
  const world = worldOpenCidrs(s.adminCidrs, s.allowSshFromAnywhere);
  if (world.length > 0) {
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
  const resources = { memoryMb: s.containerMemoryMb, cpus: s.containerCpus };
  if (!s.dropletSize && !fittingDropletSize(resources)) add("containerMemoryMb", `${noFittingSizeMessage(resources)} (dropletSize)`);
  if (s.dnsZone && !inZone(s.domain, s.dnsZone)) {
    add("dnsZone", `domain ${s.domain} is not inside zone ${s.dnsZone}`);
  }
  if (s.authMode === "api-key" && !has("apiKeys")) add("apiKeys", "authMode is api-key (the default), so at least one API key is required");
  if (s.alertsEnabled && s.alertEmails.length === 0 && !has("alertSlackWebhookUrl")) {
    add("alertEmails", "alertsEnabled is true but nobody is notified: list alertEmails and/or set alertSlackWebhookUrl + alertSlackChannel");
  }
  if (has("alertSlackWebhookUrl") !== (s.alertSlackChannel !== undefined)) {
    add(s.alertSlackChannel === undefined ? "alertSlackChannel" : "alertSlackWebhookUrl", "alertSlackWebhookUrl and alertSlackChannel go together: set both (or neither)");
  }
  if (s.servers.length > 0) {
    if (s.image) add("image", "image is the single server's: with servers, give each server its own (servers[N].image); pulumi config rm image");
    serversIssues({ ...s, auth: { mode: s.authMode }, servers: s.servers, ...(s.registryServer ? { registry: s.registryServer } : {}), ...(s.docrName ? { docr: s.docrName } : {}) },
      (path, message) => add(path[0] === "servers" ? "servers" : String(path.join(".")) === "auth.mode" ? "authMode" : String(path[0]), `${path.join(".")}: ${message}`));
  }
  if ((s.oauthIssuer === undefined) !== (s.oauthJwksUrl === undefined)) add(s.oauthIssuer ? "oauthJwksUrl" : "oauthIssuer", "oauthIssuer and oauthJwksUrl go together: set both (or neither)");
  const auth = { mode: s.authMode, ...(has("apiKeys") ? { apiKeys: true } : {}), ...(s.oauthIssuer ? { oauth: true } : {}) };
  // The component's rule (servers-args.ts oauthIssues), its paths mapped to the stack's keys.
  const keyOf: Record<string, string> = { "auth.oauth": "oauthIssuer", "auth.oauth.issuer": "oauthIssuer", "auth.apiKeys": "apiKeys", env: "env" };
  oauthIssues({ auth, env: s.env, ...(s.servers.length > 0 ? { servers: s.servers } : {}) },
    (path, message) => add(keyOf[path.join(".")] ?? "servers", `${path.join(".")}: ${message}`));
  if (s.smokeTimer && s.authMode === "oauth" && !has("apiKeys")) add("apiKeys", "smokeTimer authenticates with an API key (accepted next to OAuth tokens): set one, or smokeTimer false (or run the smoke test yourself with --token)");
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
    else if (key === "serverSecretEnv") secrets.serverSecretEnv = config.requireSecretObject<Record<string, Record<string, string>>>(key);
    else secrets[key] = config.requireSecret(key);
  }
  const token = pulumi.runtime.getConfig("digitalocean:token") || env.DIGITALOCEAN_TOKEN || env.DIGITALOCEAN_ACCESS_TOKEN;
  if (plainSecrets.length > 0) throw new StackConfigError(plainSecrets);
  const settings = validateStackSettings(raw, present, Boolean(token));
  // The secret values themselves, checked here in plain text (they never leave these checks).
  const plain = Object.fromEntries([...present].map((k) => [k, value(k)!]));
  const valueIssues = [...sshAuthIssues(plain.sshPrivateKey, present.has("sshPrivateKeyPassword"), settings.sshAgentSocket ?? env.SSH_AUTH_SOCK),
    ...secretValueIssues(plain, settings.servers.map((v) => v.name))];
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
