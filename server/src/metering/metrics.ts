// Metering's Prometheus metrics, registered on the server's registry (metrics.ts). Alert on
// mcp_meter_write_failures_total increasing: every increment is a billable call missing from the ledger (its log
// entry, event "meter_write_failed", carries the event so it can be reconciled by hand).
import { Counter, Gauge, type Registry } from "prom-client";

export interface MeterMetrics {
  /** Billable calls by outcome: recorded | duplicate (replay of an already recorded operation) | client_gone | no_scope. */
  events: Counter<"outcome">;
  writeFailures: Counter<string>;
  planLookupFailures: Counter<string>;
  clamped: Counter<"tool">;
  webhookDeliveries: Counter<"outcome">;
  /** Read at scrape time from the function given to trackUndelivered (0 without a webhook sink). */
  undelivered: Gauge<string>;
  trackUndelivered(count: () => number): void;
}

export function createMeterMetrics(registry: Registry): MeterMetrics {
  let undelivered = () => 0;
  const registers = [registry];
  return {
    events: new Counter({ name: "mcp_meter_events_total", help: "Billable tool calls by metering outcome (recorded|duplicate|client_gone|no_scope).", labelNames: ["outcome"], registers }),
    writeFailures: new Counter({ name: "mcp_meter_write_failures_total", help: "Billable calls whose usage event could not be written to the ledger.", registers }),
    planLookupFailures: new Counter({ name: "mcp_plan_lookup_failures_total", help: "Plan lookups that failed; the call was let through as paid (fail open).", registers }),
    clamped: new Counter({ name: "mcp_plan_clamped_calls_total", help: "Tool calls whose input the plan gate reduced.", labelNames: ["tool"], registers }),
    webhookDeliveries: new Counter({ name: "mcp_meter_webhook_deliveries_total", help: "Usage webhook batch deliveries by outcome (ok|error).", labelNames: ["outcome"], registers }),
    undelivered: new Gauge({
      name: "mcp_meter_undelivered_events", help: "Usage events in the ledger not yet acknowledged by the webhook receiver.", registers,
      collect() { this.set(undelivered()); },
    }),
    trackUndelivered(count) { undelivered = count; },
  };
}
