// DigitalOcean-native alerting as data (pure): which uptime alerts and droplet monitor alerts McpMonitoring creates,
// with which thresholds. Validated with zod so a bad value fails naming the option before any resource exists.
// Wire values are the DigitalOcean provider's (snake_case uptime types/comparisons, CamelCase monitor compares).
import * as z from "zod";
import { parseArgs } from "../../contract/args-error.ts";

export const UPTIME_REGIONS = ["us_east", "us_west", "eu_west", "se_asia"] as const;
const UPTIME_PERIODS = ["2m", "3m", "5m", "10m", "15m", "30m", "1h"] as const;
const MONITOR_WINDOWS = ["5m", "10m", "30m", "1h"] as const;
const percent = (what: string, def: number) => z.number().gt(0, `${what} is a percentage between 0 and 100`).max(100, `${what} is a percentage between 0 and 100`).default(def);

export const monitoringSettingsSchema = z.object({
  /** Addresses notified by e-mail (must be verified on the DigitalOcean account). */
  emails: z.array(z.email("must be an e-mail address")).default([]),
  /** Slack channel for the webhook given as `slackWebhookUrl` (e.g. "#ops"). */
  slackChannel: z.string().min(1, "slackChannel must name a channel, e.g. #ops").optional(),
  /** Regions the uptime check probes from. */
  regions: z.array(z.enum(UPTIME_REGIONS)).min(1, `regions needs at least one of ${UPTIME_REGIONS.join(", ")}`).default(["us_east", "eu_west"]),
  /** /health slower than this (ms) for `latencyPeriod` alerts. */
  latencyMs: z.number().int().min(50).max(60_000).default(3000),
  latencyPeriod: z.enum(UPTIME_PERIODS).default("5m"),
  /** /health failing from any region for this long alerts. */
  downPeriod: z.enum(UPTIME_PERIODS).default("2m"),
  /** Certificate expiring within this many days alerts. */
  sslExpiryDays: z.number().int().min(1).max(90).default(14),
  cpuPercent: percent("cpuPercent", 85),
  memoryPercent: percent("memoryPercent", 90),
  diskPercent: percent("diskPercent", 85),
  /** How long a droplet metric must stay above its threshold. */
  window: z.enum(MONITOR_WINDOWS).default("10m"),
}).strict();

export type McpMonitoringSettings = z.input<typeof monitoringSettingsSchema>;
export type ResolvedMonitoringSettings = z.output<typeof monitoringSettingsSchema>;

export interface UptimeAlertPlan { key: string; type: "down" | "latency" | "ssl_expiry"; threshold?: number; comparison?: "greater_than" | "less_than"; period?: string }
export interface MonitorAlertPlan { key: string; type: string; compare: "GreaterThan"; value: number; window: string; description: string }

/** Who is notified: Slack needs its channel and its webhook URL together, and someone must be notified. */
export function checkNotified(s: { emails?: readonly string[] | undefined; slackChannel?: string | undefined }, hasSlackWebhook: boolean, ctx: z.RefinementCtx): void {
  if (hasSlackWebhook !== (s.slackChannel !== undefined)) {
    ctx.addIssue({ code: "custom", path: [hasSlackWebhook ? "slackChannel" : "slackWebhookUrl"], message: "slackWebhookUrl and slackChannel go together: set both (or neither)" });
  }
  if (!s.emails?.length && !hasSlackWebhook) {
    ctx.addIssue({ code: "custom", path: ["emails"], message: 'no one to notify: set emails (e.g. ["ops@example.com"]) and/or slackWebhookUrl + slackChannel' });
  }
}

/** The settings with their defaults; throws InvalidArgsError ("McpMonitoring <setting>: ...") naming each bad one. */
export function resolveMonitoringSettings(s: McpMonitoringSettings, hasSlackWebhook: boolean): ResolvedMonitoringSettings {
  return parseArgs("McpMonitoring", monitoringSettingsSchema.superRefine((r, ctx) => checkNotified(r, hasSlackWebhook, ctx)), s);
}

export function uptimeAlertPlan(s: ResolvedMonitoringSettings): UptimeAlertPlan[] {
  return [
    { key: "down", type: "down", period: s.downPeriod },
    { key: "latency", type: "latency", threshold: s.latencyMs, comparison: "greater_than", period: s.latencyPeriod },
    { key: "ssl-expiry", type: "ssl_expiry", threshold: s.sslExpiryDays, comparison: "less_than" },
  ];
}

export function monitorAlertPlan(s: ResolvedMonitoringSettings, label: string): MonitorAlertPlan[] {
  const alert = (key: string, metric: string, value: number, what: string): MonitorAlertPlan => ({
    key, type: `v1/insights/droplet/${metric}`, compare: "GreaterThan", value, window: s.window,
    description: `${label}: ${what} above ${value} % for ${s.window}`,
  });
  return [
    alert("cpu", "cpu", s.cpuPercent, "CPU"),
    alert("memory", "memory_utilization_percent", s.memoryPercent, "memory"),
    alert("disk", "disk_utilization_percent", s.diskPercent, "disk usage"),
  ];
}
