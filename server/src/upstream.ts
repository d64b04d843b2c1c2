// Client for an Open-Meteo-style forecast API: per-attempt timeout, bounded retry with backoff on transient
// failures, and zod validation of every response — a drifted format is a distinct error, never half-parsed data.
import * as z from "zod";
import type { Metrics } from "./metrics.ts";
import { boundedGet, BoundedFetchError } from "./upstream-fetch.ts";

export type UpstreamErrorType = "upstream_timeout" | "upstream_unavailable" | "upstream_rejected" | "upstream_too_large";
export class UpstreamError extends Error {
  readonly type: UpstreamErrorType;
  constructor(type: UpstreamErrorType, message: string) { super(message); this.type = type; }
}
export class UpstreamSchemaError extends Error {
  readonly type = "upstream_schema";
}

// Every array is bounded by the days asked for (an answer with more is drift, not data to copy into the result);
// strings by a length no real timezone or ISO date reaches.
const MAX_STRING = 64;
const forecastSchemas = new Map<number, z.ZodType>();
function forecastResponse(days: number): z.ZodType<{ latitude: number; longitude: number; timezone: string; daily: {
  time: string[]; temperature_2m_max: (number | null)[]; temperature_2m_min: (number | null)[]; precipitation_sum: (number | null)[];
} }> {
  let schema = forecastSchemas.get(days);
  if (!schema) {
    const values = z.array(z.number().nullable()).max(days);
    schema = z.object({
      latitude: z.number(),
      longitude: z.number(),
      timezone: z.string().max(MAX_STRING),
      daily: z.object({ time: z.array(z.string().max(MAX_STRING)).max(days), temperature_2m_max: values, temperature_2m_min: values, precipitation_sum: values }),
    }).refine((r) => {
      const n = r.daily.time.length;
      return r.daily.temperature_2m_max.length === n && r.daily.temperature_2m_min.length === n && r.daily.precipitation_sum.length === n;
    }, "daily arrays differ in length");
    forecastSchemas.set(days, schema);
  }
  return schema as never;
}

export interface ForecastDay { date: string; temperature_max_c: number | null; temperature_min_c: number | null; precipitation_mm: number | null }
export interface Forecast { latitude: number; longitude: number; timezone: string; days: ForecastDay[] }

export interface UpstreamOptions {
  /** Base URL; its path prefix and query are kept (`https://h/p?apikey=k` → `https://h/p/v1/forecast?apikey=k&…`). */
  url: string;
  timeoutMs: number;
  retries: number;
  /** Cap on the decompressed response body, bytes (UPSTREAM_MAX_BYTES). */
  maxBytes: number;
}

/** The forecast request URL under the configured base: its path prefix and query parameters are kept. */
export function forecastUrl(base: string, latitude: number, longitude: number, days: number): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/forecast`;
  const params = new URLSearchParams(url.search);
  const ours = {
    latitude: String(latitude), longitude: String(longitude), forecast_days: String(days), timezone: "auto",
    daily: "temperature_2m_max,temperature_2m_min,precipitation_sum",
  };
  for (const [k, v] of Object.entries(ours)) params.set(k, v);
  url.search = params.toString();
  return url;
}
/** Per-call options: the health check overrides timeout/retries; a tool passes `onStep` to report progress. */
export interface ForecastCallOptions extends Partial<Pick<UpstreamOptions, "timeoutMs" | "retries">> {
  onStep?: (message: string) => Promise<void>;
}

const BACKOFF_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class WeatherClient {
  readonly opts: UpstreamOptions;
  readonly metrics: Metrics;
  constructor(opts: UpstreamOptions, metrics: Metrics) { this.opts = opts; this.metrics = metrics; }

  /** Daily forecast. `call` lets the health check use a shorter timeout and no retry, and a tool follow the steps. */
  async forecast(latitude: number, longitude: number, days: number, call: ForecastCallOptions = {}): Promise<Forecast> {
    const { timeoutMs = this.opts.timeoutMs, retries = this.opts.retries, onStep = async () => {} } = call;
    const url = forecastUrl(this.opts.url, latitude, longitude, days);
    let lastError: UpstreamError = new UpstreamError("upstream_unavailable", "upstream unavailable");
    for (let attempt = 0; attempt <= retries; attempt++) {
      const of = `attempt ${attempt + 1} of ${retries + 1}`;
      if (attempt > 0) {
        const wait = BACKOFF_MS * 2 ** (attempt - 1);
        await onStep(`${lastError.message}; retrying in ${wait} ms (${of})`);
        await sleep(wait);
      } else {
        await onStep(`requesting the forecast from the upstream API (${of})`);
      }
      const end = this.metrics.upstreamDuration.startTimer();
      let text: string;
      let status: number;
      try {
        const res = await boundedGet(url, { timeoutMs, maxBytes: this.opts.maxBytes, headers: { accept: "application/json" } });
        if (res.status >= 500 || res.status === 429) {
          end({ outcome: "http_error" });
          lastError = new UpstreamError("upstream_unavailable", `upstream answered HTTP ${res.status}`);
          continue;
        }
        if (res.status < 200 || res.status >= 300) {
          end({ outcome: "http_error" });
          throw new UpstreamError("upstream_rejected", `upstream rejected the request with HTTP ${res.status}`);
        }
        text = res.text;
        status = res.status;
      } catch (e) {
        if (e instanceof UpstreamError) throw e;
        if (e instanceof BoundedFetchError) throw this.#refused(e, end);
        const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
        end({ outcome: timedOut ? "timeout" : "network_error" });
        lastError = timedOut
          ? new UpstreamError("upstream_timeout", `upstream did not answer within ${timeoutMs} ms`)
          : new UpstreamError("upstream_unavailable", "upstream unreachable or sent an unreadable response");
        continue;
      }
      await onStep(`upstream answered HTTP ${status} (${text.length} characters); validating the response format`);
      let body: unknown;
      try { body = JSON.parse(text); } catch { body = undefined; }
      const parsed = forecastResponse(days).safeParse(body);
      if (!parsed.success) {
        end({ outcome: "schema_error" });
        this.metrics.upstreamSchemaErrors.inc();
        throw new UpstreamSchemaError(`upstream response format changed: the forecast API no longer matches the expected schema (${describeDrift(parsed.error)})`);
      }
      end({ outcome: "ok" });
      const d = parsed.data;
      await onStep(`response valid: ${d.daily.time.length} day(s) for the grid cell at ${d.latitude}, ${d.longitude}`);
      return {
        latitude: d.latitude, longitude: d.longitude, timezone: d.timezone,
        days: d.daily.time.map((date, i) => ({
          date,
          temperature_max_c: d.daily.temperature_2m_max[i] ?? null,
          temperature_min_c: d.daily.temperature_2m_min[i] ?? null,
          precipitation_mm: d.daily.precipitation_sum[i] ?? null,
        })),
      };
    }
    throw new UpstreamError(lastError.type, `${lastError.message} (after ${retries + 1} attempt${retries ? "s" : ""})`);
  }

  /** A bounded-fetch refusal, not retried: a redirect or an oversize body is the same on the next attempt. */
  #refused(e: BoundedFetchError, end: (labels: { outcome: string }) => void): Error {
    switch (e.failure.kind) {
      case "not_utf8":
        end({ outcome: "schema_error" });
        this.metrics.upstreamSchemaErrors.inc();
        return new UpstreamSchemaError(`upstream response format changed: ${e.message}`);
      case "too_large":
        end({ outcome: "too_large" });
        return new UpstreamError("upstream_too_large", e.message);
      default:
        end({ outcome: "http_error" });
        return new UpstreamError("upstream_rejected", e.message);
    }
  }
}

/** Names the fields that drifted (paths and expectations only — never upstream values, which may be large or odd). */
function describeDrift(error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join(".") : "(response)"}: ${i.code}`);
  return `${issues.join("; ")}${error.issues.length > 3 ? `; +${error.issues.length - 3} more` : ""}`;
}
