// Deep health: a real store write/read on every call and an upstream check cached for HEALTH_CACHE_MS (with its own
// short timeout, no retry, one probe at a time). /livez stays shallow so a dead upstream never restarts the container.
import type { Store } from "./store.ts";
import type { WeatherClient } from "./upstream.ts";

export interface CheckResult { status: "ok" | "fail"; latency_ms: number; error?: string; checked_at?: string; cached?: boolean }
export interface HealthReport { status: "healthy" | "degraded"; checks: { store: CheckResult; upstream: CheckResult } }

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class HealthChecker {
  #store: Store;
  #weather: WeatherClient;
  #opts: { cacheMs: number; upstreamTimeoutMs: number };
  #upstream?: { result: CheckResult; at: number };
  #inflight?: Promise<CheckResult>;

  constructor(store: Store, weather: WeatherClient, opts: { cacheMs: number; upstreamTimeoutMs: number }) {
    this.#store = store; this.#weather = weather; this.#opts = opts;
  }

  #checkStore(): CheckResult {
    const t = performance.now();
    try { this.#store.probe(); return { status: "ok", latency_ms: Math.round(performance.now() - t) }; } catch (e) {
      return { status: "fail", latency_ms: Math.round(performance.now() - t), error: errorText(e) };
    }
  }

  async #probeUpstream(): Promise<CheckResult> {
    const t = performance.now();
    const checked_at = new Date().toISOString();
    try {
      await this.#weather.forecast(0, 0, 1, { timeoutMs: this.#opts.upstreamTimeoutMs, retries: 0 });
      return { status: "ok", latency_ms: Math.round(performance.now() - t), checked_at };
    } catch (e) {
      return { status: "fail", latency_ms: Math.round(performance.now() - t), checked_at, error: errorText(e) };
    }
  }

  async #checkUpstream(): Promise<CheckResult> {
    const c = this.#upstream;
    if (c && Date.now() - c.at < this.#opts.cacheMs) return { ...c.result, cached: true };
    this.#inflight ??= this.#probeUpstream().then((result) => {
      this.#upstream = { result, at: Date.now() };
      this.#inflight = undefined;
      return result;
    });
    return { ...(await this.#inflight), cached: false };
  }

  async check(): Promise<HealthReport> {
    const store = this.#checkStore();
    const upstream = await this.#checkUpstream();
    const healthy = store.status === "ok" && upstream.status === "ok";
    return { status: healthy ? "healthy" : "degraded", checks: { store, upstream } };
  }
}
