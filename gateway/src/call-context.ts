// Per-call plumbing between the gateway and one upstream's SDK Client, which shares one transport across all calls.
// The SDK's Client.request(…, { signal }) cancels a call by sending notifications/cancelled (MCP 2025-11-25,
// basic/utilities/cancellation) but leaves its HTTP POST open, and a stateless upstream (one server per POST) cannot
// route that notification to the running request. So each call runs in an AsyncLocalStorage context (CallContext) that
// the transport's fetch and send see:
// - fetch: the POST carrying the call is aborted with the call's signal — caller's cancellation or UPSTREAM_TIMEOUT_MS —
//   (the upstream sees its request close, and the SDK's server aborts the handler's signal), and its response body is
//   cut at UPSTREAM_MAX_BYTES;
// - send/onmessage: the JSON-RPC id the SDK gave the call is recorded, and an error response to it is kept verbatim
//   (the SDK turns it into an McpError whose message is prefixed "MCP error <code>: "), so the gateway forwards the
//   upstream's own { code, message, data }.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { isJSONRPCErrorResponse, isJSONRPCRequest, type JSONRPCErrorResponse, type RequestId } from "@modelcontextprotocol/sdk/types.js";

export class CallContext {
  readonly #abort = new AbortController();
  readonly #deadline: AbortSignal;
  /** Aborted when the caller's signal aborts, the deadline passes or the response grows past the byte limit. */
  readonly signal: AbortSignal;
  /** The upstream's JSON-RPC error answer to this call, as sent. */
  rpcError?: JSONRPCErrorResponse["error"];
  /** Set when the response body passed UPSTREAM_MAX_BYTES. */
  overflow = false;
  readonly #settled: Array<() => void> = [];

  /** `timeoutMs`: the deadline (UPSTREAM_TIMEOUT_MS); reaching it cancels the call like the caller would. */
  constructor(caller: AbortSignal | undefined, timeoutMs: number) {
    this.#deadline = AbortSignal.timeout(timeoutMs);
    this.signal = AbortSignal.any([...(caller ? [caller] : []), this.#deadline, this.#abort.signal]);
  }

  /** Whether the call was ended by its deadline. */
  get timedOut(): boolean { return this.#deadline.aborted; }

  /** Runs `f` once the call has settled (see settle). */
  onSettle(f: () => void): void { this.#settled.push(f); }

  /** Called by the caller when the call has its answer or failed: releases what the transport holds for it. */
  settle(): void { this.#settled.splice(0).forEach((f) => f()); }

  tooLarge(maxBytes: number): Error {
    this.overflow = true;
    const e = new Error(`the response is larger than ${maxBytes} bytes (UPSTREAM_MAX_BYTES)`);
    this.#abort.abort(e);
    return e;
  }
}

const calls = new AsyncLocalStorage<CallContext>();

/** Runs `f` (which sends exactly one request through a transport made by boundedFetch/trackErrors) as `ctx`'s call. */
export const runCall = <T>(ctx: CallContext, f: () => Promise<T>): Promise<T> => calls.run(ctx, f);

/**
 * A fetch for StreamableHTTPClientTransport over `base` (global fetch, or unix-fetch.ts): inside a call, the request is
 * also aborted by the call's signal and the response body is cut at `maxBytes` (Content-Length checked first).
 * Outside a call (the session's GET stream, the DELETE at close) it is `base` as is.
 */
export function boundedFetch(maxBytes: number, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const ctx = calls.getStore();
    if (!ctx) return base(input, init);
    const signal = init?.signal ? AbortSignal.any([init.signal, ctx.signal]) : ctx.signal;
    const res = await base(input, { ...init, signal });
    if (!res.body) return res;
    if (Number(res.headers.get("content-length") ?? 0) > maxBytes) {
      await res.body.cancel().catch(() => {});
      throw ctx.tooLarge(maxBytes);
    }
    let seen = 0;
    const limited = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        seen += chunk.byteLength;
        if (seen > maxBytes) out.error(ctx.tooLarge(maxBytes));
        else out.enqueue(chunk);
      },
    }));
    return new Response(limited, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/**
 * Hooks a connected client transport: a request sent inside a call is bound to that call by its JSON-RPC id, an error
 * response to it is stored on the call as sent, and any other message (notifications/cancelled, …) is sent outside
 * the call, so an aborted call's signal never aborts the notification that tells the upstream about it.
 */
export function trackCalls(transport: Transport): void {
  const byId = new Map<RequestId, CallContext>();
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    const ctx = calls.getStore();
    if (!ctx) return send(message, options);
    if (!isJSONRPCRequest(message)) return calls.exit(() => send(message, options));
    byId.set(message.id, ctx);
    ctx.onSettle(() => byId.delete(message.id));
    return send(message, options);
  };
  const deliver = transport.onmessage;
  if (!deliver) throw new Error("the MCP client did not install a message handler on its transport");
  transport.onmessage = (message, extra) => {
    if ("id" in message && message.id !== undefined && !("method" in message)) {
      const ctx = byId.get(message.id);
      byId.delete(message.id);
      if (ctx && isJSONRPCErrorResponse(message)) ctx.rpcError = message.error;
    }
    deliver(message, extra);
  };
}
