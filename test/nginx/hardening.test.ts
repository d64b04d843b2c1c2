// Issue 13 through a real nginx (the rendered TLS site, a self-signed certificate) in front of a recording stub
// upstream: client timeouts (item 1), the one bearer rule for the per-credential key (item 6), no query string or
// Referer in any log (item 7), CORS preflights through nginx (item 12), the health path from the run contract (item 14).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type IncomingHttpHeaders } from "node:http";
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderNginxConfig, renderUpstreamInclude, upstreamIncludePath } from "../../nginx/index.ts";
import { bearerToken } from "../../contract/bearer.ts";
import { startPrivateNginx, selfSignedCertbotLive, type PrivateNginx } from "../support/nginx.ts";
import { httpsClient, type HttpsClient } from "../support/https-client.ts";
import { freePort } from "../support/proc.ts";

const DOMAIN = "mcp.example.test";
const ORIGIN = "https://app.example.test";
const KEY = "key-0123456789abcdef0123456789abcdef";

describe("nginx hardening (issue 13) through a real nginx", { timeout: 120_000 }, () => {
  let work: string, nginx: PrivateNginx, client: HttpsClient, upstream: Server, httpsPort: number, accessLog: string, errorLog: string;
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  const url = (path: string) => `https://${DOMAIN}:${httpsPort}${path}`;
  const send = async (path: string, init: { method?: string; headers?: Record<string, string> } = {}) => {
    const r = await client.fetch(url(path), { method: init.method ?? "POST", headers: { "content-type": "application/json", ...init.headers },
      ...(init.method && init.method !== "POST" ? {} : { body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' }) });
    return { status: r.status, headers: r.headers, text: await r.text() };
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "nginx-hardening-"));
    chmodSync(work, 0o755);
    const live = await selfSignedCertbotLive(join(work, "letsencrypt"), DOMAIN);
    // The stub answers like the server does after issue 13: preflights for ORIGIN, exposed headers on responses.
    upstream = createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      req.resume();
      const cors = req.headers.origin === ORIGIN ? { "access-control-allow-origin": ORIGIN, vary: "Origin" } : {};
      if (req.method === "OPTIONS") {
        res.writeHead(204, { ...cors, "access-control-allow-methods": "GET, POST, DELETE", "access-control-max-age": "600",
          "access-control-allow-headers": "authorization, content-type, mcp-session-id, mcp-protocol-version" }).end();
        return;
      }
      req.once("end", () => res.writeHead(200, { ...cors, "content-type": "application/json", "mcp-session-id": "s-1",
        "access-control-expose-headers": "Mcp-Session-Id, WWW-Authenticate, Mcp-Protocol-Version" }).end(`{"path":"${req.url}"}`));
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const port = (upstream.address() as { port: number }).port;
    const dead = await freePort(); // nothing listens: every request there is a 502 with an error-log line
    for (const name of ["main", "cred", "cors"]) writeFileSync(upstreamIncludePath(name, work), renderUpstreamInclude({ port }));
    writeFileSync(upstreamIncludePath("dead", work), renderUpstreamInclude({ port: dead }));
    httpsPort = await freePort();
    [accessLog, errorLog] = [join(work, "access.log"), join(work, "error.log")];
    nginx = await startPrivateNginx(renderNginxConfig({
      domain: DOMAIN, phase: "tls", listenAddresses: ["127.0.0.1"], httpPort: await freePort(), httpsPort,
      certbotConfigDir: join(work, "letsencrypt"), upstreamIncludeDir: work, acmeWebroot: join(work, "webroot"), accessLog, errorLog,
      servers: [
        { name: "main", path: "/mcp", healthPath: "/healthz" },
        { name: "cred", limits: { perIp: false, perCredential: { rate: "1r/m", burst: 0 } } },
        { name: "cors", limits: { perIp: { rate: "1r/m", burst: 0 }, perCredential: false } },
        { name: "dead" },
      ],
    }));
    client = httpsClient({ ca: readFileSync(join(live, "fullchain.pem"), "utf8"), servername: DOMAIN });
  });

  after(async () => {
    await client?.close();
    await nginx?.stop();
    await new Promise((r) => upstream?.close(r));
    rmSync(work, { recursive: true, force: true });
  });

  it("item 14: the public health location is the run contract's healthPath, proxied to that path", async () => {
    const r = await send("/healthz", { method: "GET" });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), { path: "/healthz" });
    assert.equal((await send("/health", { method: "GET" })).status, 404);
  });

  it("item 6: a header is a credential to nginx's per-credential limit exactly when bearerToken() reads one", async () => {
    // Each case on its own token: limited (429 on the 2nd request at 1r/m, burst 0) iff the server sees a credential.
    const cases = (t: string) => [`Bearer ${t}`, `bearer ${t}`, `Bearer ${t} x`, `Bearer  ${t}`, `Bearer\t${t}`, `Bearer ${t},x`, `Basic ${t}`];
    for (const [i, header] of cases("T").entries()) {
      const h = header.replace("T", `${KEY}-${i}`);
      const statuses = [(await send("/cred/mcp", { headers: { authorization: h } })).status, (await send("/cred/mcp", { headers: { authorization: h } })).status];
      const credential = bearerToken(h) !== undefined;
      assert.deepEqual(statuses, credential ? [200, 429] : [200, 200], `${JSON.stringify(h)}: ${statuses}`);
    }
  });

  it("item 12: CORS preflights pass nginx (no rate limit, headers both ways) while POSTs of that IP get 429", async () => {
    const preflight = { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, mcp-session-id" };
    assert.equal((await send("/cors/mcp", { headers: { origin: ORIGIN } })).status, 200);
    const limited = await send("/cors/mcp", { headers: { origin: ORIGIN } });
    assert.equal(limited.status, 429, "the per-IP budget (1r/m, burst 0) is spent");
    for (let i = 0; i < 3; i++) {
      const r = await send("/cors/mcp", { method: "OPTIONS", headers: preflight });
      assert.equal(r.status, 204, `preflight ${i}: ${r.status} ${r.text}`);
      assert.equal(r.headers.get("access-control-allow-origin"), ORIGIN);
      assert.equal(r.headers.get("access-control-allow-headers"), "authorization, content-type, mcp-session-id, mcp-protocol-version");
      assert.equal(r.headers.get("access-control-max-age"), "600");
    }
    const got = seen.filter((s) => s.method === "OPTIONS").at(-1)!;
    assert.equal(got.headers.origin, ORIGIN);
    assert.equal(got.headers["access-control-request-method"], "POST");
    assert.equal(got.headers["access-control-request-headers"], preflight["access-control-request-headers"]);
    const ok = await send("/mcp", { headers: { origin: ORIGIN, authorization: `Bearer ${KEY}` } });
    assert.equal(ok.headers.get("access-control-allow-origin"), ORIGIN);
    assert.equal(ok.headers.get("access-control-expose-headers"), "Mcp-Session-Id, WWW-Authenticate, Mcp-Protocol-Version");
    assert.equal(ok.headers.get("mcp-session-id"), "s-1");
  });

  it("item 7: a token in the query string or Referer is refused (400) and lands in no log; errors still log without them", async () => {
    const q = await send("/dead/mcp?access_token=SECRET-QUERY-1&x=1");
    assert.equal(q.status, 400, q.text);
    assert.match(JSON.parse(q.text).error.message, /Authorization header/);
    const ref = await send("/dead/mcp", { headers: { referer: `${ORIGIN}/callback?code=SECRET-REFERER-2` } });
    assert.equal(ref.status, 400, ref.text);
    const path = await send("/dead/mcp", { headers: { referer: `${ORIGIN}/SECRET-REFERER-3/page` } });
    assert.equal(path.status, 400, path.text);
    // An origin-only Referer (what browsers send cross-origin) passes; the dead upstream makes an error-log line.
    const fine = await send("/dead/mcp", { headers: { referer: `${ORIGIN}/`, authorization: `Bearer SECRET-BEARER-4` } });
    assert.equal(fine.status, 502);
    const logs = () => [accessLog, errorLog, nginx.errorLogPath].map((f) => { try { return readFileSync(f, "utf8"); } catch { return ""; } }).join("\n");
    assert.match(readFileSync(errorLog, "utf8"), /connect\(\) failed .*request: "POST \/dead\/mcp HTTP\/1\.1"/, "the error log has request lines");
    for (const secret of ["SECRET-QUERY-1", "SECRET-REFERER-2", "SECRET-REFERER-3", "SECRET-BEARER-4", KEY]) {
      assert.ok(!logs().includes(secret), `${secret} in nginx's logs`);
    }
  });

  it("item 1: nginx drops a stalled TLS handshake, a stalled header and a stalled body after 10 s (defaults)", { timeout: 30_000 }, async () => {
    const closedAfter = (open: (done: () => void) => void) => new Promise<number>((resolve) => {
      const t0 = Date.now();
      open(() => resolve((Date.now() - t0) / 1000));
    });
    const opts = { host: "127.0.0.1", port: httpsPort, servername: DOMAIN, rejectUnauthorized: false };
    const [hello, header, body] = await Promise.all([
      closedAfter((done) => { const s = tcpConnect(opts, () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]))); s.on("error", () => {}); s.once("close", done); }),
      closedAfter((done) => { const s = tlsConnect(opts, () => s.write(`POST /mcp HTTP/1.1\r\nHost: ${DOMAIN}\r\nX-Slow: `)); s.on("error", () => {}); s.on("data", () => {}); s.once("close", done);
        const t = setInterval(() => s.write("a"), 1000); s.once("close", () => clearInterval(t)); }),
      closedAfter((done) => { const s = tlsConnect(opts, () => s.write(`POST /mcp HTTP/1.1\r\nHost: ${DOMAIN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`)); s.on("error", () => {}); s.on("data", () => {}); s.once("close", done); }),
    ]);
    console.log(`# closed after: TLS handshake ${hello} s, header ${header} s (one byte/s), body ${body} s`);
    for (const [what, s] of [["handshake", hello], ["header (trickled)", header], ["body", body]] as const) {
      assert.ok(s >= 9 && s <= 14, `${what} stalled: closed after ${s} s, expected ~10 s`);
    }
  });
});
