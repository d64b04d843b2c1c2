// Response mode of one POST /mcp. The SDK's transport answers either with a single JSON body or with an SSE stream
// that can carry request-scoped notifications (progress) before the result; the choice is fixed per transport
// (`enableJsonResponse`). Stateless mode builds a transport per POST, so it streams exactly the calls that asked for
// progress and keeps the cheaper JSON answer for everything else. Stateful mode: see sessions.ts.

interface MaybeProgressCall { method?: unknown; params?: { _meta?: { progressToken?: unknown } } }

function isProgressCall(message: unknown): boolean {
  const m = message as MaybeProgressCall | null;
  const token = m?.params?._meta?.progressToken;
  return m?.method === "tools/call" && (typeof token === "string" || typeof token === "number");
}

/**
 * True when the POST should be answered as `text/event-stream`: its body (one message or a batch) holds a tools/call
 * with `params._meta.progressToken`. (A client whose Accept lacks text/event-stream gets 406 from the SDK's transport.)
 */
export function wantsEventStream(body: unknown): boolean {
  return (Array.isArray(body) ? body : [body]).some(isProgressCall);
}
