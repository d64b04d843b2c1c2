// Live proof with real programs only: a private nginx (Debian's) runs the rendered HTTP-only site, certbot gets a
// certificate from pebble through the rendered ACME location and the rendered issuance script, the TLS phase is
// rendered and nginx reloaded, and the reference MCP server sits behind it (its forecast API a local stub). Then: a
// real MCP client over https, the server's SSE progress stream through the proxy, forwarded headers and upstream
// keep-alive (counted by a TCP relay), redirects, rate limits, body limit, /metrics, testssl, and a forced renewal
// picked up by the deploy hook without a restart.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, chmodSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  renderNginxConfig, renderUpstreamInclude, upstreamIncludePath, renderCertbotIssueScript, renderDeployHook,
  renewCommand, type SiteOptionsInput,
} from "../../nginx/index.ts";
import { startPebble, startPrivateNginx, type Pebble, type PrivateNginx } from "../support/acme.ts";
import { httpsClient, type HttpsClient } from "../support/https-client.ts";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { startTcpRelay, type TcpRelay } from "./tcp-relay.ts";
import { freePort, run, runOk, waitFor } from "../support/proc.ts";

const DOMAIN = "mcp.example.test";
const KEY_A = "key-a-0123456789abcdef0123456789abcdef";
const KEY_B = "key-b-fedcba9876543210fedcba9876543210";
const INIT = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
const FORECAST = { latitude: 52.52, longitude: 13.41, days: 2 };
/** How long the stub holds a forecast in "slow" mode: get_forecast's progress 1 comes before it, the result after. */
const SLOW_MS = 2000;

/** The JSON-RPC messages of an SSE body (`event: message` / `data: {...}` blocks). */
const sseMessages = (text: string) => text.split("\n\n").filter((e) => e.trim()).map((e) =>
  JSON.parse(e.slice(e.indexOf("data: ") + 6)) as { method?: string; id?: number; params?: { progress: number }; result?: unknown });

describe("nginx in front of the MCP server, TLS from pebble via certbot", { timeout: 600_000 }, () => {
  let work: string, httpPort: number, httpsPort: number, site: Omit<SiteOptionsInput, "phase">;
  let pebble: Pebble, nginx: PrivateNginx, server: RunningServer;
  let stub: UpstreamStub, relay: TcpRelay, client: HttpsClient, certbot: ReturnType<Pebble["certbotDirs"]>, hookPath: string;
  const origin = () => `https://${DOMAIN}:${httpsPort}`;
  const post = (path: string, headers: Record<string, string> = {}, body = INIT) => client.fetch(`${origin()}${path}`, {
    method: "POST", body,
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
  });
  const serverEnv = () => ({ AUTH_MODE: "api-key", API_KEYS: `${KEY_A},${KEY_B}`, PUBLIC_URL: origin(), UPSTREAM_URL: stub.url, HEALTH_CACHE_MS: "1000" });
  const writeUpstream = (name: string, port: number) =>
    writeFileSync(upstreamIncludePath(name, work), renderUpstreamInclude({ port, comment: `test slot ${port}` }));

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "nginx-live-"));
    chmodSync(work, 0o755);
    [httpPort, httpsPort] = [await freePort(), await freePort()];
    pebble = await startPebble({ httpPort });
    stub = await startUpstreamStub({ slowMs: SLOW_MS });
    // debug: the server logs the headers of every request it gets (authorization redacted), i.e. what nginx sent.
    server = await startServer({ ...serverEnv(), LOG_LEVEL: "debug" });
    relay = await startTcpRelay(server.port);
    certbot = pebble.certbotDirs();
    site = {
      domain: DOMAIN, listenAddresses: ["127.0.0.1"], httpPort, httpsPort,
      acmeWebroot: join(work, "webroot"), certbotConfigDir: certbot.configDir, upstreamIncludeDir: work,
      accessLog: join(work, "access.log"), errorLog: join(work, "error.log"),
      servers: [
        { name: "main", path: "/mcp", limits: { perIp: { rate: "50r/s", burst: 100 }, perCredential: { rate: "50r/s", burst: 100 }, maxBodySize: "64k" } },
        { name: "relay", limits: { perIp: { rate: "50r/s", burst: 100 } } },
        { name: "ip", limits: { perIp: { rate: "1r/m", burst: 4 }, perCredential: false } },
        { name: "cred", limits: { perIp: false, perCredential: { rate: "1r/m", burst: 2 } } },
        { name: "conn", limits: { perIp: { rate: "50r/s", burst: 100 }, connectionsPerIp: 2 } },
      ],
    };
    for (const name of ["main", "ip", "cred", "conn"]) writeUpstream(name, server.port);
    writeUpstream("relay", relay.port);
    nginx = await startPrivateNginx(renderNginxConfig({ ...site, phase: "http-only" }));

    hookPath = join(work, "deploy-hook.sh");
    writeFileSync(hookPath, renderDeployHook({ testCommand: nginx.testCommand, reloadCommand: nginx.reloadCommand }), { mode: 0o755 });
    const issue = join(work, "issue.sh");
    writeFileSync(issue, renderCertbotIssueScript({
      domain: DOMAIN, email: "ops@example.test", acmeServer: pebble.directoryUrl, acmeWebroot: site.acmeWebroot,
      certbotConfigDir: certbot.configDir, certbotWorkDir: certbot.workDir, certbotLogsDir: certbot.logsDir,
      deployHookPath: hookPath,
    }), { mode: 0o755 });
    const t0 = Date.now();
    await runOk("sh", [issue], { env: { ...process.env, ...pebble.certbotEnv }, timeoutMs: 120_000 });
    console.log(`# certbot issuance through nginx's ACME location: ${Date.now() - t0} ms`);

    nginx.writeSite(renderNginxConfig({ ...site, phase: "tls" }));
    await nginx.reload();
    client = httpsClient({ ca: await pebble.rootCaPem(), servername: DOMAIN });
    await waitFor("nginx serving TLS", async () => (await client.fetch(`${origin()}/nope`)).status === 404, { timeoutMs: 10_000 });
  });

  after(async () => {
    await client?.close();
    await nginx?.stop();
    await server?.stop();
    await relay?.stop();
    await stub?.stop();
    await pebble?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function mcpClient(path: string, token?: string, headers: Record<string, string> = {}) {
    const responses: Array<{ call: string; contentType: string }> = []; // call: the JSON-RPC method, else the HTTP method
    const recording: FetchLike = async (url, init) => {
      const r = await client.fetch(url, init);
      const rpc = typeof init?.body === "string" ? (JSON.parse(init.body) as { method?: string }).method : undefined;
      responses.push({ call: rpc ?? init?.method ?? "GET", contentType: r.headers.get("content-type") ?? "" });
      return r;
    };
    const transport = new StreamableHTTPClientTransport(new URL(`${origin()}${path}`), {
      fetch: recording, requestInit: { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } },
    });
    const mcp = new Client({ name: "nginx-live-test", version: "1.0.0" });
    await mcp.connect(transport);
    return { mcp, responses };
  }

  it("certbot got the certificate through the rendered ACME location (HTTP-01 from pebble's VA)", () => {
    const lines = readFileSync(site.accessLog as string, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, string | number>);
    const challenges = lines.filter((l) => String(l.uri).startsWith("/.well-known/acme-challenge/"));
    assert.ok(challenges.length >= 1, "pebble fetched the challenge");
    assert.ok(challenges.every((l) => l.status === 200), JSON.stringify(challenges));
  });

  it("a real MCP client initializes, lists and calls tools over https through nginx", async () => {
    const { mcp, responses } = await mcpClient("/mcp", KEY_A);
    try {
      const tools = await mcp.listTools();
      assert.ok(tools.tools.some((t) => t.name === "save_note"), JSON.stringify(tools.tools.map((t) => t.name)));
      const saved = await mcp.callTool({ name: "save_note", arguments: { request_id: "nginx-live-0001", title: "via nginx", body: "hello through TLS" } });
      assert.notEqual(saved.isError, true, JSON.stringify(saved));
      const id = (saved.structuredContent as { note: { id: string } }).note.id;
      const got = await mcp.callTool({ name: "get_note", arguments: { id } });
      assert.match(JSON.stringify(got.structuredContent), /hello through TLS/);
      // Without a progress token the reference server answers in JSON; nginx passes the type through unchanged.
      const typed = responses.map((r) => r.contentType).filter(Boolean); // 202s to notifications carry no body
      assert.ok(typed.length >= 4 && typed.every((t) => t.startsWith("application/json")), JSON.stringify(responses));
    } finally { await mcp.close(); }
  });

  it("the server's SSE progress stream arrives through the proxy intact and unbuffered", async () => {
    stub.setMode("slow"); // the forecast answer takes SLOW_MS: progress 1 (request sent upstream) comes long before the result
    const { mcp, responses } = await mcpClient("/mcp", KEY_A);
    try {
      const t0 = Date.now();
      const events: Array<{ event: string; at: number }> = [];
      const result = await mcp.callTool({ name: "get_forecast", arguments: FORECAST }, undefined,
        { onprogress: (p) => events.push({ event: `progress ${p.progress}`, at: Date.now() - t0 }), timeout: 30_000 });
      events.push({ event: "result", at: Date.now() - t0 });
      assert.notEqual(result.isError, true, JSON.stringify(result));
      assert.equal((result.structuredContent as { days: unknown[] }).days.length, FORECAST.days);
      assert.deepEqual(events.map((e) => e.event), ["progress 1", "progress 2", "progress 3", "result"]);
      assert.deepEqual(responses.filter((r) => r.call === "tools/call").map((r) => r.contentType), ["text/event-stream"]);
      // Buffered, every event would arrive together with the result; streamed, progress 1 arrives while the stub still
      // holds the answer. A gap, not an absolute latency, so a loaded machine does not make it flaky.
      const [first, done] = [events[0]!.at, events.at(-1)!.at];
      console.log(`# SSE through nginx: progress 1 at ${first} ms, result at ${done} ms`);
      assert.ok(done - first >= SLOW_MS / 2, `progress 1 at ${first} ms, result at ${done} ms: buffered?`);
    } finally {
      stub.setMode("normal");
      await mcp.close();
    }
  });

  it("forwards client IP, proto and host (spoofed X-Forwarded-* replaced) over kept-alive upstream connections", async () => {
    const marker = `fwd-${process.pid}-${Date.now()}`;
    const { mcp } = await mcpClient("/relay/mcp", KEY_A, { "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "http", "x-request-id": marker });
    try {
      const before = relay.connections();
      for (let i = 0; i < 5; i++) assert.ok((await mcp.listTools()).tools.length > 0);
      const opened = relay.connections() - before;
      assert.ok(opened <= 1, `5 requests opened ${opened} upstream connections`);
      type Logged = { event?: string; req?: { headers?: Record<string, string> } };
      const marked = () => (server.logEntries() as Logged[]).flatMap((e) =>
        e.event === "http_request" && e.req?.headers?.["x-request-id"] === marker ? [e.req.headers] : []);
      // The marker travels as X-Request-Id, a header the server logs (its log keeps only allow-listed headers).
      // initialize + notifications/initialized + 5 × tools/list (log lines arrive asynchronously over a pipe)
      const seen = await waitFor("the server's log of the requests", () => marked().length >= 7 && marked(), { timeoutMs: 5000, intervalMs: 50 });
      for (const h of seen) {
        assert.equal(h["x-forwarded-for"], "127.0.0.1");
        assert.equal(h["x-real-ip"], "127.0.0.1");
        assert.equal(h["x-forwarded-proto"], "https");
        assert.equal(h["x-forwarded-host"], DOMAIN);
        assert.equal(h.host, DOMAIN);
        assert.notEqual(h.connection, "close");
      }
    } finally { await mcp.close(); }
  });

  it("http:// redirects to https:// keeping path and query, except the ACME challenge path", async () => {
    const plain = (path: string) => fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { host: DOMAIN }, redirect: "manual" });
    const r = await plain("/mcp/some/path?x=1&y=two");
    assert.equal(r.status, 301);
    assert.equal(r.headers.get("location"), `${origin()}/mcp/some/path?x=1&y=two`);
    writeFileSync(join(site.acmeWebroot as string, ".well-known", "acme-challenge", "probe-token"), "probe-content");
    const acme = await plain("/.well-known/acme-challenge/probe-token");
    assert.equal(acme.status, 200);
    assert.equal(await acme.text(), "probe-content");
    assert.equal((await plain("/.well-known/acme-challenge/absent")).status, 404);
  });

  it("a burst past the per-IP limit gets 429 with Retry-After and a JSON-RPC error body", async () => {
    const responses = await Promise.all(Array.from({ length: 10 }, () => post("/ip/mcp", { authorization: `Bearer ${KEY_A}` })));
    const limited = responses.filter((r) => r.status === 429);
    assert.equal(limited.length, 5, responses.map((r) => r.status).join()); // 1 + burst 4 pass, at 1r/m no refill
    for (const r of limited) {
      assert.equal(r.headers.get("retry-after"), "60");
      assert.equal(r.headers.get("content-type"), "application/json");
      assert.ok(r.headers.get("strict-transport-security"));
      const body = await r.json() as { jsonrpc: string; id: null; error: { code: number; message: string } };
      assert.deepEqual({ jsonrpc: body.jsonrpc, id: body.id, code: body.error.code }, { jsonrpc: "2.0", id: null, code: -32000 });
      assert.match(body.error.message, /Rate limit exceeded/);
    }
    await Promise.all(responses.filter((r) => r.status !== 429).map((r) => r.arrayBuffer()));
  });

  it("two credentials from one IP are limited independently", async () => {
    const burst = async (key: string, n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await post("/cred/mcp", { authorization: `Bearer ${key}` });
        await r.arrayBuffer();
        statuses.push(r.status);
      }
      return statuses;
    };
    const a = await burst(KEY_A, 5);
    assert.deepEqual(a.map((s) => s === 429), [false, false, false, true, true], a.join()); // 1 + burst 2
    const b = await burst(KEY_B, 3);
    assert.ok(b.every((s) => s !== 429), `key B has its own budget: ${b.join()}`);
    assert.equal((await burst(KEY_A, 1))[0], 429);
    assert.equal((await burst(KEY_B, 1))[0], 429);
    const anonymous = await Promise.all(Array.from({ length: 5 }, async () => { const r = await post("/cred/mcp"); await r.arrayBuffer(); return r.status; }));
    assert.ok(anonymous.every((st) => st !== 429), `no bearer token: per-IP limit only (off here): ${anonymous.join()}`);
  });

  it("concurrent requests past the per-IP connection limit get 429 while open streams continue", async () => {
    stub.setMode("slow"); // each admitted call streams for SLOW_MS, so all three overlap
    try {
      const call = JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "get_forecast", arguments: FORECAST, _meta: { progressToken: "p-7" } } });
      const responses = await Promise.all([0, 1, 2].map(() => post("/conn/mcp", { authorization: `Bearer ${KEY_A}` }, call)));
      const bodies = await Promise.all(responses.map((r) => r.text()));
      const statuses = responses.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 200, 429], bodies.join("\n"));
      for (const [i, r] of responses.entries()) {
        if (r.status === 429) { assert.match(bodies[i]!, /Rate limit exceeded/); continue; }
        // the two admitted streams ran to completion: three progress events, then the result
        assert.equal(r.headers.get("content-type"), "text/event-stream");
        const messages = sseMessages(bodies[i]!);
        assert.deepEqual(messages.map((m) => m.method ?? `result ${m.id}`), [...Array(3).fill("notifications/progress"), "result 7"], bodies[i]);
        assert.deepEqual(messages.slice(0, 3).map((m) => m.params!.progress), [1, 2, 3]);
      }
    } finally { stub.setMode("normal"); }
  });

  it("an oversized body gets 413 from nginx; a body under the limit reaches the server", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(100_000) } });
    const r = await post("/mcp", { authorization: `Bearer ${KEY_A}` }, big);
    assert.equal(r.status, 413);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal((await r.json() as { error: { code: number } }).error.code, -32600);
    const small = await post("/mcp", { authorization: `Bearer ${KEY_A}` }, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(30_000) } }));
    assert.notEqual(small.status, 413);
    await small.arrayBuffer();
  });

  it("/health proxies the server's deep check (GET only): 200 healthy with its checks; POST is refused", async () => {
    const body = await waitFor("a healthy /health through nginx", async () => {
      const r = await client.fetch(`${origin()}/health`);
      const json = await r.json() as { status: string; checks: Record<string, unknown> };
      return r.status === 200 ? json : undefined;
    }, { timeoutMs: 20_000, intervalMs: 500 });
    assert.equal(body.status, "healthy");
    assert.ok("store" in body.checks && "upstream" in body.checks, JSON.stringify(body));
    const refused = await post("/health");
    assert.equal(refused.status, 403);
    await refused.arrayBuffer();
  });

  it("/metrics is 404 through nginx; responses carry security headers and no nginx version", async () => {
    for (const path of ["/metrics", "/mcp/../metrics", "/relay/metrics", "/livez", "/main/health"]) {
      const r = await client.fetch(`${origin()}${path}`);
      assert.equal(r.status, 404, path);
      await r.arrayBuffer();
    }
    const r = await post("/mcp", { authorization: `Bearer ${KEY_A}` });
    await r.arrayBuffer();
    assert.equal(r.headers.get("server"), "nginx");
    assert.equal(r.headers.get("strict-transport-security"), "max-age=63072000");
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    assert.equal(r.headers.get("x-frame-options"), "DENY");
  });

  it("testssl: TLS 1.0 and 1.1 not offered, TLS 1.2 and 1.3 offered", { timeout: 300_000 }, async () => {
    const t0 = Date.now();
    const r = await run("testssl", ["--quiet", "--color", "0", "--warnings", "off", "--protocols", "--ip", "127.0.0.1",
      `${DOMAIN}:${httpsPort}`], { timeoutMs: 240_000 });
    const out = r.stdout + r.stderr;
    console.log(`# testssl --protocols: ${Date.now() - t0} ms`);
    assert.match(out, /^\s*TLS 1\s+not offered/m, out);
    assert.match(out, /^\s*TLS 1\.1\s+not offered/m, out);
    assert.match(out, /^\s*TLS 1\.2\s+offered/m, out);
    assert.match(out, /^\s*TLS 1\.3\s+offered/m, out);
    assert.match(out, /^\s*SSLv3\s+not offered/m, out);
  });

  it("a forced renewal runs the deploy hook; nginx serves the new certificate without a restart", { timeout: 180_000 }, async () => {
    const before = await client.peerCertificate(httpsPort);
    const pid = nginx.pid();
    const [cmd, ...args] = renewCommand({
      certbotConfigDir: certbot.configDir, certbotWorkDir: certbot.workDir, certbotLogsDir: certbot.logsDir, deployHookPath: hookPath,
    });
    const t0 = Date.now();
    await runOk(cmd!, [...args, "--force-renewal"], { env: { ...process.env, ...pebble.certbotEnv }, timeoutMs: 120_000 });
    const after = await waitFor("the renewed certificate on the wire", async () => {
      const c = await client.peerCertificate(httpsPort);
      return c.fingerprint256 !== before.fingerprint256 && c;
    }, { timeoutMs: 15_000, intervalMs: 200 });
    console.log(`# forced renewal to new certificate served: ${Date.now() - t0} ms`);
    assert.notEqual(after.serialNumber, before.serialNumber);
    assert.match(after.subjectaltname ?? "", /DNS:mcp\.example\.test/);
    assert.equal(nginx.pid(), pid, "same master process: reloaded, not restarted");
  });

  it("no bearer token ever reaches nginx's logs", () => {
    const access = readFileSync(site.accessLog as string, "utf8");
    const logs = access + readFileSync(site.errorLog as string, "utf8") + nginx.errorLog();
    assert.match(access, /"status":429/);
    for (const secret of [KEY_A, KEY_B, KEY_A.slice(-16), KEY_B.slice(-16)]) assert.ok(!logs.includes(secret), "token in nginx logs");
  });
});
