// SelfHostedMcp with several servers and auth.mode oauth (issue 17) under Pulumi's mocks: the gateway is the OAuth
// resource https://<domain>/mcp of auth.oauth's issuer with a scope per server (default mcp:server:<name>, or the
// server's oauthScope); each server is its own resource https://<domain>/<name>/mcp of the same issuer, accepting the
// gateway's token (and the keys that grant it) next to access tokens; the site routes each server's RFC 9728
// path-suffixed metadata URL to it. Bad combinations are refused before anything registers, naming the argument.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, bundleFiles } from "./mock-harness.ts";
import { multiStackArgs, SERVERS, KEY_ALL, KEY_NOTES } from "./multi-fixtures.ts";
import { InvalidArgsError } from "../../contract/args-error.ts";

const rec = await installMocks();
const { SelfHostedMcp } = await import("../../infra/index.ts");
const { upstreamToken } = await import("../../infra/render/servers.ts");
const OAUTH = { issuer: "https://auth.example.com/", jwksUrl: "https://auth.example.com/.well-known/jwks.json" };
const servers = SERVERS.map((s) => (s.name === "notes" ? { ...s, oauthScope: "notes.use" } : s));
const oauthArgs = (over: Record<string, unknown> = {}) => {
  const base = multiStackArgs({ servers });
  return { ...base, auth: { ...base.auth!, mode: "oauth" as const, oauth: OAUTH }, ...over };
};
new SelfHostedMcp("prod", oauthArgs());
// The single-server form takes auth.oauth too: its OAUTH_ISSUER / OAUTH_JWKS_URL.
const { servers: _servers, ...single } = oauthArgs();
new SelfHostedMcp("single", { ...single, server: { image: `ghcr.io/acme/mcp@sha256:${"d".repeat(64)}` } });
await rec.settle();

const NAMES = ["weather", "notes", "search"];
const bundle = (name: string) => bundleFiles((rec.named(name).inputs as { stdin: { value: string } }).stdin.value);
const envOf = (name: string) => Object.fromEntries(bundle(name).env!.split("\n").filter((l) => /^[A-Z]/.test(l))
  .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));

test("the gateway: AUTH_MODE=oauth of auth.oauth's issuer at https://<domain>/mcp, a scope per server, keys and tokens as with api-key", () => {
  const gw = envOf("prod-deploy-deploy");
  assert.equal(gw.AUTH_MODE, "oauth");
  assert.equal(gw.OAUTH_ISSUER, OAUTH.issuer);
  assert.equal(gw.OAUTH_JWKS_URL, OAUTH.jwksUrl);
  // The audience is the gateway's resource URL: OAUTH_AUDIENCE's default, PUBLIC_URL/mcp (server/src/config.ts).
  assert.equal(gw.PUBLIC_URL, "https://mcp.example.com");
  assert.equal(gw.OAUTH_AUDIENCE, undefined);
  assert.equal(gw.UPSTREAM_WEATHER_SCOPE, "mcp:server:weather");
  assert.equal(gw.UPSTREAM_NOTES_SCOPE, "notes.use");
  assert.equal(gw.UPSTREAM_SEARCH_SCOPE, "mcp:server:search");
  assert.equal(gw.API_KEYS, `${KEY_ALL},${KEY_NOTES}:notes`);
  for (const name of NAMES) assert.equal(gw[`UPSTREAM_${name.toUpperCase()}_TOKEN`], upstreamToken([KEY_ALL, `${KEY_NOTES}:notes`], name));
});

test("each server: its own resource https://<domain>/<name>/mcp of the same issuer, accepting the gateway's token next to access tokens", () => {
  for (const name of NAMES) {
    const env = envOf(`prod-${name}-deploy-deploy`);
    assert.equal(env.AUTH_MODE, "oauth", name);
    assert.equal(env.PUBLIC_URL, `https://mcp.example.com/${name}`);
    assert.equal(env.OAUTH_ISSUER, OAUTH.issuer);
    assert.equal(env.OAUTH_JWKS_URL, OAUTH.jwksUrl);
    assert.equal(env[`UPSTREAM_${name.toUpperCase()}_SCOPE`], undefined, "scopes are the gateway's");
    const keys = env.API_KEYS!.split(",");
    assert.equal(keys.at(-1), upstreamToken([KEY_ALL, `${KEY_NOTES}:notes`], name));
  }
});

test("the site sends each server's RFC 9728 path-suffixed metadata URL to that server, the gateway's to the gateway", () => {
  const tls = bundle("prod-deploy-deploy")["nginx-tls.conf"]!;
  assert.match(tls, /location = \/\.well-known\/oauth-protected-resource\/mcp \{[^}]*proxy_pass http:\/\/smcp_mcp_example_com_mcp;/);
  for (const name of NAMES) {
    assert.match(tls, new RegExp(`location = /\\.well-known/oauth-protected-resource/${name}/mcp \\{[^}]*proxy_pass http://smcp_mcp_example_com_${name};`));
  }
});

test("the single-server form: its server gets auth.oauth's issuer, no gateway scopes", () => {
  const env = envOf("single-deploy-deploy");
  assert.deepEqual([env.AUTH_MODE, env.OAUTH_ISSUER, env.OAUTH_JWKS_URL, env.PUBLIC_URL], ["oauth", OAUTH.issuer, OAUTH.jwksUrl, "https://mcp.example.com"]);
  assert.deepEqual(Object.keys(env).filter((k) => k.startsWith("UPSTREAM")), []);
});

/** Asserts that SelfHostedMcp refuses `args` before registering, with an issue at `path` matching `message`. */
function refuses(args: ReturnType<typeof oauthArgs>, path: string, message: RegExp): void {
  const before = rec.resources.length;
  assert.throws(() => new SelfHostedMcp(`bad-${path}`, args), (e: unknown) => {
    assert.ok(e instanceof InvalidArgsError, String(e));
    const issue = e.issues.find((i) => i.path === path);
    assert.ok(issue, `an issue at ${path}: ${e.message}`);
    assert.match(issue.message, message);
    return true;
  });
  assert.equal(rec.resources.length, before, "nothing registered");
}

test("refused before anything registers: servers + oauth without auth.oauth or apiKeys, a bad scope, OAUTH_ISSUER in env, auth.oauth without oauth", () => {
  const { oauth: _oauth, ...noIssuer } = oauthArgs().auth;
  refuses(oauthArgs({ auth: noIssuer }), "auth.oauth.issuer", /servers with oauth/);
  refuses(oauthArgs({ auth: { mode: "oauth", oauth: OAUTH } }), "auth.apiKeys", /derived from the keys/);
  refuses(oauthArgs({ auth: { mode: "oauth", oauth: { ...OAUTH, issuer: "auth.example.com" } } }), "auth.oauth.issuer", /http\(s\) URL/);
  refuses(oauthArgs({ servers: [{ name: "weather", oauthScope: "two scopes" }] }), "servers[0].oauthScope", /RFC 6749 §3\.3/);
  refuses(oauthArgs({ env: { OAUTH_ISSUER: "https://other.example.com" } }), "env", /OAUTH_ISSUER: set from auth\.oauth/);
  refuses(oauthArgs({ auth: { mode: "api-key", apiKeys: pulumi.secret(KEY_ALL), oauth: OAUTH } }), "auth.oauth", /only applies with auth\.mode oauth/);
});
