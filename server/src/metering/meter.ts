// The Meter interface: where a billable call goes once its response has been written to the client.
// Implementations: the SQLite ledger (ledger.ts, the default) and the webhook sink (webhook-sink.ts, which uses the
// ledger as its outbox). Events carry no tool arguments and no results.
import { createHash, randomUUID } from "node:crypto";

export interface UsageEvent {
  /** Event id: receivers deduplicate on it. Random, or derived from an idempotency key (see eventId). */
  id: string;
  /** Who is billed: `key:<16 hex>` (API key id), `oauth:<issuer>#<subject>`, or `anonymous` (credential-id.ts). */
  credential: string;
  tool: string;
  /** The HTTP request's X-Request-Id (set by the server when the client sent none). */
  request_id: string;
  /** Billable units, an integer ≥ 1, as the tool declares them (billing.ts). */
  units: number;
  /** When the response was written, ISO 8601 UTC. */
  at: string;
}

export interface Meter {
  /**
   * Records one event durably, synchronously. Recording the same id twice stores it once (the second call is a
   * no-op and returns false). Throws when the event could not be stored; the caller logs and counts that.
   */
  record(event: UsageEvent): boolean;
  /** Stops background work (webhook deliveries; undelivered events stay in the ledger) and closes the ledger. */
  close(): Promise<void>;
}

/**
 * The event id of one billable call. With an idempotency key (e.g. save_note's request_id) the id is derived from
 * credential, tool and key, so every replay of the same operation maps to the same ledger row; otherwise random.
 */
export function eventId(credential: string, tool: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return randomUUID();
  return createHash("sha256").update(`${credential}\0${tool}\0${idempotencyKey}`).digest("hex").slice(0, 32);
}
