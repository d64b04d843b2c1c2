// The webhook sink: a Meter that records into the ledger (the outbox) and delivers undelivered events to
// METER_WEBHOOK_URL in the background — at least once, in order of time, deduplicated downstream by event id.
//
// Delivery: POST {"events":[{id, credential, tool, request_id, units, at}, ...]} (≤ batchSize events), JSON.
// With a secret, header `X-Usage-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
// (the Stripe webhook signature scheme). Any 2xx acknowledges the whole batch (its rows get delivered_at);
// anything else — another status, a timeout, a refused connection — leaves the batch in the ledger and the next
// attempt waits min(maxBackoffMs, backoffMs · 2^(failures-1)) · (0.5..1, jitter).
// Bounds: memory holds one batch (≤ batchSize events); the backlog lives on disk in the ledger and is visible as
// mcp_meter_undelivered_events. Attempts are unlimited in number on purpose: the events are durable, and giving up
// would lose billing data — alert on the backlog instead. Both deployment slots share the ledger while a deploy
// overlaps them, so a batch can be sent twice: receivers must deduplicate on `id` (that is the contract anyway).
// At shutdown the in-flight POST is aborted; its events stay undelivered and go out after the next start.
import { createHmac } from "node:crypto";
import type { Logger } from "../logger.ts";
import type { Ledger } from "./ledger.ts";
import type { Meter, UsageEvent } from "./meter.ts";
import type { MeterMetrics } from "./metrics.ts";

export interface WebhookOptions {
  url: string;
  /** HMAC key for X-Usage-Signature; undefined = unsigned. */
  secret: string | undefined;
  batchSize: number;
  timeoutMs: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export const SIGNATURE_HEADER = "x-usage-signature";

/** `t=<unix>,v1=<hex>` over "<t>.<body>" (the receiver recomputes it and compares in constant time). */
export function signature(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex")}`;
}

export class WebhookMeter implements Meter {
  #ledger: Ledger;
  #o: WebhookOptions;
  #log: Logger;
  #metrics: MeterMetrics;
  #stopped = false;
  #wake: (() => void) | undefined;
  #inflight: AbortController | undefined;
  #loop: Promise<void>;

  constructor(ledger: Ledger, opts: WebhookOptions, deps: { logger: Logger; metrics: MeterMetrics }) {
    this.#ledger = ledger;
    this.#o = opts;
    this.#log = deps.logger;
    this.#metrics = deps.metrics;
    deps.metrics.trackUndelivered(() => (this.#stopped ? 0 : ledger.countUndelivered()));
    this.#loop = this.#run(); // delivers what a previous run left undelivered, then waits for new events
  }

  record(event: UsageEvent): boolean {
    const fresh = this.#ledger.record(event);
    this.#wake?.();
    return fresh;
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#inflight?.abort();
    this.#wake?.();
    await this.#loop;
    await this.#ledger.close();
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      let batch: UsageEvent[];
      try {
        batch = this.#ledger.undelivered(this.#o.batchSize);
      } catch (e) {
        this.#log.error({ event: "meter_outbox_read_failed", err: { message: (e as Error).message } }, "usage outbox: cannot read undelivered events");
        batch = [];
        failures++;
      }
      if (batch.length === 0 && failures === 0) { await this.#sleep(undefined); continue; }
      if (batch.length > 0 && await this.#deliver(batch)) { failures = 0; continue; }
      failures++;
      const delay = Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** Math.min(failures - 1, 30));
      await this.#sleep(Math.round(delay * (0.5 + Math.random() / 2)));
      if (batch.length === 0) failures = 0; // a read failure retried once; then back to waiting for events
    }
  }

  /** Waits for a new event (ms undefined) or for `ms` milliseconds — cut short by close(). */
  #sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const t = ms === undefined ? undefined : setTimeout(done, ms);
      function done() { clearTimeout(t); resolve(); }
      this.#wake = () => { this.#wake = undefined; done(); };
      if (this.#stopped) done();
    });
  }

  /** One POST of `batch`; true when the receiver acknowledged it (and the rows are marked delivered). */
  async #deliver(batch: UsageEvent[]): Promise<boolean> {
    const body = JSON.stringify({ events: batch });
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#o.secret) headers[SIGNATURE_HEADER] = signature(this.#o.secret, body, Math.floor(Date.now() / 1000));
    const ac = new AbortController();
    this.#inflight = ac;
    const timer = setTimeout(() => ac.abort(), this.#o.timeoutMs);
    let problem: string;
    try {
      const res = await fetch(this.#o.url, { method: "POST", headers, body, signal: ac.signal, redirect: "error" });
      await res.body?.cancel();
      if (res.ok) {
        this.#ledger.markDelivered(batch.map((e) => e.id));
        this.#metrics.webhookDeliveries.inc({ outcome: "ok" });
        return true;
      }
      problem = `HTTP ${res.status}`;
    } catch (e) {
      problem = ac.signal.aborted ? (this.#stopped ? "aborted at shutdown" : `no answer within ${this.#o.timeoutMs} ms`) : (e as Error).message;
    } finally {
      clearTimeout(timer);
      this.#inflight = undefined;
    }
    this.#metrics.webhookDeliveries.inc({ outcome: "error" });
    this.#log.warn({ event: "meter_webhook_failed", events: batch.length, problem }, "usage webhook delivery failed; the events stay in the ledger and will be retried");
    return false;
  }
}
