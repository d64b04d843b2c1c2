// Options of the on-droplet monitoring stack (Prometheus + Alertmanager + node_exporter from the distribution's
// packages): ports, intervals, retention and memory bounds, alert thresholds and the alert receivers. Validated once
// (zod) before anything is rendered; every error names the option and how to fix it. Secrets (SMTP password, Slack
// and webhook URLs, PagerDuty routing key) are not options: they travel separately (MonitoringSecrets) and only ever
// reach the Alertmanager config file on the host (mode 0600).
import * as z from "zod";
import { appName, absPath, serverName } from "../../contract/values.ts";
import { parseArgs, InvalidArgsError, argIssue } from "../../contract/args-error.ts";
import { alertRuleOptionsSchema } from "./alert-rules.ts";

const port = z.number().int().min(1).max(65535);
/** Prometheus durations with one unit (https://prometheus.io/docs/prometheus/latest/configuration/configuration/#duration). */
const duration = (key: string, dflt: string) => z.string().regex(/^[1-9][0-9]*(ms|s|m|h|d)$/, `${key} must be a duration like "15s", "5m" or "4h"`).default(dflt);
const severity = z.enum(["warning", "critical"]).default("warning");
/** host:port of an SMTP server (RFC 5321); Alertmanager's `smarthost`. */
const smarthost = z.string().regex(/^[A-Za-z0-9.-]+:[0-9]{1,5}$/, 'smarthost must be host:port, e.g. "smtp.example.com:587"');

export const receiversSchema = z.object({
  /** E-mail through an SMTP server; the password (if the server wants one) is MonitoringSecrets.smtpPassword. */
  email: z.object({
    to: z.array(z.email("email.to entries must be e-mail addresses")).min(1, "email.to must list at least one address"),
    from: z.email("email.from must be an e-mail address"),
    smarthost,
    username: z.string().min(1).optional(),
    /** STARTTLS required (Alertmanager `require_tls`); only a local relay on loopback may turn it off. */
    requireTls: z.boolean().default(true),
    minSeverity: severity,
  }).strict().optional(),
  /** Slack incoming webhook; the URL is MonitoringSecrets.slackWebhookUrl. */
  slack: z.object({ channel: z.string().regex(/^[#@]?[A-Za-z0-9._-]{1,80}$/, 'slack.channel must be a channel such as "#ops"'), minSeverity: severity }).strict().optional(),
  /** Any HTTP endpoint taking Alertmanager's webhook JSON (version 4); the URL is MonitoringSecrets.webhookUrl. */
  webhook: z.object({ minSeverity: severity, maxAlerts: z.number().int().min(0).max(1000).default(0) }).strict().optional(),
  /** PagerDuty Events API v2 (or a compatible endpoint, `url`); the routing key is MonitoringSecrets.pagerdutyRoutingKey. */
  pagerduty: z.object({
    url: z.url({ protocol: /^https?$/, error: "pagerduty.url must be an http(s) URL" }).optional(),
    minSeverity: severity.default("critical"),
  }).strict().optional(),
}).strict();

/** The options without their cross-option rules (McpMonitoringStack extends it with its own arguments). */
export const monitoringOptionsObject = z.object({
  /** The server's short name on the host (McpDeployment `app`): a label on every series and alert. */
  app: appName,
  /** The server's port of the blue slot; green uses port+1 (slotPortsOf in infra/render/deployment-plan.ts). */
  port: port.default(8000),
  /** /metrics port of the blue slot; green uses metricsPort+1. Both are scraped: the idle one is simply down. */
  metricsPort: port.default(9090),
  /**
   * Several servers (SelfHostedMcp `servers`): each server's blue-slot /metrics port (green +1), scraped with the
   * label `server="<name>"`; `metricsPort` is then the gateway's, scraped as its own job (GATEWAY_JOB). Absent: one server.
   */
  servers: z.array(z.object({ name: serverName, metricsPort: port }).strict()).min(1, "servers must list at least one server when given").optional(),
  /** Loopback ports of the stack's own HTTP servers (UIs and APIs, reachable through an SSH tunnel). */
  prometheusPort: port.default(9190),
  alertmanagerPort: port.default(9193),
  nodeExporterPort: port.default(9100),
  scrapeInterval: duration("scrapeInterval", "30s"),
  evaluationInterval: duration("evaluationInterval", "30s"),
  /** Samples one scrape may return before Prometheus rejects it (bounds memory against a metrics explosion). */
  sampleLimit: z.number().int().min(100).max(1_000_000).default(20_000),
  retentionTime: duration("retentionTime", "15d"),
  retentionSize: z.string().regex(/^[1-9][0-9]*(MB|GB)$/, 'retentionSize must be a size like "512MB" or "2GB"').default("512MB"),
  /** Hard memory caps (systemd MemoryMax); each Go process also gets GOMEMLIMIT at 80 % of its cap. */
  prometheusMemoryMb: z.number().int().min(64, "prometheusMemoryMb must be at least 64").max(8192).default(192),
  alertmanagerMemoryMb: z.number().int().min(32, "alertmanagerMemoryMb must be at least 32").max(2048).default(64),
  nodeExporterMemoryMb: z.number().int().min(16, "nodeExporterMemoryMb must be at least 16").max(1024).default(48),
  /** node_exporter's textfile-collector directory (the smoke timer's `textfileDir`). */
  textfileDir: absPath.default("/var/lib/prometheus/node-exporter"),
  configDir: absPath.default("/etc/prometheus/selfhosted-mcp"),
  dataDir: absPath.default("/var/lib/prometheus/selfhosted-mcp"),
  unitDir: absPath.default("/etc/systemd/system"),
  /** Alertmanager grouping timers (https://prometheus.io/docs/alerting/latest/configuration/#route). */
  groupWait: duration("groupWait", "30s"),
  groupInterval: duration("groupInterval", "5m"),
  repeatInterval: duration("repeatInterval", "4h"),
  /** Alert thresholds and windows (renderAlertRules options): latencySlaSeconds, errorRatio, ... */
  thresholds: alertRuleOptionsSchema.default(alertRuleOptionsSchema.parse({})),
  receivers: receiversSchema.default({}),
}).strict();

/** The rules across options: no port clash on the host, at least one receiver. */
export function checkMonitoringOptions(o: z.output<typeof monitoringOptionsObject>, ctx: z.RefinementCtx): void {
  const used = new Map<number, string>([[o.port, "port (blue slot)"], [o.port + 1, "port+1 (green slot)"],
    [o.metricsPort, "metricsPort (blue slot)"], [o.metricsPort + 1, "metricsPort+1 (green slot)"], [22, "SSH"], [80, "HTTP"], [443, "HTTPS"]]);
  for (const s of o.servers ?? []) for (const p of [s.metricsPort, s.metricsPort + 1]) used.set(p, `server ${s.name}'s metricsPort`);
  for (const key of ["prometheusPort", "alertmanagerPort", "nodeExporterPort"] as const) {
    const clash = used.get(o[key]);
    if (clash) ctx.addIssue({ code: "custom", path: [key], message: `${key} ${o[key]} clashes with ${clash}; pick a free loopback port` });
    used.set(o[key], key);
  }
  // Alertmanager's own cluster port is disabled (--cluster.listen-address=""), so it needs no port here.
  if (Object.values(o.receivers).every((r) => r === undefined)) {
    ctx.addIssue({ code: "custom", path: ["receivers"], message: "no alert receiver: configure at least one of email, slack, webhook, pagerduty" });
  }
}

export const monitoringOptionsSchema = monitoringOptionsObject.superRefine(checkMonitoringOptions);

export type MonitoringOptions = z.input<typeof monitoringOptionsSchema>;
export type ResolvedMonitoringOptions = z.output<typeof monitoringOptionsSchema>;

/** The secret half of the receivers: required exactly for the receivers that use them. */
export interface MonitoringSecrets {
  smtpPassword?: string;
  slackWebhookUrl?: string;
  webhookUrl?: string;
  pagerdutyRoutingKey?: string;
}

/** Validates options (the thresholds too: the alert rules' schema); throws InvalidArgsError ("monitoring <option>: ..."). */
export function resolveMonitoringOptions(options: MonitoringOptions): ResolvedMonitoringOptions {
  return parseArgs("monitoring", monitoringOptionsSchema, options);
}

/** Which secret each configured receiver needs (`email` only when it authenticates). */
export function requiredSecrets(o: Pick<ResolvedMonitoringOptions, "receivers">): (keyof MonitoringSecrets)[] {
  const r = o.receivers;
  return [
    ...(r.email?.username ? ["smtpPassword" as const] : []),
    ...(r.slack ? ["slackWebhookUrl" as const] : []),
    ...(r.webhook ? ["webhookUrl" as const] : []),
    ...(r.pagerduty ? ["pagerdutyRoutingKey" as const] : []),
  ];
}

const webhookUrl = (key: string) => z.url({ protocol: /^https?$/, error: `${key} must be an http(s) URL` });
/** The receivers' secrets, value by value (the stack checks them at preview too). */
export const monitoringSecretsSchema = z.object({
  smtpPassword: z.string().min(1).refine((v) => !/[\r\n]/.test(v), "smtpPassword must be one line").optional(),
  slackWebhookUrl: webhookUrl("slackWebhookUrl").optional(),
  webhookUrl: webhookUrl("webhookUrl").optional(),
  pagerdutyRoutingKey: z.string().regex(/^[A-Za-z0-9]{1,64}$/, "pagerdutyRoutingKey must be the 32-character integration key").optional(),
}).strict();

/** The receivers' secrets that are missing (`present` tells whether one is given; values may be unknown Outputs). */
export function missingSecretIssues(o: Pick<ResolvedMonitoringOptions, "receivers">, present: (k: keyof MonitoringSecrets) => boolean) {
  const receiver = { smtpPassword: "email (it has a username)", slackWebhookUrl: "slack", webhookUrl: "webhook", pagerdutyRoutingKey: "pagerduty" };
  return requiredSecrets(o).filter((k) => !present(k))
    .map((k) => argIssue(["secrets", k], `is missing: receivers.${receiver[k]} needs it (pass it as a secret)`));
}

/** Checks the secrets against the receivers; messages never include a secret's value. */
export function checkMonitoringSecrets(o: Pick<ResolvedMonitoringOptions, "receivers">, secrets: MonitoringSecrets): void {
  const missing = missingSecretIssues(o, (k) => Boolean(secrets[k]));
  if (missing.length) throw new InvalidArgsError("monitoring", missing);
  parseArgs("monitoring", z.object({ secrets: monitoringSecretsSchema }), { secrets });
}
