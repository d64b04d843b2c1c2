// The gateway's naming rule (gateway/src/names.ts) and configuration (gateway/src/config.ts), as pure functions.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { gatewayName, nameTable, upstreamOf } from "../../gateway/src/names.ts";
import { loadGatewayConfig, defaultMaxSessions } from "../../gateway/src/config.ts";

const SAFE = /^[A-Za-z0-9_-]+$/;

test("a plain name is <server>__<tool>; an over-long or unsafe one is shortened with a hash of the original", () => {
  assert.equal(gatewayName("notes", "search_notes", 64), "notes__search_notes");
  const long = "x".repeat(100);
  const short = gatewayName("notes", long, 64);
  assert.equal(short.length, 64);
  assert.match(short, /^notes__x+-[0-9a-f]{8}$/);
  assert.match(gatewayName("notes", "admin.tools/list", 64), /^notes__admin_tools_list-[0-9a-f]{8}$/, "dots and slashes are replaced, so the hash keeps it distinct from admin_tools_list");
  assert.notEqual(gatewayName("notes", `${long}a`, 64), gatewayName("notes", `${long}b`, 64));
});

test("property: names are client-safe, within the limit, map back to their server and never collide across servers", () => {
  const server = fc.stringMatching(/^[a-z][a-z0-9-]{0,19}$/);
  fc.assert(fc.property(server, server, fc.string({ minLength: 1, maxLength: 200 }), fc.string({ minLength: 1, maxLength: 200 }), fc.integer({ min: 32, max: 128 }),
    (s1, s2, t1, t2, max) => {
      const n1 = gatewayName(s1, t1, max);
      assert.ok(n1.length <= max && SAFE.test(n1), n1);
      assert.equal(upstreamOf(n1), s1);
      if (s1 !== s2) assert.notEqual(n1, gatewayName(s2, t2, max));
    }));
});

test("within one server a taken name hides the later item instead of merging the two", () => {
  const hash = gatewayName("s", "a.b", 64).split("-").pop();
  const table = nameTable("s", [{ name: `a_b-${hash}` }, { name: "a.b" }, { name: "c" }], 64);
  assert.deepEqual([...table.byName.keys()], [`s__a_b-${hash}`, "s__c"]);
  assert.deepEqual(table.hidden, [{ original: "a.b", name: `s__a_b-${hash}` }]);
});

const base = { UPSTREAMS: "weather,notes", UPSTREAM_WEATHER_URL: "http://127.0.0.1:8001/mcp", UPSTREAM_NOTES_URL: "http://127.0.0.1:8002/mcp", AUTH_MODE: "none" };

test("config: upstreams with their URLs and tokens; API keys with per-upstream grants", () => {
  const c = loadGatewayConfig({ ...base, AUTH_MODE: "api-key", UPSTREAM_NOTES_TOKEN: "notes-token-0123456789", API_KEYS: "all-upstreams-key-0123456789,notes-only-key-0123456789:notes" });
  assert.deepEqual(c.upstreams, [
    { name: "weather", url: "http://127.0.0.1:8001/mcp", scope: "mcp:server:weather" },
    { name: "notes", url: "http://127.0.0.1:8002/mcp", token: "notes-token-0123456789", scope: "mcp:server:notes" },
  ]);
  assert.ok(c.auth.mode === "api-key");
  assert.deepEqual(Object.fromEntries([...c.auth.grants].map(([k, v]) => [k, [...v]])), {
    "all-upstreams-key-0123456789": ["weather", "notes"], "notes-only-key-0123456789": ["notes"],
  });
  assert.equal(c.limits.toolNameMax, 64);
});

test("config: UPSTREAM_<NAME>_SOCKET reaches an upstream over a unix socket; its URL then defaults to http://localhost/mcp", () => {
  const c = loadGatewayConfig({ ...base, UPSTREAM_NOTES_URL: "", UPSTREAM_NOTES_SOCKET: "/run/notes/live.sock" });
  assert.deepEqual(c.upstreams[1], { name: "notes", url: "http://localhost/mcp", socket: "/run/notes/live.sock", scope: "mcp:server:notes" });
});

test("config: AUTH_MODE=oauth takes the server's OAUTH_* rules, no scope required of every token, one scope per upstream", () => {
  const oauth = { AUTH_MODE: "oauth", OAUTH_ISSUER: "https://as.example.com", OAUTH_JWKS_URL: "https://as.example.com/jwks", PUBLIC_URL: "https://mcp.example.com" };
  const c = loadGatewayConfig({ ...base, ...oauth, UPSTREAM_NOTES_SCOPE: "notes.use" });
  assert.ok(c.auth.mode === "oauth");
  assert.equal(c.auth.oauth.audience, "https://mcp.example.com/mcp");
  assert.deepEqual(c.auth.oauth.requiredScopes, []);
  assert.deepEqual(c.auth.oauth.scopesSupported, ["mcp:server:weather", "notes.use"]);
  assert.equal(c.auth.oauth.keys, undefined);
  const withKeys = loadGatewayConfig({ ...base, ...oauth, API_KEYS: "notes-only-key-0123456789:notes" });
  assert.ok(withKeys.auth.mode === "oauth");
  assert.deepEqual(withKeys.auth.oauth.keys, ["notes-only-key-0123456789"]);
  assert.deepEqual([...withKeys.auth.grants.get("notes-only-key-0123456789")!], ["notes"]);
});

test("config: every bad value names its variable", () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ UPSTREAMS: "" }, /^UPSTREAMS: invalid value "": required/],
    [{ UPSTREAMS: "Weather" }, /^UPSTREAMS: "Weather" is not an upstream name/],
    [{ UPSTREAMS: "my_notes" }, /^UPSTREAMS: "my_notes" is not an upstream name.*no _/],
    [{ UPSTREAMS: "notes,notes" }, /^UPSTREAMS: "notes" is listed twice/],
    [{ UPSTREAM_NOTES_URL: "" }, /^UPSTREAM_NOTES_URL: required for upstream "notes"/],
    [{ UPSTREAM_NOTES_URL: "http://u:p@127.0.0.1/mcp" }, /^UPSTREAM_NOTES_URL: invalid value/],
    [{ UPSTREAM_NOTES_TOKEN: "has space" }, /^UPSTREAM_NOTES_TOKEN: /],
    [{ UPSTREAM_NOTES_SOCKET: "relative.sock" }, /^UPSTREAM_NOTES_SOCKET: invalid value "relative.sock": must be an absolute file path/],
    [{ AUTH_MODE: "api-key" }, /^API_KEYS: AUTH_MODE=api-key needs at least one key/],
    [{ AUTH_MODE: "api-key", API_KEYS: "a-long-enough-key-0123456:files" }, /^API_KEYS: key 1 grants "files", which is not in UPSTREAMS/],
    [{ AUTH_MODE: "oauth" }, /^OAUTH_ISSUER: required when AUTH_MODE=oauth/],
    [{ AUTH_MODE: "oauth", OAUTH_ISSUER: "https://as.example.com" }, /^OAUTH_JWKS_URL: required when AUTH_MODE=oauth/],
    [{ UPSTREAM_NOTES_SCOPE: "two scopes" }, /^UPSTREAM_NOTES_SCOPE: invalid value "two scopes": must be one OAuth scope \(RFC 6749 §3.3/],
    [{ UPSTREAM_NOTES_SCOPE: 'q"uote' }, /^UPSTREAM_NOTES_SCOPE: /],
    [{ AUTH_MODE: "sso" }, /^AUTH_MODE: invalid value "sso": must be one of "none", "api-key", "oauth"/],
    [{ TOOL_NAME_MAX: "200" }, /^TOOL_NAME_MAX: invalid value "200": must be an integer from 32 to 128/],
    [{ UPSTREAM_TIMEOUT_MS: "200000", REQUEST_TIMEOUT_MS: "100000" }, /^UPSTREAM_TIMEOUT_MS: 200000 must be below REQUEST_TIMEOUT_MS/],
  ];
  for (const [env, message] of bad) {
    assert.throws(() => loadGatewayConfig({ ...base, ...env }), (e: Error) => { assert.match(e.message, message, JSON.stringify(env)); return true; });
  }
});

test("MAX_SESSIONS unset: 1000, or as many sessions as fit the memory limit (0.5 MB each over 64 MB); set, it wins", () => {
  const MiB = 1024 * 1024;
  assert.equal(defaultMaxSessions(undefined), 1000, "no constraint known");
  assert.equal(defaultMaxSessions(0), 1000);
  assert.equal(defaultMaxSessions(2 ** 64), 1000, "cgroup without a limit");
  assert.equal(defaultMaxSessions(192 * MiB), 256, "the gateway's default container limit (GATEWAY_MEMORY_MB)");
  assert.equal(defaultMaxSessions(1024 * MiB), 1000, "never above 1000");
  assert.equal(defaultMaxSessions(64 * MiB), 1, "at least one");
  const c = loadGatewayConfig({ ...base, MAX_SESSIONS: "5000", MAX_SESSIONS_PER_CREDENTIAL: "8" });
  assert.equal(c.limits.maxSessions, 5000);
  assert.equal(c.limits.maxSessionsPerCredential, 8);
  assert.equal(loadGatewayConfig({ ...base, MAX_SESSIONS: "" }).limits.maxSessions, defaultMaxSessions(process.constrainedMemory()));
});
