// The gateway with AUTH_MODE=oauth (a real process) in front of real reference servers and the tiny SDK server, with
// real JWTs signed by a local JWKS (test/server/jwks.ts). Upstreams: alpha (AUTH_MODE=api-key: the gateway's token),
// beta (AUTH_MODE=oauth with the gateway's token in API_KEYS: what SelfHostedMcp gives each server of an OAuth stack),
// tiny (a prompt and a resource; its scope set by UPSTREAM_TINY_SCOPE). A token may use an upstream when its scopes
// include the upstream's scope (gateway/src/access.ts); tokens for another resource, expired or from another issuer
// are answered 401 with the RFC 9728 metadata URL; the metadata names every upstream's scope.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { McpError } from "@modelcontextprotocol/sdk/types.js";
import { startServer, type RunningServer } from "../support/server.ts";
import { assertCallRefusedLikeUnknown, startGateway } from "../support/gateway.ts";
import { startAll } from "../support/proc.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { startTinyServer, type TinyServer } from "../support/tiny-mcp-server.ts";
import { connect, call, initializeBody, MCP_HEADERS } from "../server/mcp-client.ts";
import { startIssuer, type Issuer } from "../server/jwks.ts";

const ALPHA_TOKEN = "gateway-token-alpha-0123456789";
const BETA_TOKEN = "gateway-token-beta-01234567890";
const SERVICE_KEY = "service-key-tiny-only-0123456789";
const ALL = "mcp:server:alpha mcp:server:beta tiny.use";
const REFERENCE_TOOLS = ["get_forecast", "save_note", "get_note", "search_notes"];

let stub: UpstreamStub, tiny: TinyServer, issuer: Issuer;
let alpha: RunningServer, beta: RunningServer, gw: RunningServer;
const clients: Client[] = [];
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
async function client(url: string, token: string): Promise<Client> {
  const c = await connect(url, bearer(token));
  clients.push(c);
  return c;
}
/** A token for the gateway's resource with these scopes (and any other claim overridden). */
const token = (scope: string, claims: Parameters<Issuer["sign"]>[0] = {}) => issuer.sign({ aud: gw.mcpUrl, scope, ...claims });

before(async () => {
  stub = await startUpstreamStub();
  tiny = await startTinyServer();
  // The audience of each token is given when it is signed (the servers' URLs are known only once they listen).
  issuer = await startIssuer("unused");
  issuer.setMetadataIssuer(issuer.issuer);
  const oauth = { OAUTH_ISSUER: issuer.issuer, OAUTH_JWKS_URL: issuer.jwksUrl };
  [alpha, beta] = await startAll([
    () => startServer({ UPSTREAM_URL: stub.url, AUTH_MODE: "api-key", API_KEYS: ALPHA_TOKEN }),
    () => startServer({ UPSTREAM_URL: stub.url, AUTH_MODE: "oauth", ...oauth, OAUTH_METADATA_CHECK: "off", API_KEYS: BETA_TOKEN }),
  ] as const);
  gw = await startGateway({ alpha: alpha.mcpUrl, beta: beta.mcpUrl, tiny: tiny.url }, {
    AUTH_MODE: "oauth", ...oauth, OAUTH_METADATA_CHECK: "required",
    UPSTREAM_ALPHA_TOKEN: ALPHA_TOKEN, UPSTREAM_BETA_TOKEN: BETA_TOKEN, UPSTREAM_TINY_SCOPE: "tiny.use",
    API_KEYS: `${SERVICE_KEY}:tiny`,
  });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled([gw?.stop(), alpha?.stop(), beta?.stop(), tiny?.stop(), stub?.stop(), issuer?.stop()]);
});

test("a token with every upstream's scope lists all their tools, prompts and resources and calls each server", async () => {
  const c = await client(gw.mcpUrl, await token(ALL));
  const names = (await c.listTools()).tools.map((t) => t.name);
  for (const s of ["alpha", "beta"]) for (const t of REFERENCE_TOOLS) assert.ok(names.includes(`${s}__${t}`), `${s}__${t} listed`);
  assert.ok(names.includes("tiny__slow"));
  assert.deepEqual((await c.listPrompts()).prompts.map((p) => p.name), ["tiny__greet"]);
  assert.deepEqual((await c.listResources()).resources.map((r) => r.uri), ["tiny://readme"]);
  for (const s of ["alpha", "beta"]) assert.equal((await call(c, `${s}__search_notes`, { query: "x" })).isError, undefined, s);
  // beta (AUTH_MODE=oauth) accepted the gateway's token, not the user's: the hop carries no end-user identity.
  // Its log line comes through a pipe after the answer (pino writes asynchronously): wait for it, bounded (5 s).
  await beta.waitForLog((e) => e.event === "tool_call" && e.tool === "search_notes");
});

test("a token without beta's scope neither lists nor calls beta; without tiny's, no prompt or resource of tiny", async () => {
  const c = await client(gw.mcpUrl, await token("mcp:server:alpha"));
  const names = (await c.listTools()).tools.map((t) => t.name);
  assert.deepEqual(names.filter((n) => !n.startsWith("alpha__")), []);
  assert.equal(names.length, REFERENCE_TOOLS.length);
  await assertCallRefusedLikeUnknown(c, "beta", beta);
  assert.deepEqual((await c.listPrompts()).prompts, []);
  assert.deepEqual((await c.listResources()).resources, []);
  const code = (p: Promise<unknown>) => p.then(() => undefined, (e: McpError) => e.code);
  assert.equal(await code(c.getPrompt({ name: "tiny__greet", arguments: { who: "x" } })), -32602);
  assert.equal(await code(c.readResource({ uri: "tiny://readme" })), -32002);
});

test("the scopes of each request decide: a session whose token is refreshed without beta's scope loses beta at once", async () => {
  let current = await token(ALL);
  const c = await connect(gw.mcpUrl, {}, (url, init) => fetch(url, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), ...bearer(current) } }));
  clients.push(c);
  assert.ok((await c.listTools()).tools.some((t) => t.name.startsWith("beta__")));
  current = await token("mcp:server:alpha tiny.use");
  const names = (await c.listTools()).tools.map((t) => t.name);
  assert.ok(!names.some((n) => n.startsWith("beta__")), "beta gone within the same session");
  assert.ok(names.includes("tiny__slow"));
});

test("an API key next to OAuth keeps its grants: the service key sees tiny only", async () => {
  const c = await client(gw.mcpUrl, SERVICE_KEY);
  assert.deepEqual([...new Set((await c.listTools()).tools.map((t) => t.name.split("__")[0]))], ["tiny"]);
});

test("no token, another resource's token, expired, another issuer, an untrusted key → 401 naming the metadata URL", async () => {
  const metadataUrl = `${gw.url}/.well-known/oauth-protected-resource/mcp`;
  const cases: [string, string | undefined][] = [
    ["no token", undefined],
    ["audience of beta's route", await issuer.sign({ aud: beta.mcpUrl, scope: ALL })],
    ["expired", await token(ALL, { expiresIn: Math.floor(Date.now() / 1000) - 60 })],
    ["another issuer", await token(ALL, { iss: "https://evil.example.test" })],
    ["untrusted key", await token(ALL, { key: "untrusted" })],
  ];
  for (const [what, t] of cases) {
    const r = await fetch(gw.mcpUrl, { method: "POST", headers: { ...MCP_HEADERS, ...(t ? bearer(t) : {}) }, body: initializeBody });
    assert.equal(r.status, 401, what);
    const challenge = r.headers.get("www-authenticate") ?? "";
    assert.match(challenge, /^Bearer /, what);
    assert.ok(challenge.includes(`resource_metadata="${metadataUrl}"`), `${what}: ${challenge}`);
    await r.arrayBuffer();
  }
});

test("RFC 9728 metadata at the path-suffixed URL: the gateway's resource, its issuer, every upstream's scope", async () => {
  const r = await fetch(`${gw.url}/.well-known/oauth-protected-resource/mcp`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), {
    resource: gw.mcpUrl, authorization_servers: [issuer.issuer], scopes_supported: ["mcp:server:alpha", "mcp:server:beta", "tiny.use"],
    bearer_methods_supported: ["header"], resource_name: "selfhosted-mcp gateway",
  });
});

test("beta's own route (AUTH_MODE=oauth + API_KEYS): a token for its resource with mcp:tools works, the gateway's token for it too", async () => {
  const direct = await client(beta.mcpUrl, await issuer.sign({ aud: beta.mcpUrl }));
  assert.equal((await call(direct, "search_notes", { query: "x" })).isError, undefined);
  const viaKey = await client(beta.mcpUrl, BETA_TOKEN);
  assert.equal((await call(viaKey, "search_notes", { query: "x" })).isError, undefined);
  const r = await fetch(beta.mcpUrl, { method: "POST", headers: { ...MCP_HEADERS, ...bearer(await token(ALL)) }, body: initializeBody });
  assert.equal(r.status, 401, "a token for the gateway is not one for beta");
  await r.arrayBuffer();
});
