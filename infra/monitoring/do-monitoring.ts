// McpMonitoring: DigitalOcean-native alerting for a deployed MCP server, no Prometheus needed on a small droplet —
// an HTTPS uptime check on the server's /health with down / latency / certificate-expiry alerts, and droplet
// CPU / memory / disk monitor alerts (the droplet needs `monitoring: true`, which McpHost sets).
import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { resolveMonitoringSettings, uptimeAlertPlan, monitorAlertPlan, type McpMonitoringSettings } from "./do-alert-plan.ts";
import { validateMonitoringArgs } from "./monitoring-args.ts";

export interface McpMonitoringArgs extends McpMonitoringSettings {
  /** The deep health URL, e.g. https://mcp.example.com/health (SelfHostedMcp.healthUrl). */
  healthUrl: pulumi.Input<string>;
  /** Droplets the monitor alerts watch (SelfHostedMcp.dropletId). */
  dropletIds: pulumi.Input<string>[];
  /** Slack incoming-webhook URL (kept secret); requires slackChannel. */
  slackWebhookUrl?: pulumi.Input<string>;
}

export class McpMonitoring extends pulumi.ComponentResource {
  readonly uptimeCheck: digitalocean.UptimeCheck;
  readonly uptimeAlerts: Record<string, digitalocean.UptimeAlert>;
  readonly monitorAlerts: Record<string, digitalocean.MonitorAlert>;
  readonly uptimeCheckId: pulumi.Output<string>;

  constructor(name: string, args: McpMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything, so bad settings leave no half-built component behind.
    validateMonitoringArgs(args);
    const { healthUrl, dropletIds, slackWebhookUrl, ...settings } = args;
    const s = resolveMonitoringSettings(settings, slackWebhookUrl !== undefined);
    super("selfhosted-mcp:index:McpMonitoring", name, {}, opts);
    const parent = { parent: this };
    const slacks = slackWebhookUrl !== undefined && s.slackChannel ? [{ channel: s.slackChannel, url: pulumi.secret(slackWebhookUrl) }] : [];
    const notify = { ...(s.emails.length ? { emails: s.emails } : {}), ...(slacks.length ? { slacks } : {}) };

    this.uptimeCheck = new digitalocean.UptimeCheck(`${name}-health`, {
      name: `${name} health`, target: healthUrl, type: "https", regions: s.regions, enabled: true,
    }, parent);
    this.uptimeCheckId = this.uptimeCheck.id;
    this.uptimeAlerts = Object.fromEntries(uptimeAlertPlan(s).map((a) => [a.key, new digitalocean.UptimeAlert(`${name}-${a.key}`, {
      checkId: this.uptimeCheck.id, name: `${name} ${a.key}`, type: a.type,
      ...(a.threshold !== undefined ? { threshold: a.threshold, comparison: a.comparison } : {}),
      ...(a.period ? { period: a.period } : {}),
      notifications: [notify],
    }, parent)]));
    this.monitorAlerts = Object.fromEntries(monitorAlertPlan(s, name).map((a) => [a.key, new digitalocean.MonitorAlert(`${name}-${a.key}`, {
      type: a.type, compare: a.compare, value: a.value, window: a.window, description: a.description,
      entities: dropletIds, enabled: true, alerts: notify,
    }, parent)]));
    this.registerOutputs({ uptimeCheckId: this.uptimeCheckId });
  }
}
