// The plan gate: a credential's plan selects limits for expensive tool inputs. A tool declares them next to its
// definition (Billing.planLimits, billing.ts): integer input fields capped per plan, e.g. `{ days: { free: 3 } }`.
// A capped call still runs, on the clamped input, and its result says so in words an LLM can pass on.
// Plan lookup: API keys by their id from API_KEY_PLANS, OAuth tokens by a claim (PLAN_CLAIM), everything else
// PLAN_DEFAULT. A lookup that fails (a claim that is not a known plan, a source that throws) fails OPEN: the call is
// treated as paid, logged, and counted (mcp_plan_lookup_failures_total) — a broken plan source must not take
// service away from paying users.
import type { Credential } from "./credential-id.ts";

export const PLANS = ["free", "paid"] as const;
export type Plan = (typeof PLANS)[number];
/** The plan a failed lookup falls back to (fail open). */
export const FAIL_OPEN_PLAN: Plan = "paid";

const isPlan = (v: unknown): v is Plan => typeof v === "string" && (PLANS as readonly string[]).includes(v);

/** Limits per integer input field, per plan; a plan without an entry is not capped (the schema's maximum applies). */
export type PlanLimits = Record<string, Partial<Record<Plan, number>>>;

export interface PlanSource {
  /** The credential's plan. May throw (the gate then fails open). */
  planOf(credential: Credential): Plan;
}

export class PlanLookupError extends Error {}

/** Plans from configuration: API key ids → plan, an OAuth claim, and a default for everything else. */
export class ConfigPlanSource implements PlanSource {
  readonly #keys: ReadonlyMap<string, Plan>;
  readonly #claim: string;
  readonly #default: Plan;

  constructor(opts: { keyPlans: ReadonlyMap<string, Plan>; claim: string; defaultPlan: Plan }) {
    this.#keys = opts.keyPlans;
    this.#claim = opts.claim;
    this.#default = opts.defaultPlan;
  }

  planOf(c: Credential): Plan {
    if (c.kind === "api-key") return this.#keys.get(c.id) ?? this.#default;
    if (c.kind !== "oauth") return this.#default;
    const v = c.claims?.[this.#claim];
    if (v === undefined) return this.#default;
    if (!isPlan(v)) throw new PlanLookupError(`token claim ${JSON.stringify(this.#claim)} is ${JSON.stringify(v)}, not one of ${PLANS.join(", ")}`);
    return v;
  }
}

/**
 * Parses API_KEY_PLANS entries `key:<16 hex>=<plan>`; every id must belong to one of `knownIds` (the configured
 * keys). Returns the map, or a message naming the bad entry and the fix.
 */
export function parseKeyPlans(entries: string[], knownIds: ReadonlySet<string>): Map<string, Plan> | string {
  const map = new Map<string, Plan>();
  for (const entry of entries) {
    const m = /^(key:[0-9a-f]{16})=(.+)$/.exec(entry);
    if (!m) return `${JSON.stringify(entry)} is not key:<16 hex digits>=<plan> (a key's id: printf %s "$KEY" | sha256sum | cut -c1-16)`;
    const [, id, plan] = m as unknown as [string, string, string];
    if (!isPlan(plan)) return `${id}: plan ${JSON.stringify(plan)} is not one of ${PLANS.join(", ")}`;
    if (!knownIds.has(id)) return `${id} matches none of the configured API keys (a key's id: printf %s "$KEY" | sha256sum | cut -c1-16)`;
    map.set(id, plan);
  }
  return map;
}

export interface GateResult<A> {
  args: A;
  /** What was clamped, written for the model to relay; undefined when nothing was. */
  notice?: string;
}

/** Clamps `args` to `plan`'s limits for `tool`. Pure: no lookup, no logging. */
export function applyLimits<A extends Record<string, unknown>>(tool: string, limits: PlanLimits, plan: Plan, args: A): GateResult<A> {
  const clamped: Record<string, unknown> = { ...args };
  const notes: string[] = [];
  for (const [field, perPlan] of Object.entries(limits)) {
    const max = perPlan[plan];
    const asked = args[field];
    if (max === undefined || typeof asked !== "number" || asked <= max) continue;
    clamped[field] = max;
    notes.push(`${field} was reduced from ${asked} to ${max}`);
  }
  if (notes.length === 0) return { args };
  const notice = `Plan limit: this result is smaller than requested because the "${plan}" plan allows less for ${tool} (` +
    `${notes.join("; ")}). Tell the user that upgrading to the paid plan lifts this limit.`;
  return { args: clamped as A, notice };
}
