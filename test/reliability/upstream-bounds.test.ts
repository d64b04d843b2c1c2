// The weather client against a hostile upstream (issue 13 items 3 and 8), in-process against a local HTTP server:
// redirects leave the configured origin only never (not even to the metadata address 169.254.169.254), bodies are
// capped before and after decompression, arrays are bounded by the days asked for, bytes must be UTF-8, and
// UPSTREAM_URL keeps its path prefix and query (and refuses userinfo at start-up).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { gzipSync } from "node:zlib";
import { WeatherClient, UpstreamError, UpstreamSchemaError } from "../../server/src/upstream.ts";
import { createMetrics } from "../../server/src/metrics.ts";
import { loadConfig, ConfigError } from "../../server/src/config.ts";

const KEY = { API_KEYS: "k".repeat(32) };
const LIMIT = 64 * 1024;
let server: Server;
let bomb: Buffer; // ~50 KB of gzip that inflates to 50 MB (built once, before memory is measured)
let base: string;
const seen: string[] = [];

function forecast(days: number) {
  const time = Array.from({ length: days }, (_, i) => `2026-01-${String(i + 1).padStart(2, "0")}`);
  return { latitude: 1, longitude: 2, timezone: "GMT", daily: { time, temperature_2m_max: time.map(() => 1), temperature_2m_min: time.map(() => 0), precipitation_sum: time.map(() => 0) } };
}

before(async () => {
  bomb = gzipSync(Buffer.from(JSON.stringify({ ...forecast(1), padding: "0".repeat(50 * 1024 * 1024) })));
  server = createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    seen.push(req.url!);
    const json = (body: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    switch (url.pathname.split("/")[1]) {
      case "ok": return json(forecast(Number(url.searchParams.get("forecast_days"))));
      case "metadata-redirect": return void res.writeHead(302, { location: "http://169.254.169.254/metadata/v1.json" }).end();
      case "other-host-redirect": return void res.writeHead(301, { location: `http://localhost:${(server.address() as { port: number }).port}/ok/v1/forecast` }).end();
      case "same-origin-redirect": return void res.writeHead(307, { location: `/ok${url.pathname.slice("/same-origin-redirect".length)}${url.search}` }).end();
      case "big": return json({ ...forecast(1), padding: "x".repeat(5 * LIMIT) });
      case "big-chunked": { res.writeHead(200, { "content-type": "application/json" }); for (let i = 0; i < 5; i++) res.write(" ".repeat(LIMIT)); return void res.end(JSON.stringify(forecast(1))); }
      case "gzip-bomb": {
        return void res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": String(bomb.length) }).end(bomb);
      }
      case "long-array": return json(forecast(2000));
      case "bad-utf8": {
        const [head, tail] = JSON.stringify(forecast(1)).split("GMT");
        return void res.writeHead(200, { "content-type": "application/json" }).end(Buffer.concat([Buffer.from(`${head}G`), Buffer.from([0xc3, 0x28]), Buffer.from(tail!)]));
      }
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

const client = (prefix: string) => new WeatherClient({ url: `${base}/${prefix}`, timeoutMs: 5000, retries: 0, maxBytes: LIMIT }, createMetrics());

test("a redirect to another origin (the droplet metadata address, another host name) is refused, not followed", async () => {
  for (const prefix of ["metadata-redirect", "other-host-redirect"]) {
    const before = seen.length;
    await assert.rejects(client(prefix).forecast(1, 2, 1), (e: Error) => e instanceof UpstreamError && e.type === "upstream_rejected" && /redirected to another origin/.test(e.message), prefix);
    assert.equal(seen.length, before + 1, `${prefix}: no request after the redirect`);
  }
  const f = await client("same-origin-redirect").forecast(1, 2, 2);
  assert.equal(f.days.length, 2, "a redirect within the origin is followed");
});

test("bodies over UPSTREAM_MAX_BYTES are refused: by Content-Length, while streaming, and after decompression (gzip bomb)", async () => {
  for (const prefix of ["big", "big-chunked", "gzip-bomb"]) {
    const rss = process.memoryUsage().rss;
    await assert.rejects(client(prefix).forecast(1, 2, 1), (e: Error) => e instanceof UpstreamError && e.type === "upstream_too_large" && /UPSTREAM_MAX_BYTES \(65536 bytes\)/.test(e.message), prefix);
    assert.ok(process.memoryUsage().rss - rss < 40 * 1024 * 1024, `${prefix}: memory stayed bounded`);
  }
});

test("more days than asked for is schema drift, not a 2,000-element result", async () => {
  await assert.rejects(client("long-array").forecast(1, 2, 1), (e: Error) => e instanceof UpstreamSchemaError && /daily\.time: too_big/.test(e.message));
});

test("a body that is not valid UTF-8 is schema drift (never decoded to U+FFFD)", async () => {
  await assert.rejects(client("bad-utf8").forecast(1, 2, 1), (e: Error) => e instanceof UpstreamSchemaError && /not valid UTF-8/.test(e.message));
});

test("UPSTREAM_URL keeps its path prefix and query; userinfo and a fragment are refused at start-up", async () => {
  const c = new WeatherClient({ url: `${base}/ok/?apikey=abc`, timeoutMs: 5000, retries: 0, maxBytes: LIMIT }, createMetrics());
  await c.forecast(1, 2, 1);
  const last = new URL(seen.at(-1)!, "http://x");
  assert.equal(last.pathname, "/ok/v1/forecast");
  assert.equal(last.searchParams.get("apikey"), "abc");
  assert.equal(last.searchParams.get("forecast_days"), "1");
  assert.throws(() => loadConfig({ ...KEY, UPSTREAM_URL: "https://user:pw@api.example.test" }), (e: Error) => e instanceof ConfigError && /^UPSTREAM_URL: .*must not contain user:password@/.test(e.message));
  assert.throws(() => loadConfig({ ...KEY, UPSTREAM_URL: "https://api.example.test/#x" }), /UPSTREAM_URL: .*#fragment/);
});
