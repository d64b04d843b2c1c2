// The nginx renderers against the real consumers: every site variant through `nginx -t` (inside a wrapper that
// mirrors Debian's stock http{} block) and option errors that name the option. The host scripts and systemd units
// the nginx part renders: host-scripts.test.ts.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  renderNginxConfig, renderUpstreamInclude, upstreamIncludePath, renderCertbotIssueScript, renderDeployHook,
  type SiteOptionsInput,
} from "../../nginx/index.ts";
import { nginxTest, nginxTestInStockConf, startPrivateNginx } from "../support/nginx.ts";
import { runOk, freePort } from "../support/proc.ts";
import { bearerToken } from "../../contract/bearer.ts";
import { InvalidArgsError } from "../../contract/args-error.ts";
import { renderDeploymentPlan } from "../../infra/render/deployment-plan.ts";

const DOMAIN = "mcp.example.test";
let dir: string;
let base: Pick<SiteOptionsInput, "domain" | "certbotConfigDir" | "upstreamIncludeDir" | "acmeWebroot" | "accessLog" | "errorLog">;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "nginx-render-"));
  const live = join(dir, "letsencrypt", "live", DOMAIN);
  mkdirSync(live, { recursive: true });
  await runOk("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
    "-keyout", join(live, "privkey.pem"), "-out", join(live, "fullchain.pem"), "-subj", `/CN=${DOMAIN}`]);
  writeFileSync(join(live, "chain.pem"), readFileSync(join(live, "fullchain.pem")));
  mkdirSync(join(dir, "upstreams"));
  base = {
    domain: DOMAIN, certbotConfigDir: join(dir, "letsencrypt"), upstreamIncludeDir: join(dir, "upstreams"),
    acmeWebroot: join(dir, "webroot"), accessLog: join(dir, "access.log"), errorLog: join(dir, "error.log"),
  };
});
after(() => rmSync(dir, { recursive: true, force: true }));

function writeUpstreams(names: string[], port = 8000): void {
  for (const n of names) writeFileSync(upstreamIncludePath(n, base.upstreamIncludeDir), renderUpstreamInclude({ port }));
}

const matrix: Array<[string, Omit<SiteOptionsInput, keyof typeof base>]> = [
  ["http-only phase (before a certificate exists)", { phase: "http-only", servers: [{ name: "weather" }] }],
  ["one server, default limits", { phase: "tls", servers: [{ name: "weather" }] }],
  ["several servers, own paths and limits", { phase: "tls", servers: [
    { name: "weather", limits: { perIp: { rate: "600r/m", burst: 50 }, maxBodySize: "64k" } },
    { name: "notes", path: "/team/notes/mcp", limits: { perCredential: { rate: "2r/s", burst: 0 }, connectionsPerIp: 5 } },
    { name: "search", limits: { readTimeoutSeconds: 86_400, retryAfterSeconds: 30 } },
  ] }],
  ["all limits off", { phase: "tls", servers: [{ name: "weather", limits: { perIp: false, perCredential: false, connectionsPerIp: false } }] }],
  ["production listeners, OCSP stapling, HSTS preload, no http2, custom siteId", {
    phase: "tls", listenAddresses: ["*", "[::]"], httpPort: 80, httpsPort: 443, http2: false, siteId: "site_a",
    ocspStapling: { resolvers: ["127.0.0.53"] }, hsts: { includeSubDomains: true, preload: true },
    servers: [{ name: "weather" }],
  }],
];

describe("nginx -t accepts every rendered variant", () => {
  for (const [title, variant] of matrix) {
    it(title, async () => {
      writeUpstreams(variant.servers.map((s) => s.name));
      const site = renderNginxConfig({ ...base, listenAddresses: ["127.0.0.1"], httpPort: 8080, httpsPort: 8443, ...variant });
      const r = await nginxTest(site);
      assert.equal(r.code, 0, `${r.stderr}\n${site}`);
      assert.match(r.stderr, /test is successful/);
    });
  }

  it("a unix-socket upstream (the deployment's live symlink); upstream connection reuse bounded in time, or off", async () => {
    writeFileSync(upstreamIncludePath("weather", base.upstreamIncludeDir), renderUpstreamInclude({ socket: join(dir, "sockets", "live.sock") }));
    const site = (limits: object) => renderNginxConfig({ ...base, listenAddresses: ["127.0.0.1"], httpPort: 8080, httpsPort: 8443,
      phase: "tls", servers: [{ name: "weather", limits }] });
    const bounded = site({ keepaliveTimeSeconds: 1 });
    assert.match(bounded, /keepalive 16;\n\s+keepalive_time 1s;\n\s+keepalive_timeout 1s;/);
    const off = site({ keepaliveConnections: false });
    assert.doesNotMatch(/upstream [^{]+\{[^}]*\}/.exec(off)![0], /keepalive/, "nginx connects per request");
    for (const text of [bounded, off]) {
      const r = await nginxTest(text);
      assert.equal(r.code, 0, `${r.stderr}\n${text}`);
    }
  });

  it("production defaults pass nginx -t inside the stock Debian nginx.conf, beside its default site", async () => {
    writeUpstreams(["weather", "notes"]);
    for (const phase of ["http-only", "tls"] as const) {
      const site = renderNginxConfig({ ...base, phase, servers: [{ name: "weather" }, { name: "notes" }] });
      assert.match(site, /listen \*:80;\n\s+listen \[::\]:80;/);
      const r = await nginxTestInStockConf(site);
      assert.equal(r.code, 0, `${phase}: ${r.stderr}`);
      assert.match(r.stderr, /test is successful/);
    }
  });

  it("fails nginx -t when a server's upstream include file is missing or broken", async () => {
    const site = renderNginxConfig({ ...base, phase: "tls", listenAddresses: ["127.0.0.1"], servers: [{ name: "absent" }] });
    const missing = await nginxTest(site);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /absent\.upstream\.conf/);
    writeFileSync(upstreamIncludePath("absent", base.upstreamIncludeDir), "server 127.0.0.1:8000 bogus_flag;\n");
    const broken = await nginxTest(site);
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /invalid parameter "bogus_flag"/);
  });
});

describe("site config content", () => {
  const tls = () => renderNginxConfig({ ...base, phase: "tls", servers: [{ name: "weather" }, { name: "notes" }] });

  it("maps one server to /mcp and several to /<name>/mcp, each to its own upstream include", () => {
    const one = renderNginxConfig({ ...base, phase: "tls", servers: [{ name: "weather" }] });
    assert.match(one, /location = \/mcp \{/);
    const several = tls();
    for (const n of ["weather", "notes"]) {
      assert.match(several, new RegExp(`location = /${n}/mcp \\{[^}]*proxy_pass http://smcp_mcp_example_test_${n}/mcp;`));
      assert.ok(several.includes(`include ${join(dir, "upstreams", `${n}.upstream.conf`)};`));
    }
    assert.doesNotMatch(several, /location = \/mcp \{/);
  });

  it("proxies each server's deep health check (GET only) beside its MCP path: /health, /<name>/health", () => {
    const one = renderNginxConfig({ ...base, phase: "tls", servers: [{ name: "weather" }] });
    assert.match(one, /location = \/health \{[^}]*limit_except GET \{ deny all; \}[^]*?proxy_pass http:\/\/smcp_mcp_example_test_weather\/health;/);
    const several = tls();
    for (const n of ["weather", "notes"]) {
      assert.match(several, new RegExp(`location = /${n}/health \\{[^]*?proxy_pass http://smcp_mcp_example_test_${n}/health;`));
    }
    assert.doesNotMatch(several, /location = \/health \{/);
  });

  it("the deployment renders the run contract's healthPath as the public health location (item 14)", () => {
    const plan = renderDeploymentPlan({ app: "mcp", domain: DOMAIN, image: `r/mcp@sha256:${"a".repeat(64)}`, port: 8000, metricsPort: 9090,
      acmeEmail: "ops@example.test", healthPath: "/healthz" });
    assert.match(plan.files["nginx-tls.conf"], /location = \/healthz \{[^]*?proxy_pass http:\/\/\S+\/healthz;/);
    assert.doesNotMatch(plan.files["nginx-tls.conf"], /location = \/health \{/);
    assert.throws(() => renderNginxConfig({ ...base, phase: "tls", servers: [{ name: "a", healthPath: "/metrics" }] }), /servers\[0\]\.healthPath: "\/metrics" is reserved/);
  });

  it("never logs Authorization, cookies or query strings", () => {
    const logFormat = /log_format[^;]*;/.exec(tls())![0];
    assert.match(logFormat, /\$remote_addr/);
    for (const v of ["$http_authorization", "$http_cookie", "$request ", "$request\"", "$args", "$query_string", "$request_uri", "credential"]) {
      assert.ok(!logFormat.includes(v), `log_format must not contain ${v}`);
    }
    assert.match(tls(), /access_log \S+ smcp_mcp_example_test_json;/);
  });

  it("only TLS 1.2/1.3, HSTS, no server tokens, /metrics 404, HTTP-only phase has no proxy", () => {
    const site = tls();
    assert.match(site, /ssl_protocols TLSv1\.2 TLSv1\.3;/);
    assert.match(site, /add_header Strict-Transport-Security "max-age=63072000" always;/);
    assert.match(site, /server_tokens off;/);
    assert.match(site, /location = \/metrics \{ return 404; \}/);
    const plain = renderNginxConfig({ ...base, phase: "http-only", servers: [{ name: "weather" }] });
    assert.doesNotMatch(plain, /proxy_pass|ssl_certificate|upstream /);
    assert.match(plain, /location \^~ \/\.well-known\/acme-challenge\/ \{/);
    assert.match(plain, /return 301 https:\/\/mcp\.example\.test\$request_uri;/);
  });

  it("derives Retry-After from the slowest rate unless given", () => {
    const site = renderNginxConfig({ ...base, phase: "tls", servers: [
      { name: "a", limits: { perIp: { rate: "30r/m", burst: 1 }, perCredential: { rate: "1r/s", burst: 1 } } },
      { name: "b", limits: { retryAfterSeconds: 17 } },
    ] });
    assert.match(site, /location @smcp_mcp_example_test_a_rate_limited \{[\s\S]*?add_header Retry-After "2" always;[\s\S]*?return 429 '\{"jsonrpc":"2\.0"/);
    assert.match(site, /limit_req zone=smcp_mcp_example_test_a_ip burst=1 nodelay;/);
    const noBurst = renderNginxConfig({ ...base, phase: "tls", servers: [{ name: "a", limits: { perCredential: { rate: "1r/s", burst: 0 } } }] });
    assert.match(noBurst, /limit_req zone=smcp_mcp_example_test_a_cred;/);
    assert.match(site, /location @smcp_mcp_example_test_b_rate_limited \{[\s\S]*?add_header Retry-After "17" always;/);
  });
});

describe("per-credential rate-limit key (evaluated by a running nginx)", () => {
  it("is a stable 8-hex-digit hash per bearer token, distinct across tokens, empty without one; the header rule is bearerToken()'s", async () => {
    writeUpstreams(["weather"]);
    const port = await freePort();
    // The rendered site plus a probe server that echoes the key variable the credential zone is keyed by.
    const site = renderNginxConfig({ ...base, phase: "tls", listenAddresses: ["127.0.0.1"], httpPort: await freePort(),
      httpsPort: await freePort(), servers: [{ name: "weather" }] });
    const nginx = await startPrivateNginx(`${site}\nserver { listen 127.0.0.1:${port}; location / { return 200 "[$smcp_mcp_example_test_credential]"; } }\n`);
    try {
      const key = async (authorization?: string) =>
        (await fetch(`http://127.0.0.1:${port}/`, { headers: authorization ? { authorization } : {} })).text();
      const tokens = Array.from({ length: 40 }, (_, i) => `token-${i}-0123456789abcdefghij`);
      const keys = await Promise.all(tokens.map((t) => key(`Bearer ${t}`)));
      for (const k of keys) assert.match(k, /^\[[0-9a-f]{8}\]$/);
      assert.equal(new Set(keys).size, tokens.length, "distinct tokens get distinct keys");
      assert.equal(await key(`bEaReR ${tokens[0]}`), keys[0], "same token, same key (scheme case-insensitive)");
      assert.equal(await key(), "[]");
      // The one rule (contract/bearer.ts): a header is a credential to nginx exactly when it is one to the server.
      // (Leading/trailing whitespace is not part of a field value, RFC 9110 §5.5: fetch, nginx and node all drop it.)
      const t = tokens[0]!;
      const cases = [`Bearer ${t}`, `BEARER ${t}`, `Bearer ${t}==`, `Bearer ${t} x`, `Bearer  ${t}`, `Bearer\t${t}`,
        "Bearer", `Bearer ${t}=x`, `Bearer ${t},x`, "Basic dXNlcjpwYXNz", `Token ${t}`];
      for (const header of cases) {
        const expected = bearerToken(header);
        const got = await key(header);
        assert.equal(got !== "[]", expected !== undefined, `${JSON.stringify(header)}: nginx key ${got}, server token ${expected}`);
        if (expected === t) assert.equal(got, keys[0], JSON.stringify(header));
      }
      // Every hex digit position varies across tokens (no constant block).
      for (let i = 1; i <= 8; i++) assert.ok(new Set(keys.map((k) => k[i])).size > 4, `digit ${i} varies`);
    } finally { await nginx.stop(); }
  });
});

describe("option errors name the option", () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ["invalid domain", { domain: "https://Example.com", phase: "tls", servers: [{ name: "a" }] }, /^nginx site domain: must be a DNS name such as mcp\.example\.com \(lower case.*\(got "https:\/\/Example\.com"\)$/m],
    ["rate of 0", { domain: DOMAIN, phase: "tls", servers: [{ name: "a", limits: { perIp: { rate: "0r/s" } } }] }, /servers\[0\]\.limits\.perIp\.rate: must be a positive request rate.*\(got "0r\/s"\)/],
    ["duplicate path", { domain: DOMAIN, phase: "tls", servers: [{ name: "a" }, { name: "b", path: "/a/mcp" }] }, /servers\[1\]\.path: "\/a\/mcp" is already used by servers\[0\]/],
    ["reserved path", { domain: DOMAIN, phase: "tls", servers: [{ name: "a", path: "/.well-known/acme-challenge/mcp" }] }, /servers\[0\]\.path: .* is reserved/],
    ["unknown phase", { domain: DOMAIN, phase: "https", servers: [{ name: "a" }] }, /phase: must be "http-only" or "tls"/],
    ["unknown option", { domain: DOMAIN, phase: "tls", servers: [{ name: "a" }], listen: 80 }, /^nginx site listen: is not a known argument/m],
    ["no servers", { domain: DOMAIN, phase: "tls", servers: [] }, /servers: must list at least one MCP server/],
    ["body size", { domain: DOMAIN, phase: "tls", servers: [{ name: "a", limits: { maxBodySize: "1 GB" } }] }, /servers\[0\]\.limits\.maxBodySize: must be a positive size/],
  ];
  for (const [title, input, message] of cases) {
    it(title, () => {
      assert.throws(() => renderNginxConfig(input as SiteOptionsInput), (e: Error) => {
        assert.ok(e instanceof InvalidArgsError);
        assert.match(e.message, message);
        return true;
      });
    });
  }
  it("upstream include and certbot options too", () => {
    assert.throws(() => renderUpstreamInclude({ port: 0 }), /upstream include port: must be 1-65535 \(got 0\)/);
    assert.throws(() => renderCertbotIssueScript({ domain: DOMAIN, acmeServer: "prod" }), /acmeServer: must be "production", "staging" or an ACME directory URL/);
    assert.throws(() => renderDeployHook({ reloadCommand: [] }), /reloadCommand: must be a non-empty argv array/);
  });
});

describe("upstream include file", () => {
  it("follows <dir>/<name>.upstream.conf and holds one server line", () => {
    assert.equal(upstreamIncludePath("weather"), "/etc/nginx/selfhosted-mcp/weather.upstream.conf");
    assert.equal(upstreamIncludePath("weather", "/x/y/"), "/x/y/weather.upstream.conf");
    const text = renderUpstreamInclude({ port: 8001, comment: "slot green sha256:abc" });
    assert.match(text, /^# slot green sha256:abc$/m);
    assert.match(text, /^server 127\.0\.0\.1:8001 max_fails=0;$/m);
    assert.equal(text.match(/^server /gm)!.length, 1);
    const socket = renderUpstreamInclude({ socket: "/var/lib/selfhosted-mcp/sockets/weather/live.sock" });
    assert.match(socket, /^server unix:\/var\/lib\/selfhosted-mcp\/sockets\/weather\/live\.sock max_fails=0;$/m);
    assert.match(socket, /without a reload/);
    assert.throws(() => renderUpstreamInclude({ socket: "live.sock" }), /socket: must be an absolute path/);
    assert.throws(() => renderUpstreamInclude({ socket: "/x;y" }), /socket: must be an absolute path/);
  });
});
