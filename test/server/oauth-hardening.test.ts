// AUTH_MODE=oauth as a resource server in the field (issue 13 items 9, 10, 11): metadata at the RFC 9728 §3.1 path
// for a sub-path PUBLIC_URL, audience compared in canonical form, JWKS outages are 5xx (not 401), `scp` as a
// space-separated string, a clock tolerance that works, issuer checked against the AS metadata at start-up, and
// stateful sessions bound to issuer + subject (two users of one OAuth client cannot share a session).
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startServer, type RunningServer } from "../support/server.ts";
import { run, freePort } from "../support/proc.ts";
import { MAIN } from "../support/server.ts";
import { initializeBody, MCP_HEADERS } from "./mcp-client.ts";
import { startIssuer, type Issuer } from "./jwks.ts";

const post = (url: string, token: string, extra: Record<string, string> = {}, body = initializeBody) =>
  fetch(url, { method: "POST", headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, ...extra }, body });

describe("oauth with a sub-path PUBLIC_URL, stateful sessions", () => {
  let server: RunningServer;
  let issuer: Issuer;
  let port: number;
  before(async () => {
    port = await freePort();
    // The advertised resource is http://localhost:PORT/weather/mcp; OAUTH_AUDIENCE spells it with an upper-case host
    // and the default port of nothing — tokens use a third spelling. All three are one canonical URL.
    issuer = await startIssuer(`http://LOCALHOST:${port}/weather/mcp/`);
    server = await startServer({
      PORT: String(port), PUBLIC_URL: `http://localhost:${port}/weather`, AUTH_MODE: "oauth", MCP_SESSIONS: "stateful",
      OAUTH_ISSUER: issuer.issuer, OAUTH_JWKS_URL: issuer.jwksUrl, OAUTH_AUDIENCE: `http://Localhost:${port}/weather/mcp`, OAUTH_CLOCK_TOLERANCE_S: "30",
    });
  });
  after(async () => { await server?.stop(); await issuer?.stop(); });

  test("RFC 9728 §3.1: the metadata URL in WWW-Authenticate is derived from the resource and answers 200", async () => {
    const r = await fetch(server.mcpUrl, { method: "POST", headers: MCP_HEADERS, body: initializeBody });
    assert.equal(r.status, 401);
    const url = /resource_metadata="([^"]+)"/.exec(r.headers.get("www-authenticate") ?? "")?.[1];
    assert.equal(url, `http://localhost:${port}/.well-known/oauth-protected-resource/weather/mcp`);
    const m = await fetch(url!.replace("localhost", "127.0.0.1"), { headers: { origin: "https://app.other.example" } });
    assert.equal(m.status, 200, "served at the derived path, to any Origin (public metadata)");
    assert.equal((await m.json() as { resource: string }).resource, `http://localhost:${port}/weather/mcp`);
  });

  test("audience: other spellings of the resource URL are the same resource", async () => {
    const r = await post(server.mcpUrl, await issuer.sign());
    assert.equal(r.status, 200, await r.text());
  });

  test("scp as a space-separated string (Microsoft Entra) carries the scopes", async () => {
    const r = await post(server.mcpUrl, await issuer.sign({ scope: null, scp: "openid mcp:tools" }));
    assert.equal(r.status, 200);
  });

  test("the exp clock tolerance works: a token expired 10 s ago is accepted with OAUTH_CLOCK_TOLERANCE_S=30", async () => {
    const r = await post(server.mcpUrl, await issuer.sign({ expiresIn: Math.floor(Date.now() / 1000) - 10 }));
    assert.equal(r.status, 200);
    const old = await post(server.mcpUrl, await issuer.sign({ expiresIn: Math.floor(Date.now() / 1000) - 120 }));
    assert.equal(old.status, 401);
  });

  test("a session is bound to issuer + subject: another user of the same client gets 404, and cannot delete it", async () => {
    const alice = await issuer.sign({ sub: "alice" });
    const bob = await issuer.sign({ sub: "bob" });
    const init = await post(server.mcpUrl, alice);
    const sid = init.headers.get("mcp-session-id")!;
    await init.body?.cancel();
    const headers = { "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" };
    const ping = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" });
    const asBob = await post(server.mcpUrl, bob, headers, ping);
    assert.equal(asBob.status, 404);
    const del = await fetch(server.mcpUrl, { method: "DELETE", headers: { ...headers, authorization: `Bearer ${bob}` } });
    assert.equal(del.status, 404);
    const asAlice = await post(server.mcpUrl, alice, headers, ping);
    assert.equal(asAlice.status, 200);
    await asAlice.body?.cancel();
  });

  test("JWKS unavailable (404, 503, an HTML page) → 500 server_error, never 401 invalid_token", async () => {
    const fresh = await startServer({ PORT: String(await freePort()), AUTH_MODE: "oauth", OAUTH_ISSUER: issuer.issuer, OAUTH_JWKS_URL: issuer.jwksUrl, OAUTH_AUDIENCE: `http://localhost:${port}/weather/mcp` });
    try {
      for (const mode of ["404", "503", "html"] as const) {
        issuer.setJwksMode(mode);
        const r = await post(fresh.mcpUrl, await issuer.sign());
        assert.equal(r.status, 500, mode);
        assert.equal((await r.json() as { error: string }).error, "server_error", mode);
      }
    } finally { issuer.setJwksMode("ok"); await fresh.stop(); }
  });
});

test("start-up: OAUTH_AUDIENCE must be a URL; an issuer that the AS metadata contradicts stops the server", async () => {
  const issuer = await startIssuer("http://127.0.0.1:1/mcp");
  try {
    const env = { PATH: process.env.PATH!, HOME: process.env.HOME!, AUTH_MODE: "oauth", OAUTH_ISSUER: issuer.issuer, OAUTH_JWKS_URL: issuer.jwksUrl, PORT: String(await freePort()), METRICS_PORT: String(await freePort()) };
    const bad = await run(process.execPath, [MAIN], { env: { ...env, OAUTH_AUDIENCE: "my-api" }, timeoutMs: 30_000 });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /OAUTH_AUDIENCE: invalid value "my-api": must be an absolute URL/);
    issuer.setMetadataIssuer(`${issuer.issuer}/`);
    const mismatch = await run(process.execPath, [MAIN], { env, timeoutMs: 30_000 });
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /OAUTH_ISSUER: the authorization server's metadata names its issuer ".*\/", not/);
  } finally { await issuer.stop(); }
});
