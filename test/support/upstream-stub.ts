// A local fake of the Open-Meteo forecast API (GET /v1/forecast) that the server's weather tool calls.
// Modes: normal (valid answer), drifted (valid JSON in a changed format), slow (answers after slowMs),
// down (drops every connection without an answer), sparse (valid format, but most temperatures are null). Binds 127.0.0.1 on a free port.
// Several clients can share one stub and still fail one at a time: each uses its own path prefix as UPSTREAM_URL
// (`<url>/<prefix>`: the server keeps a base URL's path, server/src/upstream.ts), and a prefix may have its own mode,
// set here or, from another process, with `POST <url>/__stub/mode?prefix=<prefix>&mode=<mode>` (modeUrl(); without
// `prefix` it sets the global mode).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export type StubMode = "normal" | "drifted" | "slow" | "down" | "sparse";

export interface UpstreamStub {
  /** Base URL to pass as UPSTREAM_URL, e.g. http://127.0.0.1:PORT */
  url: string;
  /** The mode of every request, or only of those under `/<prefix>` (a prefix's own mode wins over the global one). */
  setMode(mode: StubMode, prefix?: string): void;
  /** Number of /v1/forecast requests received since start (or since resetRequests()). */
  requests(): number;
  resetRequests(): void;
  stop(): Promise<void>;
}

export interface StubOptions {
  /** Delay in "slow" mode (default 5000 ms; bounded so a stuck test still ends). */
  slowMs?: number;
}

function forecast(url: URL) {
  const lat = Number(url.searchParams.get("latitude"));
  const lon = Number(url.searchParams.get("longitude"));
  const days = Math.min(16, Math.max(1, Number(url.searchParams.get("forecast_days") ?? 7)));
  const time: string[] = [];
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < days; i++) time.push(new Date(start + i * 86_400_000).toISOString().slice(0, 10));
  return {
    latitude: lat,
    longitude: lon,
    timezone: "GMT",
    daily_units: { time: "iso8601", temperature_2m_max: "°C", temperature_2m_min: "°C", precipitation_sum: "mm" },
    daily: {
      time,
      temperature_2m_max: time.map((_, i) => 10 + i),
      temperature_2m_min: time.map((_, i) => 2 + i),
      precipitation_sum: time.map((_, i) => (i % 3) * 0.5),
    },
  };
}

const MODES: readonly StubMode[] = ["normal", "drifted", "slow", "down", "sparse"];
const PREFIX = /^[a-z0-9][a-z0-9-]{0,62}$/;
const FORECAST_PATH = /^(?:\/([a-z0-9][a-z0-9-]{0,62}))?\/v1\/forecast$/;

/** The URL that sets a prefix's mode (no prefix: the global mode) of the stub at `stubUrl` from another process (POST it). */
export function modeUrl(stubUrl: string, prefix: string | undefined, mode: StubMode): string {
  return `${stubUrl}/__stub/mode?${new URLSearchParams(prefix === undefined ? { mode } : { prefix, mode })}`;
}

export async function startUpstreamStub(opts: StubOptions = {}): Promise<UpstreamStub> {
  const slowMs = Math.min(opts.slowMs ?? 5000, 60_000);
  let globalMode: StubMode = "normal";
  const prefixModes = new Map<string, StubMode>();
  let count = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://stub");
    if (url.pathname === "/__stub/mode" && req.method === "POST") {
      const prefix = url.searchParams.get("prefix"); // absent: the global mode
      const m = url.searchParams.get("mode") as StubMode;
      if ((prefix !== null && !PREFIX.test(prefix)) || !MODES.includes(m)) { res.writeHead(400).end(`prefix must match ${PREFIX}, mode one of ${MODES.join(", ")}`); return; }
      if (prefix === null) globalMode = m; else prefixModes.set(prefix, m);
      res.writeHead(204).end();
      return;
    }
    const path = FORECAST_PATH.exec(url.pathname);
    if (!path) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":true,"reason":"not found"}');
      return;
    }
    const mode = (path[1] !== undefined ? prefixModes.get(path[1]) : undefined) ?? globalMode;
    count++;
    const send = (body: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    switch (mode) {
      case "normal": return send(forecast(url));
      case "drifted": {
        // Same data, renamed fields: what a silent upstream API change looks like.
        const f = forecast(url);
        return send({ ...f, daily: undefined, daily_data: { dates: f.daily.time, tmax: f.daily.temperature_2m_max } });
      }
      case "sparse": {
        // Schema-valid but mostly empty: what an upstream that silently lost a data source looks like.
        const f = forecast(url);
        const holes = (a: number[]) => a.map((v, i) => (i === 0 ? v : null));
        return send({ ...f, daily: { ...f.daily, temperature_2m_max: holes(f.daily.temperature_2m_max), temperature_2m_min: holes(f.daily.temperature_2m_min) } });
      }
      case "slow": {
        const t = setTimeout(() => { timers.delete(t); if (!res.destroyed) send(forecast(url)); }, slowMs);
        timers.add(t);
        return;
      }
      case "down": req.socket.destroy(); return;
    }
  });
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    setMode(m, prefix) {
      if (prefix === undefined) { globalMode = m; return; }
      if (!PREFIX.test(prefix)) throw new Error(`setMode: prefix must match ${PREFIX}`);
      prefixModes.set(prefix, m);
    },
    requests: () => count,
    resetRequests() { count = 0; },
    async stop() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
