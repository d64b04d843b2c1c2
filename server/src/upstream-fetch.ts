// One bounded HTTP GET to the upstream API: redirects followed only within the configured origin, the body read
// with a byte cap after decompression (a Content-Length above the cap is refused before reading), and decoded as
// strict UTF-8. Every way out is a typed error the weather client maps to a tool error.

/** Most redirects followed for one request (all within the upstream's origin). */
export const MAX_REDIRECTS = 3;

export type FetchFailure =
  | { kind: "status"; status: number }
  | { kind: "redirect"; location: string }
  | { kind: "too_large"; limit: number; declared?: number }
  | { kind: "not_utf8" };

export class BoundedFetchError extends Error {
  readonly failure: FetchFailure;
  constructor(failure: FetchFailure, message: string) { super(message); this.failure = failure; }
}

export interface BoundedFetchOptions { maxBytes: number; timeoutMs: number; headers?: Record<string, string> }

/**
 * GETs `url` and returns its status and body text. A redirect to another origin (scheme, host or port — e.g. the
 * droplet metadata address 169.254.169.254) is refused: the configured UPSTREAM_URL is the only origin the server
 * talks to (RFC 9110 §15.4 lets a client decline redirects). Throws BoundedFetchError for a refused redirect, an
 * oversized or non-UTF-8 body; fetch's own errors (timeout → TimeoutError, network → TypeError) pass through.
 */
export async function boundedGet(url: URL, opts: BoundedFetchOptions): Promise<{ status: number; text: string }> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let target = url;
  for (let hop = 0; ; hop++) {
    const res = await fetch(target, { signal, redirect: "manual", headers: opts.headers });
    if (res.status >= 300 && res.status < 400 && res.headers.has("location")) {
      await res.body?.cancel();
      const next = new URL(res.headers.get("location")!, target);
      if (next.origin !== url.origin) {
        throw new BoundedFetchError({ kind: "redirect", location: next.origin }, `upstream redirected to another origin (${next.origin}); refused — set UPSTREAM_URL to the final address`);
      }
      if (hop >= MAX_REDIRECTS) throw new BoundedFetchError({ kind: "redirect", location: next.origin }, `upstream redirected more than ${MAX_REDIRECTS} times`);
      target = next;
      continue;
    }
    if (!res.ok) { await res.body?.cancel(); return { status: res.status, text: "" }; }
    return { status: res.status, text: await readBounded(res, opts.maxBytes) };
  }
}

async function readBounded(res: Response, maxBytes: number): Promise<string> {
  const tooLarge = (declared?: number) => new BoundedFetchError({ kind: "too_large", limit: maxBytes, declared },
    `upstream response exceeds UPSTREAM_MAX_BYTES (${maxBytes} bytes)${declared === undefined ? "" : `: Content-Length ${declared}`}`);
  // Content-Length is the encoded (possibly compressed) size; refuse early when even that is over the cap.
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) { await res.body?.cancel(); throw tooLarge(declared); }
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  // fetch decompresses (gzip, deflate, br) as it streams: counting the chunks bounds the decompressed size.
  for await (const chunk of res.body) {
    total += chunk.byteLength;
    if (total > maxBytes) { await res.body.cancel().catch(() => {}); throw tooLarge(); }
    chunks.push(chunk);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new BoundedFetchError({ kind: "not_utf8" }, "upstream response is not valid UTF-8");
  }
}
