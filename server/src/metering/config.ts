// Metering configuration: the METER_* / PLAN_* / API_KEY_PLANS variables (validated by zod in ../config.ts)
// combined with the auth configuration. Returns a message naming the variable and the fix instead of throwing, so
// ../config.ts can wrap it in its ConfigError without an import cycle.
import { apiKeyId } from "./credential-id.ts";
import { parseKeyPlans, type Plan } from "./plan-gate.ts";
import type { WebhookOptions } from "./webhook-sink.ts";

export interface MeteringEnv {
  METER: "ledger" | "webhook" | "off";
  METER_WEBHOOK_URL?: string | undefined;
  METER_WEBHOOK_SECRET?: string | undefined;
  METER_WEBHOOK_BATCH: number;
  METER_WEBHOOK_TIMEOUT_MS: number;
  METER_WEBHOOK_BACKOFF_MS: number;
  METER_WEBHOOK_MAX_BACKOFF_MS: number;
  API_KEY_PLANS: string[];
  PLAN_CLAIM: string;
  PLAN_DEFAULT: Plan;
}

export interface MeteringConfig {
  /** ledger: record in DATA_DIR/usage.sqlite; webhook: that, plus delivery to the webhook; off: no usage recorded. */
  mode: "ledger" | "webhook" | "off";
  webhook: WebhookOptions | undefined;
  /** API key id (`key:<16 hex>`) → plan. */
  keyPlans: Map<string, Plan>;
  planClaim: string;
  defaultPlan: Plan;
}

type Auth = { mode: "none" } | { mode: "api-key"; keys: string[] } | { mode: "oauth" };

export function meteringConfig(e: MeteringEnv, auth: Auth): MeteringConfig | string {
  if (e.METER === "webhook" && !e.METER_WEBHOOK_URL) return "METER_WEBHOOK_URL: required when METER=webhook (the receiver's http(s) URL)";
  if (e.METER !== "webhook" && e.METER_WEBHOOK_URL) return `METER_WEBHOOK_URL: set, but METER=${e.METER}; set METER=webhook to deliver usage events, or unset METER_WEBHOOK_URL`;
  if (e.METER_WEBHOOK_MAX_BACKOFF_MS < e.METER_WEBHOOK_BACKOFF_MS) return "METER_WEBHOOK_MAX_BACKOFF_MS: must be at least METER_WEBHOOK_BACKOFF_MS";
  if (e.API_KEY_PLANS.length > 0 && auth.mode !== "api-key") return `API_KEY_PLANS: only applies with AUTH_MODE=api-key (AUTH_MODE is ${auth.mode}); OAuth plans come from the token claim PLAN_CLAIM`;
  const keyPlans = parseKeyPlans(e.API_KEY_PLANS, new Set(auth.mode === "api-key" ? auth.keys.map(apiKeyId) : []));
  if (typeof keyPlans === "string") return `API_KEY_PLANS: ${keyPlans}`;
  const webhook = e.METER === "webhook" ? {
    url: e.METER_WEBHOOK_URL!, secret: e.METER_WEBHOOK_SECRET, batchSize: e.METER_WEBHOOK_BATCH, timeoutMs: e.METER_WEBHOOK_TIMEOUT_MS,
    backoffMs: e.METER_WEBHOOK_BACKOFF_MS, maxBackoffMs: e.METER_WEBHOOK_MAX_BACKOFF_MS,
  } : undefined;
  return { mode: e.METER, webhook, keyPlans, planClaim: e.PLAN_CLAIM, defaultPlan: e.PLAN_DEFAULT };
}
