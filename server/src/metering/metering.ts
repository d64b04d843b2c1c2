// The one object tools/instrument.ts talks to: the plan gate before a billable tool runs, and the charge after it
// succeeded — attached to the HTTP response and recorded by the Meter only once that response was written.
// Never recorded: tool arguments, results, tokens or keys (the credential is an id, credential-id.ts).
import type { RequestHandler } from "express";
import type { Logger } from "../logger.ts";
import type { Extra } from "../tools/instrument.ts";
import { credentialOf, type AuthMode, type Credential } from "./credential-id.ts";
import { eventId, type Meter, type UsageEvent } from "./meter.ts";
import { unitsOf, type Billing } from "./billing.ts";
import { applyLimits, FAIL_OPEN_PLAN, type GateResult, type Plan, type PlanSource } from "./plan-gate.ts";
import type { MeterMetrics } from "./metrics.ts";
import { UsageScopes } from "./usage-scope.ts";

export interface MeteringDeps {
  /** Where events go; undefined = metering off (METER=off): the plan gate still applies. */
  meter: Meter | undefined;
  plans: PlanSource;
  authMode: AuthMode;
  logger: Logger;
  metrics: MeterMetrics;
}

const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class Metering {
  #d: MeteringDeps;
  #scopes: UsageScopes;

  constructor(deps: MeteringDeps) {
    this.#d = deps;
    this.#scopes = new UsageScopes({ written: (events) => this.#record(events), gone: (events) => this.#gone(events) });
  }

  /** Middleware for POST /mcp, placed right before the handler (after body parsing). */
  get scope(): RequestHandler { return this.#scopes.middleware; }

  /** The caller's plan; a lookup that throws fails open (FAIL_OPEN_PLAN), logged and counted. */
  planOf(credential: Credential, tool: string): Plan {
    try {
      return this.#d.plans.planOf(credential);
    } catch (e) {
      this.#d.metrics.planLookupFailures.inc();
      this.#d.logger.warn({ event: "plan_lookup_failed", credential: credential.id, tool, err: { message: errMessage(e) }, plan: FAIL_OPEN_PLAN }, "plan lookup failed: treating the caller as paid (fail open)");
      return FAIL_OPEN_PLAN;
    }
  }

  /** Clamps a billable tool's arguments to the caller's plan (Billing.planLimits). */
  gate<A>(tool: string, billing: Billing<A>, args: A, extra: Extra): GateResult<A> {
    if (!billing.planLimits) return { args };
    const credential = credentialOf(this.#d.authMode, extra.authInfo);
    const gated = applyLimits(tool, billing.planLimits, this.planOf(credential, tool), args as Record<string, unknown>);
    if (gated.notice) this.#d.metrics.clamped.inc({ tool });
    return gated as GateResult<A>;
  }

  /** Call after the tool call succeeded (no isError): the event is recorded once its response has been written. */
  charge<A>(tool: string, billing: Billing<A>, args: A, extra: Extra): void {
    if (!this.#d.meter) return;
    const header = extra.requestInfo?.headers["x-request-id"];
    const requestId = typeof header === "string" ? header : ""; // http.ts always sets one
    let event: UsageEvent;
    try {
      const credential = credentialOf(this.#d.authMode, extra.authInfo).id;
      event = {
        id: eventId(credential, tool, billing.idempotencyKey?.(args)), credential, tool,
        request_id: requestId, units: unitsOf(billing, args), at: "",
      };
    } catch (e) {
      this.#failed({ tool, request_id: requestId }, e);
      return;
    }
    if (!this.#scopes.attach(event)) {
      // A tool ran outside a POST /mcp scope: a wiring bug that would lose billing silently, so make it loud.
      this.#d.metrics.events.inc({ outcome: "no_scope" });
      this.#failed(event, new Error("no HTTP response scope for this call (is the metering middleware mounted before the /mcp handler?)"));
    }
  }

  #record(events: UsageEvent[]): void {
    for (const e of events) {
      try {
        const fresh = this.#d.meter!.record(e);
        this.#d.metrics.events.inc({ outcome: fresh ? "recorded" : "duplicate" });
      } catch (err) {
        this.#failed(e, err);
      }
    }
  }

  #gone(events: UsageEvent[]): void {
    this.#d.metrics.events.inc({ outcome: "client_gone" }, events.length);
    this.#d.logger.info({ event: "meter_not_billed", reason: "response not delivered", calls: events.map((e) => ({ tool: e.tool, request_id: e.request_id })) }, "usage not recorded: the client did not receive the response");
  }

  /** A billable call that could not be recorded: an error log carrying the event (for reconciliation) and a metric. */
  #failed(event: Partial<UsageEvent>, err: unknown): void {
    this.#d.metrics.writeFailures.inc();
    this.#d.logger.error({ event: "meter_write_failed", usage: event, err: { message: errMessage(err) } }, "usage event NOT recorded: billable call missing from the ledger");
  }
}
