// Builds metering for the process from Config.metering: the ledger (fatal if DATA_DIR is not writable, like the
// notes store), the webhook sink on top of it when configured, the plan source, and the metrics.
import type { Registry } from "prom-client";
import type { Logger } from "../logger.ts";
import type { MeteringConfig } from "./config.ts";
import type { AuthMode } from "./credential-id.ts";
import { Ledger } from "./ledger.ts";
import type { Meter } from "./meter.ts";
import { Metering } from "./metering.ts";
import { createMeterMetrics } from "./metrics.ts";
import { ConfigPlanSource } from "./plan-gate.ts";
import { WebhookMeter } from "./webhook-sink.ts";

export function setupMetering(cfg: MeteringConfig, deps: { dataDir: string; authMode: AuthMode; logger: Logger; registry: Registry }): { metering: Metering; meter: Meter | undefined } {
  const metrics = createMeterMetrics(deps.registry);
  let meter: Meter | undefined;
  if (cfg.mode !== "off") {
    const ledger = new Ledger(deps.dataDir);
    meter = cfg.webhook ? new WebhookMeter(ledger, cfg.webhook, { logger: deps.logger, metrics }) : ledger;
  }
  const plans = new ConfigPlanSource({ keyPlans: cfg.keyPlans, claim: cfg.planClaim, defaultPlan: cfg.defaultPlan });
  return { metering: new Metering({ meter, plans, authMode: deps.authMode, logger: deps.logger, metrics }), meter };
}
