// The smoke CLI (smoke/cli.ts) run as a real process against the live reference server and the upstream stub:
// passes when healthy; fails naming tool and field when the upstream drifts or serves poorly populated data; carries
// the consecutive health-failure count in its textfile; checks TLS trust and days to expiry through a TLS proxy.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { run, runOk } from "../support/proc.ts";
import type { SmokeReport } from "../../smoke/run.ts";

const CLI = join(import.meta.dirname, "..", "..", "smoke", "cli.ts");
const API_KEY = "smoke-test-key-0123456789abcdef0123456789";
const dir = mkdtempSync(join(tmpdir(), "smoke-test-"));
let stub: UpstreamStub;
let server: RunningServer;
const stops: (() => Promise<unknown>)[] = [];

const smoke = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, timeoutMs: 60_000 });
const json = (stdout: string) => JSON.parse(stdout) as SmokeReport;
const toolCheck = (r: SmokeReport, tool: string) => r.checks.find((c) => c.tool === tool);

before(async () => {
  stub = await startUpstreamStub();
  stops.push(() => stub.stop());
  server = await startServer({ UPSTREAM_URL: stub.url, HEALTH_CACHE_MS: "1", AUTH_MODE: "api-key", API_KEYS: API_KEY });
  stops.push(() => server.stop());
});
after(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(dir, { recursive: true, force: true });
});

test("passes against the healthy reference server, calling every read-only tool with its declared example", async () => {
  stub.setMode("normal");
  const r = await smoke(["smoke", server.url, "--json"], { SMOKE_TOKEN: API_KEY });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = json(r.stdout);
  assert.equal(report.ok, true);
  const forecast = toolCheck(report, "get_forecast")!;
  assert.equal(forecast.status, "pass");
  assert.deepEqual(forecast.items, [{ field: "days", min: 3, found: 3, ok: true }]);
  assert.ok(forecast.fields!.some((f) => f.field === "days[].temperature_max_c" && f.populated === 3 && f.total === 3));
  assert.equal(toolCheck(report, "search_notes")!.status, "pass");
  assert.equal(toolCheck(report, "get_note")!.status, "skip");
  assert.equal(toolCheck(report, "save_note"), undefined, "a tool without readOnlyHint must never be called");
  assert.deepEqual(report.checks.filter((c) => !c.tool).map((c) => [c.check, c.status]),
    [["tls", "skip"], ["health", "pass"], ["initialize", "pass"], ["tools/list", "pass"]]);
});

test("fails naming the tool and the field when the upstream serves poorly populated data", async () => {
  stub.setMode("sparse");
  const r = await smoke([`${server.url}/mcp`, "--token", API_KEY]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /FAIL {2}tool get_forecast .*days\[\]\.temperature_max_c: 1 of 3 populated \(33 %\), required ≥ 90 %/);
  assert.match(r.stdout, /days\[\]\.temperature_min_c: 1 of 3/);
  assert.doesNotMatch(r.stdout, /precipitation_mm: /, "fields that are populated are not reported as failing");
  assert.match(r.stdout, /^FAILED: 1 of 7 checks failed \(tool get_forecast\)/m);
});

test("fails naming the tool when the upstream format drifted; /health failures are counted across runs", async () => {
  const prom = join(dir, "smoke.prom");
  stub.setMode("drifted");
  for (let i = 1; i <= 3; i++) {
    const r = await smoke([server.url, "--json", "--metrics-file", prom], { SMOKE_TOKEN: API_KEY });
    assert.equal(r.code, 1);
    const report = json(r.stdout);
    assert.match(toolCheck(report, "get_forecast")!.message, /tool returned an error: upstream response format changed/);
    assert.match(report.checks.find((c) => c.check === "health")!.message, /answered 503: upstream: upstream response format changed/);
    assert.match(readFileSync(prom, "utf8"), new RegExp(`selfhosted_mcp_smoke_health_consecutive_failures\\{target="${server.url}"\\} ${i}\\n`));
  }
  const text = readFileSync(prom, "utf8");
  assert.match(text, /selfhosted_mcp_smoke_success\{target="[^"]+"\} 0\n/);
  assert.match(text, /selfhosted_mcp_smoke_tool_success\{target="[^"]+",tool="get_forecast"\} 0\n/);
  stub.setMode("normal");
  assert.equal((await smoke([server.url, "--metrics-file", prom], { SMOKE_TOKEN: API_KEY })).code, 0);
  assert.match(readFileSync(prom, "utf8"), /selfhosted_mcp_smoke_health_consecutive_failures\{target="[^"]+"\} 0\n/);
  await runOk("promtool", ["check", "metrics"], { input: readFileSync(prom, "utf8") });
});

test("without a token initialize fails with the server's 401, and the token never appears in the output", async () => {
  stub.setMode("normal");
  const r = await smoke([server.url, "--json"]);
  assert.equal(r.code, 1);
  assert.match(json(r.stdout).checks.find((c) => c.check === "initialize")!.message, /401|invalid_token|Unauthorized/i);
  const ok = await smoke([server.url, "--json", "--token", API_KEY]);
  assert.equal(ok.code, 0);
  assert.ok(!ok.stdout.includes(API_KEY) && !ok.stderr.includes(API_KEY));
});

test("works against a stateful server too (sessions are created and ended by the SDK client)", async () => {
  stub.setMode("normal");
  const stateful = await startServer({ UPSTREAM_URL: stub.url, MCP_SESSIONS: "stateful" });
  try {
    const r = await smoke([stateful.url, "--json"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(toolCheck(json(r.stdout), "get_forecast")!.status, "pass");
  } finally { await stateful.stop(); }
});

test("bad usage exits 2 with a message naming the problem", async () => {
  const none = await smoke(["smoke"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /missing <url>[\s\S]*usage: selfhosted-mcp smoke <url>/);
  const bad = await smoke(["not a url"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /url: "not a url" is not a URL/);
  const opt = await smoke([server.url, "--min-cert-days", "soon"]);
  assert.equal(opt.code, 2);
  assert.match(opt.stderr, /--min-cert-days: "soon" is not a whole number/);
});

/** A TLS terminator on 127.0.0.1 in front of the server with a fresh certificate valid for `days` days. */
async function tlsProxy(days: number): Promise<{ url: string; caFile: string }> {
  const key = join(dir, `key-${days}.pem`);
  const cert = join(dir, `cert-${days}.pem`);
  await runOk("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", String(days),
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]);
  const proxy: TlsServer = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (client) => {
    const upstream = netConnect(server.port, "127.0.0.1");
    client.pipe(upstream).pipe(client);
    const close = () => { client.destroy(); upstream.destroy(); };
    client.on("error", close); upstream.on("error", close);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  stops.push(() => new Promise((r) => proxy.close(r)));
  return { url: `https://127.0.0.1:${(proxy.address() as { port: number }).port}`, caFile: cert };
}

test("TLS: trusted certificate passes with its days left; too close to expiry or untrusted fails", async () => {
  stub.setMode("normal");
  const { url, caFile } = await tlsProxy(10);
  const prom = join(dir, "tls.prom");
  const trusted = { SMOKE_TOKEN: API_KEY, NODE_EXTRA_CA_CERTS: caFile };
  const ok = await smoke([url, "--json", "--metrics-file", prom], trusted);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const report = json(ok.stdout);
  assert.ok(report.tls && report.tls.trusted && report.tls.daysLeft >= 9 && report.tls.daysLeft <= 10, JSON.stringify(report.tls));
  assert.match(readFileSync(prom, "utf8"), new RegExp(`selfhosted_mcp_smoke_tls_cert_expiry_timestamp_seconds\\{target="${url}"\\} ${report.tls.expiresAt}\\n`));

  const soon = await smoke([url, "--min-cert-days", "14"], trusted);
  assert.equal(soon.code, 1);
  assert.match(soon.stdout, /FAIL {2}tls +certificate expires in (9|10) days .* less than 14; check the certbot renewal timer/);

  const untrusted = await smoke([url, "--json"], { SMOKE_TOKEN: API_KEY });
  assert.equal(untrusted.code, 1);
  assert.match(json(untrusted.stdout).checks[0]!.message, /certificate not valid for 127\.0\.0\.1: .*(self[- ]signed|SELF_SIGNED)/i);
});

test("package bin `selfhosted-mcp` is the build output of smoke/cli.ts, which starts with a node shebang", () => {
  const root = join(import.meta.dirname, "..", "..");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { bin: Record<string, string>; scripts: Record<string, string>; files: string[] };
  assert.equal(pkg.bin["selfhosted-mcp"], "dist/smoke/cli.js");
  const build = JSON.parse(readFileSync(join(root, "tsconfig.build.json"), "utf8")) as { include: string[] };
  assert.ok(build.include.includes("smoke") && build.include.includes("contract"), "cli.ts and the smoke-example format it imports are compiled");
  assert.equal(pkg.scripts.smoke, "node smoke/cli.ts");
  assert.match(readFileSync(CLI, "utf8"), /^#!\/usr\/bin\/env node\n/);
  assert.ok(pkg.files.includes("smoke") && pkg.files.includes("contract"), "the smoke timer bundles these sources for the droplet");
});
