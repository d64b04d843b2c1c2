// The HTTP boundary in the field (issue 13 items 5, 6, 7, 12, 13): one bearer rule, header logs by allow-list,
// CORS preflights answered before auth, batches only where the protocol has them, and JSON-RPC error codes as the
// MCP spec 2025-11-25 gives them (-32600 malformed object, -32602 unknown tool and invalid cursor).
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startServer, type RunningServer } from "../support/server.ts";
import { loadConfig } from "../../server/src/config.ts";
import { MCP_HEADERS } from "./mcp-client.ts";

const KEY = "hardening-key-0123456789abcdef";
const ORIGIN = "https://app.example.test";

describe("api-key server with a browser origin allowed", () => {
  let server: RunningServer;
  before(async () => { server = await startServer({ AUTH_MODE: "api-key", API_KEYS: KEY, ALLOWED_ORIGINS: ORIGIN, LOG_LEVEL: "debug" }); });
  after(async () => { await server?.stop(); });

  const rpc = (body: unknown, headers: Record<string, string> = {}) => fetch(server.mcpUrl, {
    method: "POST", body: JSON.stringify(body), headers: { ...MCP_HEADERS, authorization: `Bearer ${KEY}`, ...headers },
  });
  const call = (id: number, method: string, params: unknown = {}) => ({ jsonrpc: "2.0", id, method, params });

  test("Authorization must be exactly `Bearer <b64token>`: trailing words, two spaces or a non-b64token are no credential", async () => {
    for (const header of [`Bearer ${KEY} x`, `Bearer  ${KEY}`, `Bearer ${KEY},`]) {
      const r = await fetch(server.mcpUrl, { method: "POST", body: JSON.stringify(call(1, "ping")), headers: { ...MCP_HEADERS, authorization: header } });
      assert.equal(r.status, 401, JSON.stringify(header));
      assert.match(r.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
    }
    assert.equal((await rpc(call(1, "ping"))).status, 200, "the well-formed header still works");
    assert.throws(() => loadConfig({ API_KEYS: "key-with-a-comma;0123456789" }), /^Error: API_KEYS: key 1 contains characters a bearer token cannot carry/);
  });

  test("CORS: the preflight for an allowed origin is answered before auth; responses expose the MCP headers", async () => {
    const pre = await fetch(server.mcpUrl, { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, mcp-protocol-version" } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(pre.headers.get("access-control-allow-headers") ?? "", /Authorization.*Mcp-Protocol-Version/);
    assert.match(pre.headers.get("access-control-allow-methods") ?? "", /POST/);
    const denied = await fetch(server.mcpUrl, { method: "POST", body: "{}", headers: { ...MCP_HEADERS, origin: ORIGIN } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("access-control-allow-origin"), ORIGIN, "a 401 is readable by the browser client");
    assert.match(denied.headers.get("access-control-expose-headers") ?? "", /Mcp-Session-Id, WWW-Authenticate, Mcp-Protocol-Version/);
    const foreign = await fetch(server.mcpUrl, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get("access-control-allow-origin"), null);
  });

  test("batches: refused under 2025-11-25, 2025-06-18 and without a version; under 2025-03-26 at most MAX_BATCH_CALLS", async () => {
    const batch = Array.from({ length: 3 }, (_, i) => call(i + 1, "ping"));
    for (const version of ["2025-11-25", "2025-06-18", undefined]) {
      const r = await rpc(batch, version ? { "mcp-protocol-version": version } : {});
      assert.equal(r.status, 400, String(version));
      // A clean JSON-RPC error object (JSON-RPC 2.0 §5: id null when the request's id cannot be known), never an
      // exception's text.
      const body = await r.json() as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
      assert.deepEqual(Object.keys(body).sort(), ["error", "id", "jsonrpc"]);
      assert.equal(body.jsonrpc, "2.0");
      assert.equal(body.id, null);
      assert.equal(body.error.code, -32600);
      assert.match(body.error.message, /^Invalid Request: JSON-RPC batches are not part of MCP protocol/);
      assert.doesNotMatch(body.error.message, /is not a function|TypeError|\n\s+at /);
    }
    for (const odd of [[1, "x"], [null], []]) {
      const r = await rpc(odd, { "mcp-protocol-version": "2025-03-26" });
      assert.equal(r.status, 400, JSON.stringify(odd));
      const body = await r.json() as { jsonrpc: string; error: { code: number; message: string } };
      assert.equal(body.error.code, -32600, JSON.stringify(odd));
      assert.match(body.error.message, /^Invalid Request: (batch element 0 is not a JSON-RPC 2\.0 message|empty batch)$/);
    }
    const ok = await rpc(batch, { "mcp-protocol-version": "2025-03-26" });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json() as unknown[]).length, 3);
    const big = await rpc(Array.from({ length: 11 }, (_, i) => call(i + 1, "ping")), { "mcp-protocol-version": "2025-03-26" });
    assert.equal(big.status, 400);
    assert.match((await big.json() as { error: { message: string } }).error.message, /at most 10 messages \(MAX_BATCH_CALLS\)/);
  });

  test("JSON that is not a JSON-RPC message → -32600 Invalid Request (not -32700)", async () => {
    for (const body of [{ jsonrpc: "2.0", id: 7 }, { jsonrpc: "1.0", id: 7, method: "ping" }, { id: 7, method: "ping" }, 42, "ping", { jsonrpc: "2.0", id: 7, method: 5 }]) {
      const r = await rpc(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal((await r.json() as { error: { code: number } }).error.code, -32600, JSON.stringify(body));
    }
  });

  test("unknown tool → JSON-RPC -32602 (not an isError result); a cursor this server never issued → -32602", async () => {
    const r = await rpc(call(3, "tools/call", { name: "no_such_tool", arguments: {} }), { "mcp-protocol-version": "2025-11-25" });
    const body = await r.json() as { id: number; error?: { code: number; message: string }; result?: unknown };
    assert.equal(body.result, undefined);
    assert.equal(body.error?.code, -32602);
    assert.match(body.error!.message, /unknown tool "no_such_tool"/);
    const list = await rpc(call(4, "tools/list", { cursor: "bogus" }));
    assert.equal((await list.json() as { error?: { code: number } }).error?.code, -32602);
    const first = await rpc(call(5, "tools/list"));
    assert.equal((await first.json() as { result: { tools: unknown[] } }).result.tools.length, 4, "no cursor: one page");
  });

  test("headers are logged by allow-list at LOG_LEVEL=debug: no token-like header reaches the log", async () => {
    const secret = "SECRET-TOKEN-VALUE-4242";
    const r = await rpc(call(1, "ping"), { "x-api-key": secret, "x-auth-token": secret, "private-token": secret, cookie: `s=${secret}`, "x-request-id": "allow-list-probe" });
    await r.arrayBuffer();
    const entry = await server.waitForLog((e) => e.event === "http_request" && (e.req as { headers?: Record<string, string> }).headers?.["x-request-id"] === "allow-list-probe");
    const headers = (entry.req as { headers: Record<string, string> }).headers;
    assert.equal(headers["content-type"], "application/json");
    assert.deepEqual(Object.keys(headers).filter((h) => /auth|key|token|cookie|session/.test(h)), []);
    assert.ok(!server.logs().includes(secret), "the secret is in no log line");
    assert.ok(!server.logs().includes(KEY), "the API key is in no log line");
  });
});
