// The argument rules (zod) of the three monitoring components, like infra/components/host-args.ts for McpHost: each
// component parses its args with its schema before it registers anything and throws InvalidArgsError naming the
// component and the argument. The option rules themselves are the renderers' (do-alert-plan.ts, stack-options.ts,
// smoke-timer.ts); what is added here are the components' own arguments (Pulumi inputs: only their presence, or a plain
// value's form, is checked) and the rules that join them to the options.
import * as z from "zod";
import { parseArgs } from "../../contract/args-error.ts";
import { monitoringSettingsSchema, checkNotified } from "./do-alert-plan.ts";
import { monitoringOptionsObject, checkMonitoringOptions, missingSecretIssues } from "./stack-options.ts";
import { smokeTimerSchema } from "./smoke-timer.ts";
import type { McpMonitoringArgs } from "./do-monitoring.ts";
import type { McpMonitoringStackArgs } from "./monitoring-stack.ts";
import type { McpSmokeTimerArgs } from "./smoke-timer-component.ts";

/** A Pulumi input the component passes on: present (or not), its value unknown until the deployment. */
const input = z.unknown();
const required = (example: string) => z.custom((v) => v !== undefined, `is required (${example})`);

export const mcpMonitoringArgsSchema = monitoringSettingsSchema.extend({
  healthUrl: required("the deep health URL, e.g. SelfHostedMcp.healthUrl"),
  dropletIds: z.array(input).min(1, "is empty: pass the droplet id(s) to watch (e.g. SelfHostedMcp.dropletId)"),
  slackWebhookUrl: input.optional(),
}).superRefine((a, ctx) => checkNotified(a, a.slackWebhookUrl !== undefined, ctx));

export const monitoringStackArgsSchema = monitoringOptionsObject.extend({
  /** Optional here: SelfHostedMcp checks the stack's options (planMonitoringStack) before the host exists. */
  connection: input.optional(),
  secrets: z.record(z.string(), input).optional(),
  dependsOn: input.optional(),
  hostId: input.optional(),
  host: input.optional(),
}).superRefine((a, ctx) => {
  checkMonitoringOptions(a, ctx);
  for (const i of missingSecretIssues(a, (k) => a.secrets?.[k] !== undefined)) ctx.addIssue({ code: "custom", path: [...i.keys], message: i.message });
});

export const smokeTimerArgsSchema = smokeTimerSchema.omit({ withToken: true }).extend({
  connection: required("the SSH connection, e.g. McpHost.connection"),
  /** A plain token is checked here; a secret Output when the command runs (smokeTimerStdin). */
  token: input.optional().refine((t) => typeof t !== "string" || (t !== "" && !/[\r\n]/.test(t)), "must be one non-empty line (an API key of the server)"),
  dependsOn: input.optional(),
  hostId: input.optional(),
});

/** Checks McpMonitoring's args; throws InvalidArgsError ("McpMonitoring <arg>: ..."). */
export function validateMonitoringArgs(a: McpMonitoringArgs): void {
  parseArgs("McpMonitoring", mcpMonitoringArgsSchema, a);
}

/** Checks McpMonitoringStack's args (a receiver without its secret included); throws InvalidArgsError. */
export function validateMonitoringStackArgs(a: Omit<McpMonitoringStackArgs, "connection"> & { connection?: unknown }): void {
  parseArgs("McpMonitoringStack", monitoringStackArgsSchema, a);
}

/** Checks McpSmokeTimer's args; throws InvalidArgsError ("McpSmokeTimer <arg>: ..."). */
export function validateSmokeTimerArgs(a: McpSmokeTimerArgs): void {
  parseArgs("McpSmokeTimer", smokeTimerArgsSchema, a);
}
