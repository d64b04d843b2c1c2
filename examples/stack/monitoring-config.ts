// Stack config keys of the on-droplet monitoring stack (example program, Pulumi.yaml): read, validated and turned into
// McpMonitoringStack options before any resource registers; a bad value fails with the key and the
// `pulumi config set ...` that fixes it (StackConfigError, like examples/stack/config.ts). It reuses the stack's existing
// alert keys (alertEmails, alertSlackChannel + secret alertSlackWebhookUrl, latencySlaSeconds) and adds SMTP, generic
// webhook and PagerDuty receivers. On by default as soon as a receiver is configured; `alertmanager: false` opts out.
import * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import { StackConfigError, fixCommand, stackConfigErrorOf, type ConfigIssue } from "./config-error.ts";
import { InvalidArgsError } from "../../contract/args-error.ts";
import { isEmptyDefault, MONITORING_SECRET_KEYS } from "./secret-rules.ts";

export { MONITORING_SECRET_KEYS };
import { resolveMonitoringOptions, monitoringOptionsObject, type MonitoringOptions, type MonitoringSecrets } from "../../infra/monitoring/stack-options.ts";
import { alertRuleOptionsSchema } from "../../infra/monitoring/alert-rules.ts";

type SecretKey = keyof typeof MONITORING_SECRET_KEYS;

/** The pipeline's timers (Prometheus, Alertmanager) among the monitoring options, and the rules' windows among the thresholds. */
const PIPELINE_TIMINGS = ["scrapeInterval", "evaluationInterval", "groupWait", "groupInterval", "repeatInterval"] as const;
const RULE_TIMINGS = ["rateWindow", "restartWindow", "driftWindow", "errorRatioFor", "latencyFor", "smokeFailingFor"] as const;
const pickKeys = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, true])) as { [P in K]: true };
/**
 * `alertTimings`: how fast an alert can fire and resolve. Each field keeps its production default when absent
 * (scrape and evaluation every 30s; Alertmanager group_wait 30s, group_interval 5m, repeat_interval 4h; rule windows
 * 5m / 30m / 10m; `for:` 2m / 5m / 10m), validated by the same schemas the renderers use. Shorter values alert sooner
 * and cost the droplet more CPU; the rehearsal's alert drill uses seconds.
 */
export const alertTimingsSchema = monitoringOptionsObject.pick(pickKeys(PIPELINE_TIMINGS))
  .extend(alertRuleOptionsSchema.pick(pickKeys(RULE_TIMINGS)).shape).strict();

/** The fields of `t` among `keys` that are set. */
const given = <K extends string>(t: Partial<Record<K, string>>, keys: readonly K[]) =>
  Object.fromEntries(keys.filter((k) => t[k] !== undefined).map((k) => [k, t[k]!]));

export const MonitoringSettingsSchema = z.object({
  alertmanager: z.boolean().optional(),
  alertSmtpSmarthost: z.string().regex(/^[A-Za-z0-9.-]+:[0-9]{1,5}$/, "must be host:port of your SMTP server, e.g. smtp.example.com:587").optional(),
  alertSmtpFrom: z.email("must be the sender e-mail address").optional(),
  alertSmtpUsername: z.string().min(1).optional(),
  alertSmtpRequireTls: z.boolean().default(true),
  alertErrorRatio: z.number().gt(0, "must be a share between 0 and 1, e.g. 0.05").lt(1, "must be a share between 0 and 1, e.g. 0.05").default(0.05),
  prometheusRetention: z.string().regex(/^[1-9][0-9]*(h|d)$/, 'must be a duration like "15d" or "72h"').default("15d"),
  prometheusRetentionSize: z.string().regex(/^[1-9][0-9]*(MB|GB)$/, 'must be a size like "512MB" or "2GB"').default("512MB"),
  // `{}` as Pulumi.yaml declares it: an absent field is left to the renderers' own default.
  alertTimings: alertTimingsSchema.partial().default({}),
});
export type MonitoringSettings = z.infer<typeof MonitoringSettingsSchema>;

const fix = fixCommand;

/** The stack key each monitoring option comes from (the rest, e.g. the stack's own ports, report as alertmanager). */
const OPTION_KEYS: Record<string, string> = {
  "thresholds.errorRatio": "alertErrorRatio", "thresholds.latencySlaSeconds": "latencySlaSeconds", retentionTime: "prometheusRetention",
  retentionSize: "prometheusRetentionSize", "receivers.email.to": "alertEmails", "receivers.email.from": "alertSmtpFrom",
  "receivers.email.smarthost": "alertSmtpSmarthost", "receivers.email.username": "alertSmtpUsername", "receivers.slack.channel": "alertSlackChannel",
  ...Object.fromEntries([...PIPELINE_TIMINGS, ...RULE_TIMINGS.map((k) => `thresholds.${k}`)].map((k) => [k, "alertTimings"])),
};

/** What the rest of the stack config already says (examples/stack/config.ts settings). */
export interface StackContext { app: string; port: number; metricsPort: number; latencySlaSeconds: number; alertEmails: string[]; alertSlackChannel?: string | undefined }

/**
 * Pure: validates the monitoring keys plus which secrets are set; returns the options (undefined when off).
 * Throws StackConfigError naming each bad key with its fix.
 */
export function validateMonitoringSettings(raw: Record<string, unknown>, present: ReadonlySet<SecretKey>, ctx: StackContext): MonitoringOptions | undefined {
  const parsed = MonitoringSettingsSchema.safeParse(raw);
  const issue = (key: string, message: string): ConfigIssue => ({ key, message, fix: fix(key) });
  if (!parsed.success) {
    throw new StackConfigError(parsed.error.issues.map((i) => {
      const key = String(i.path[0]);
      const field = i.path.length > 1 ? `${i.path.slice(1).join(".")}: ` : "";
      return issue(key, `${field}${i.message} (got ${JSON.stringify(raw[key])})`);
    }));
  }
  const s = parsed.data;
  const issues: ConfigIssue[] = [];
  const email = s.alertSmtpSmarthost !== undefined;
  if (email && ctx.alertEmails.length === 0) issues.push(issue("alertEmails", "alertSmtpSmarthost is set but no recipient: list alertEmails"));
  if (email && !s.alertSmtpFrom) issues.push(issue("alertSmtpFrom", "alertSmtpSmarthost is set, so the sender address is required"));
  if (s.alertSmtpUsername && !present.has("alertSmtpPassword")) issues.push(issue("alertSmtpPassword", "alertSmtpUsername is set, so its password is required"));
  if (!s.alertSmtpUsername && present.has("alertSmtpPassword")) issues.push(issue("alertSmtpUsername", "alertSmtpPassword is set, so the user name it belongs to is required"));
  if (!email && (s.alertSmtpFrom || s.alertSmtpUsername)) issues.push(issue("alertSmtpSmarthost", "SMTP settings are set but not the server to send through"));
  if (issues.length) throw new StackConfigError(issues);
  const receivers: MonitoringOptions["receivers"] = {
    ...(email ? { email: { to: ctx.alertEmails, from: s.alertSmtpFrom!, smarthost: s.alertSmtpSmarthost!, requireTls: s.alertSmtpRequireTls, ...(s.alertSmtpUsername ? { username: s.alertSmtpUsername } : {}) } } : {}),
    ...(ctx.alertSlackChannel && present.has("alertSlackWebhookUrl") ? { slack: { channel: ctx.alertSlackChannel } } : {}),
    ...(present.has("alertWebhookUrl") ? { webhook: {} } : {}),
    ...(present.has("alertPagerdutyRoutingKey") ? { pagerduty: {} } : {}),
  };
  const any = Object.keys(receivers!).length > 0;
  if (s.alertmanager === true && !any) {
    throw new StackConfigError([issue("alertmanager", "alertmanager is true but no receiver is configured: set alertSmtpSmarthost (+ alertEmails), alertSlackChannel + alertSlackWebhookUrl, alertWebhookUrl or alertPagerdutyRoutingKey")]);
  }
  if (s.alertmanager === false || !any) return undefined;
  const t = s.alertTimings;
  const options: MonitoringOptions = {
    app: ctx.app, port: ctx.port, metricsPort: ctx.metricsPort, retentionTime: s.prometheusRetention, retentionSize: s.prometheusRetentionSize,
    ...given(t, PIPELINE_TIMINGS),
    thresholds: { latencySlaSeconds: ctx.latencySlaSeconds, errorRatio: s.alertErrorRatio, ...given(t, RULE_TIMINGS) },
    receivers,
  };
  try { resolveMonitoringOptions(options); } catch (e) {
    if (e instanceof InvalidArgsError) throw stackConfigErrorOf(e, OPTION_KEYS, "alertmanager");
    throw e;
  }
  return options;
}

/** An object key as the CLI delivers it (JSON text: `pulumi config set --path`, or Pulumi.yaml's `{}` default). */
function parseObject(key: string, text: string): unknown {
  try { return JSON.parse(text); } catch {
    throw new StackConfigError([{ key, message: `must be an object (got ${JSON.stringify(text)})`, fix: fix(key) }]);
  }
}

/**
 * Reads the keys from the project's config (secrets stay Outputs) and validates them. Values arrive as the CLI delivers
 * them (strings; Pulumi.yaml's declared defaults included): "" means unset, and a secret key counts as set only when it
 * is more than its empty default (isEmptyDefault). That the secret keys really are secrets is loadStackConfig's check
 * (they are in SECRET_KEYS); call it first.
 */
export function loadMonitoringConfig(ctx: StackContext, config: pulumi.Config = new pulumi.Config()):
  { options: MonitoringOptions; secrets: { [K in keyof MonitoringSecrets]?: pulumi.Output<string> } } | undefined {
  // The raw value, without Config.get's "use getSecret" warning for secret keys.
  const value = (key: string) => pulumi.runtime.getConfig(`${config.name}:${key}`);
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(MonitoringSettingsSchema.shape)) {
    const text = value(key);
    if (text === undefined || text === "") continue;
    raw[key] = key === "alertTimings" ? parseObject(key, text)
      : /^(true|false|[0-9.]+)$/.test(text) && !/Smarthost|Retention/.test(key) ? JSON.parse(text) : text;
  }
  const present = new Set((Object.keys(MONITORING_SECRET_KEYS) as SecretKey[]).filter((k) => !isEmptyDefault(value(k))));
  const options = validateMonitoringSettings(raw, present, ctx);
  if (!options) return undefined;
  const secrets = Object.fromEntries([...present].map((k) => [MONITORING_SECRET_KEYS[k], config.requireSecret(k)]));
  return { options, secrets };
}
