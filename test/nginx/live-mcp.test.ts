// nginx in front of the MCP server over TLS (test/support/nginx-live-site.ts): a real MCP client over https, the
// server's SSE progress stream through the proxy unbuffered, forwarded headers and upstream keep-alive (counted by a
// TCP relay), HTTP→HTTPS redirects, /health, /metrics never proxied, security headers.
import { it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../support/proc.ts";
import { describeLiveSite, DOMAIN, KEY_A, FORECAST, SLOW_MS } from "../support/nginx-live-site.ts";

describeLiveSite("nginx proxies MCP over TLS", (live) => {

  it("a real MCP client initializes, lists and calls tools over https through nginx", async () => {
    const { mcpClient } = live();
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
    const { mcpClient, stub } = live();
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
    const { mcpClient, relay, server } = live();
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
    const { origin, site, httpPort } = live();
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

  it("/health proxies the server's deep check (GET only): 200 healthy with its checks; POST is refused", async () => {
    const { client, origin, post } = live();
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
    const { client, origin, post } = live();
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
});
