// "Recorded only after the response was written": one scope per POST /mcp (AsyncLocalStorage, entered by the
// middleware http.ts puts right before its handler), so a tool call running anywhere below it can attach its usage
// event to the HTTP response that will carry its result. The events are handed to the meter on the response's
// `finish` — Node emits it once the last byte (the JSON body, or the SSE stream's final event and its end) has been
// handed to the socket (https://nodejs.org/api/http.html#event-finish). A response that closes without `finish`
// (client gone, connection cut at shutdown) drops its events: nothing was delivered, nothing is billed.
import { AsyncLocalStorage } from "node:async_hooks";
import type { ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import type { UsageEvent } from "./meter.ts";

export interface ScopeHandlers {
  /** The response was written: record these (their `at` is set to now). */
  written(events: UsageEvent[]): void;
  /** The response never completed: these are not billed. */
  gone(events: UsageEvent[]): void;
}

class ResponseScope {
  #pending: UsageEvent[] = [];
  #res: ServerResponse;
  #on: ScopeHandlers;

  constructor(res: ServerResponse, on: ScopeHandlers) { this.#res = res; this.#on = on; }

  add(event: UsageEvent): void {
    // Closed or already finished: this call's result cannot ride on this response any more.
    if (this.#res.destroyed || this.#res.writableFinished) { this.#on.gone([event]); return; }
    if (this.#pending.push(event) > 1) return;
    this.#res.once("finish", () => {
      const at = new Date().toISOString();
      this.#on.written(this.#pending.splice(0).map((e) => ({ ...e, at })));
    });
    this.#res.once("close", () => { if (this.#pending.length > 0) this.#on.gone(this.#pending.splice(0)); });
  }
}

export class UsageScopes {
  #als = new AsyncLocalStorage<ResponseScope>();
  #on: ScopeHandlers;

  constructor(on: ScopeHandlers) { this.#on = on; }

  /** Express middleware: everything the rest of this request runs (the MCP transport, the tools) sees its scope. */
  readonly middleware: RequestHandler = (_req, res, next) => { this.#als.run(new ResponseScope(res, this.#on), next); };

  /** Attaches `event` to the current request's response; false when there is no scope (not inside a POST /mcp). */
  attach(event: UsageEvent): boolean {
    const scope = this.#als.getStore();
    scope?.add(event);
    return scope !== undefined;
  }
}
