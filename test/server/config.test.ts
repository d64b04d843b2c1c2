// loadConfig: defaults, derived values, and a message naming the variable (and the fix) for every bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, ConfigError } from "../../server/src/config.ts";

test("defaults: port 8000, metrics 9090 on loopback, stateless, api-key auth needs keys", () => {
  const c = loadConfig({ API_KEYS: "k".repeat(32) });
  assert.equal(c.port, 8000);
  assert.equal(c.metricsPort, 9090);
  assert.equal(c.metricsHost, "127.0.0.1");
  assert.equal(c.eventLoopResolutionMs, 10, "prom-client's eventLoopMonitoringPrecision default");
  assert.equal(c.sessions, "stateless");
  assert.equal(c.maxBodyBytes, 1024 * 1024);
  assert.deepEqual(c.auth, { mode: "api-key", keys: ["k".repeat(32)] });
  assert.equal(c.resourceUrl, "http://127.0.0.1:8000/mcp");
});

test("PUBLIC_URL drives the resource URL, allowed host and default allowed origin; oauth audience defaults to it", () => {
  const c = loadConfig({ AUTH_MODE: "oauth", PUBLIC_URL: "https://mcp.example.test/", OAUTH_ISSUER: "https://id.example.test", OAUTH_JWKS_URL: "https://id.example.test/jwks" });
  assert.equal(c.resourceUrl, "https://mcp.example.test/mcp");
  assert.ok(c.allowedHosts.includes("mcp.example.test"));
  assert.equal(c.allowedOrigins[0], "https://mcp.example.test");
  assert.deepEqual(c.auth, { mode: "oauth", issuer: "https://id.example.test", jwksUrl: "https://id.example.test/jwks", audience: "https://mcp.example.test/mcp", requiredScopes: ["mcp:tools"], clockToleranceS: 5, metadataCheck: "warn" });
});

test("API_KEYS_FILE: one key per line", () => {
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  try {
    writeFileSync(join(dir, "k"), "aaaaaaaaaaaaaaaaaaaa\n\nbbbbbbbbbbbbbbbbbbbb\n");
    const c = loadConfig({ API_KEYS_FILE: join(dir, "k") });
    assert.deepEqual(c.auth, { mode: "api-key", keys: ["aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb"] });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("every list variable splits at commas, spaces, tabs and newlines and drops empty items", () => {
  const messy = (items: string[]) => // every separator kind, repeated, plus empty items and edge separators
    ` ${items[0]},${items[1]} \t${items[2]}\n\n, ,${items[3]}\r\n,`;
  const origins = ["https://a.example", "https://b.example:8443", "http://c.example", "https://d.example"];
  assert.deepEqual(loadConfig({ AUTH_MODE: "none", ALLOWED_ORIGINS: messy(origins) }).allowedOrigins, origins);
  const hosts = ["a.example", "B.example", "c.example", "d.example"];
  assert.deepEqual(loadConfig({ AUTH_MODE: "none", ALLOWED_HOSTS: messy(hosts) }).allowedHosts, ["127.0.0.1", "localhost", "[::1]", "a.example", "b.example", "c.example", "d.example"]);
  const scopes = ["mcp:tools", "notes:read", "notes:write", "weather"];
  const oauth = { AUTH_MODE: "oauth", OAUTH_ISSUER: "https://id.example.test", OAUTH_JWKS_URL: "https://id.example.test/jwks" };
  const c = loadConfig({ ...oauth, OAUTH_REQUIRED_SCOPES: messy(scopes) });
  assert.deepEqual(c.auth.mode === "oauth" && c.auth.requiredScopes, scopes);
  const blank = loadConfig({ ...oauth, OAUTH_REQUIRED_SCOPES: " \n " });
  assert.deepEqual(blank.auth.mode === "oauth" && blank.auth.requiredScopes, ["mcp:tools"], "a blank value means the default");
  // API keys next to OAuth (a service client, e.g. the gateway's token on a server of an OAuth stack): checked like api-key's.
  assert.deepEqual(c.auth.mode === "oauth" && c.auth.keys, undefined);
  assert.deepEqual(loadConfig({ ...oauth, API_KEYS: "gateway-token-0123456789" }).auth, {
    mode: "oauth", issuer: "https://id.example.test", jwksUrl: "https://id.example.test/jwks", audience: "http://127.0.0.1:8000/mcp",
    requiredScopes: ["mcp:tools"], clockToleranceS: 5, metadataCheck: "warn", keys: ["gateway-token-0123456789"],
  });
  assert.throws(() => loadConfig({ ...oauth, API_KEYS: "short" }), /^Error: API_KEYS: every API key must be at least 16/);
  const keys = ["a".repeat(16), "b".repeat(20), "c".repeat(32), "d".repeat(64)];
  assert.deepEqual(loadConfig({ API_KEYS: messy(keys) }).auth, { mode: "api-key", keys });
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  try {
    writeFileSync(join(dir, "k"), messy(keys));
    assert.deepEqual(loadConfig({ API_KEYS_FILE: join(dir, "k") }).auth, { mode: "api-key", keys });
  } finally { rmSync(dir, { recursive: true, force: true }); }
  for (const name of ["ALLOWED_ORIGINS", "ALLOWED_HOSTS"] as const) {
    const empty = loadConfig({ AUTH_MODE: "none", [name]: " , ,\n" });
    const unset = loadConfig({ AUTH_MODE: "none" });
    const field = name === "ALLOWED_ORIGINS" ? "allowedOrigins" : "allowedHosts";
    assert.deepEqual(empty[field], unset[field], `${name} with only separators is the default`);
  }
});

test("every bad value is rejected with the variable's name and what to do", () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: "eighty" }, /^PORT: invalid value "eighty": must be an integer from 1 to 65535$/],
    [{ PORT: "70000" }, /^PORT: /],
    [{ METRICS_PORT: "-1" }, /^METRICS_PORT: /],
    [{ METRICS_EVENT_LOOP_RESOLUTION_MS: "0" }, /^METRICS_EVENT_LOOP_RESOLUTION_MS: .*milliseconds/],
    [{ AUTH_MODE: "basic" }, /^AUTH_MODE: .*must be one of "none", "api-key", "oauth"/],
    [{ AUTH_MODE: "api-key" }, /^API_KEYS: AUTH_MODE=api-key needs at least one key.*set AUTH_MODE=none explicitly/],
    [{ API_KEYS: "short" }, /^API_KEYS: every API key must be at least 16 characters/],
    [{ API_KEYS: "k".repeat(20), API_KEYS_FILE: "/x" }, /^API_KEYS and API_KEYS_FILE are both set/],
    [{ API_KEYS_FILE: "/nonexistent/keys" }, /^API_KEYS_FILE: cannot read \/nonexistent\/keys \(ENOENT\)/],
    [{ AUTH_MODE: "oauth", OAUTH_JWKS_URL: "http://127.0.0.1:1/jwks" }, /^OAUTH_ISSUER: required when AUTH_MODE=oauth/],
    [{ AUTH_MODE: "oauth", OAUTH_ISSUER: "http://127.0.0.1:1" }, /^OAUTH_JWKS_URL: required when AUTH_MODE=oauth/],
    [{ AUTH_MODE: "oauth", OAUTH_ISSUER: "issuer" }, /^OAUTH_ISSUER: .*http\(s\) URL/],
    [{ UPSTREAM_URL: "ftp://example.test" }, /^UPSTREAM_URL: .*http\(s\) URL/],
    [{ UPSTREAM_TIMEOUT_MS: "0" }, /^UPSTREAM_TIMEOUT_MS: .*milliseconds/],
    [{ UPSTREAM_RETRIES: "9" }, /^UPSTREAM_RETRIES: .*from 0 to 5/],
    [{ MCP_SESSIONS: "sticky" }, /^MCP_SESSIONS: .*"stateless" or "stateful"/],
    [{ PUBLIC_URL: "not a url" }, /^PUBLIC_URL: /],
    [{ ALLOWED_ORIGINS: "https://ok.example,https://bad.example/path" }, /^ALLOWED_ORIGINS: "https:\/\/bad.example\/path" is not an origin/],
    [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL: .*must be one of/],
    [{ MAX_BODY_BYTES: "10" }, /^MAX_BODY_BYTES: .*bytes/],
    [{ SHUTDOWN_TIMEOUT_MS: "soon" }, /^SHUTDOWN_TIMEOUT_MS: /],
  ];
  for (const [env, re] of cases) {
    const full = { AUTH_MODE: "none", ...env };
    if (env.API_KEYS !== undefined || env.API_KEYS_FILE !== undefined) full.AUTH_MODE = env.AUTH_MODE ?? "api-key";
    assert.throws(() => loadConfig(full), (e: Error) => e instanceof ConfigError && re.test(e.message), JSON.stringify(env));
  }
});
