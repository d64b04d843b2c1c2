// nginx's limits in front of the MCP server over TLS (test/support/nginx-live-site.ts): per-IP and per-credential
// rate limits (429 + Retry-After + JSON-RPC body), the per-IP connection limit with open streams continuing, the body
// limit (413), and no bearer token in nginx's logs.
import { it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describeLiveSite, KEY_A, KEY_B, FORECAST, SLOW_MS, sseMessages } from "../support/nginx-live-site.ts";

describeLiveSite("nginx limits requests per IP, per credential, per connection and by body size", (live) => {

  it("a burst past the per-IP limit gets 429 with Retry-After and a JSON-RPC error body", async () => {
    const { post } = live();
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
    const { post } = live();
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
    assert.deepEqual(a.map((st) => st === 429), [false, false, false, true, true], a.join()); // 1 + burst 2
    const b = await burst(KEY_B, 3);
    assert.ok(b.every((s) => s !== 429), `key B has its own budget: ${b.join()}`);
    assert.equal((await burst(KEY_A, 1))[0], 429);
    assert.equal((await burst(KEY_B, 1))[0], 429);
    const anonymous = await Promise.all(Array.from({ length: 5 }, async () => { const r = await post("/cred/mcp"); await r.arrayBuffer(); return r.status; }));
    assert.ok(anonymous.every((st) => st !== 429), `no bearer token: per-IP limit only (off here): ${anonymous.join()}`);
  });

  it("concurrent requests past the per-IP connection limit get 429 while open streams continue", async () => {
    const { post, stub } = live();
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
    const { post } = live();
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(100_000) } });
    const r = await post("/mcp", { authorization: `Bearer ${KEY_A}` }, big);
    assert.equal(r.status, 413);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal((await r.json() as { error: { code: number } }).error.code, -32600);
    const small = await post("/mcp", { authorization: `Bearer ${KEY_A}` }, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(30_000) } }));
    assert.notEqual(small.status, 413);
    await small.arrayBuffer();
  });

  it("no bearer token ever reaches nginx's logs", () => {
    const { site, nginx } = live();
    const access = readFileSync(site.accessLog as string, "utf8");
    const logs = access + readFileSync(site.errorLog as string, "utf8") + nginx.errorLog();
    assert.match(access, /"status":429/);
    for (const secret of [KEY_A, KEY_B, KEY_A.slice(-16), KEY_B.slice(-16)]) assert.ok(!logs.includes(secret), "token in nginx logs");
  });
});
