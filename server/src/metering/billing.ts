// What a tool declares next to its definition to be metered (and gated). Pass it as the third argument of
// ToolCalls.wrap: `calls.wrap("get_forecast", fn, FORECAST_BILLING)`. A tool without one is neither metered nor gated.
import type { PlanLimits } from "./plan-gate.ts";

export interface Billing<A> {
  /**
   * Billable units of one successful call: an integer ≥ 1, constant or computed from the (clamped, validated)
   * arguments — e.g. one unit per forecast day. Arguments are used for the count only; they are never recorded.
   */
  units: number | ((args: A) => number);
  /**
   * For idempotent tools: the argument naming one logical operation (e.g. save_note's request_id). Every call with
   * the same key (same credential, same tool) maps to one ledger row: a replay records nothing new, and a retry
   * after a response the client never received is billed once, on the first response that did reach it.
   */
  idempotencyKey?: (args: A) => string;
  /** Integer input fields capped per plan (plan-gate.ts), e.g. `{ days: { free: 3 } }`. */
  planLimits?: PlanLimits;
}

/** The units of one call; throws on a declaration that yields anything but an integer ≥ 1 (a bug in the tool). */
export function unitsOf<A>(billing: Billing<A>, args: A): number {
  const n = typeof billing.units === "function" ? billing.units(args) : billing.units;
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`billable units must be an integer >= 1, got ${n}`);
  return n;
}
