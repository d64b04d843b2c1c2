// The smoke-test timer for the droplet: units pass systemd-analyze verify, scripts pass shellcheck, the install
// script really writes the bundled CLI/units/token (0600) under a temp root from its stdin, and the installed
// run-smoke.sh really runs the bundle with the live slot's server image's node (Docker) against that container —
// passing, then failing on sparse data.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderSmokeTimer, smokeTimerStdin, type SmokeTimerOptions } from "../../infra/monitoring/smoke-timer.ts";
import { InvalidArgsError } from "../../contract/args-error.ts";
import { bundleSmokeCli } from "../../infra/monitoring/smoke-bundle.ts";
import { createServer as createTlsServer } from "node:tls";
import { connect } from "node:net";
import { run, runOk } from "../support/proc.ts";
import { ensureDockerd } from "../support/docker.ts";
import { buildServerImage, removeContainers, startContainer, type StartedContainer } from "../support/server-image.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";

const dir = mkdtempSync(join(tmpdir(), "smoke-timer-"));
const APP = `smk${process.pid % 100000}`;
const API_KEY = "smoke-timer-key-0123456789abcdef0123456789";
const opts = (extra: Partial<SmokeTimerOptions> = {}): SmokeTimerOptions => ({
  app: APP, url: "https://mcp.example.test", stateDir: join(dir, "state"), unitDir: join(dir, "units"), ...extra,
});
let stub: UpstreamStub | undefined;
let container: StartedContainer | undefined;

before(async () => { await ensureDockerd(); });
after(async () => {
  if (container) await removeContainers([container.name], [container.volume]);
  await stub?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const shellcheck = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return run("shellcheck", ["--shell=bash", file]);
};

test("units pass systemd-analyze verify and carry the inputs; scripts pass shellcheck", async () => {
  const t = renderSmokeTimer({ app: "weather", url: "https://mcp.example.com", textfileDir: "/var/lib/prometheus/node-exporter", withToken: true, interval: "10min" });
  assert.equal(t.unit, "selfhosted-mcp-smoke-weather");
  assert.match(t.service, /^Environment=SMOKE_URL=https:\/\/mcp\.example\.com$/m);
  assert.match(t.service, /^Environment=TOKEN_ENV_FILE=\/var\/lib\/selfhosted-mcp\/weather\/smoke-token\.env$/m);
  assert.match(t.service, /^ExecStart=\/bin\/bash \/var\/lib\/selfhosted-mcp\/weather\/smoke\/run-smoke\.sh$/m);
  assert.match(t.timer, /^OnUnitActiveSec=10min$/m);
  const units = join(dir, "verify");
  mkdirSync(units, { recursive: true });
  writeFileSync(join(units, `${t.unit}.service`), t.service);
  writeFileSync(join(units, `${t.unit}.timer`), t.timer);
  const r = await run("systemd-analyze", ["verify", join(units, `${t.unit}.timer`), join(units, `${t.unit}.service`)]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const [name, text] of [["install.sh", t.install], ["uninstall.sh", t.uninstall],
    ["smoke-run.sh", readFileSync(join(import.meta.dirname, "..", "..", "infra", "monitoring", "smoke-run.sh"), "utf8")]] as const) {
    const c = await shellcheck(name, text);
    assert.equal(c.code, 0, `${name}: ${c.stdout}${c.stderr}`);
  }
  assert.ok(!t.install.includes(API_KEY), "the token is never part of the script");
});

test("bad options name the option", () => {
  const cases: [Partial<SmokeTimerOptions>, RegExp][] = [
    [{ app: "Weather" }, /smoke timer app: must start with a-z/],
    [{ url: "ftp://x.example" }, /smoke timer url: url must be an http\(s\) URL/],
    [{ url: "https://x.example/a%20b" }, /url must not contain %/],
    [{ interval: "5 minutes" }, /interval must be a systemd time span/],
    [{ textfileDir: "relative/dir" }, /textfileDir: must be an absolute path/],
  ];
  for (const [extra, msg] of cases) assert.throws(() => renderSmokeTimer(opts(extra)), (e: Error) => e instanceof InvalidArgsError && msg.test(e.message));
});

test("install + run-smoke.sh on the live slot's image: pass, then fail naming tool and field; a private CA trusted with caBundle; uninstall cleans up", { timeout: 15 * 60_000 }, async () => {
  stub = await startUpstreamStub();
  const image = await buildServerImage();
  container = await startContainer(image, {
    dir, name: `${APP}-blue`, env: { UPSTREAM_URL: stub.url, AUTH_MODE: "api-key", API_KEYS: API_KEY, HEALTH_CACHE_MS: "1" },
  });
  const textfileDir = join(dir, "textfile");
  const t = renderSmokeTimer(opts({ url: container.url, withToken: true, textfileDir }));
  const bundle = bundleSmokeCli();
  const installed = await runOk("bash", ["-c", t.install], { input: smokeTimerStdin(bundle, API_KEY) });
  assert.match(installed.stdout, /systemd is not running here; units installed/);
  assert.ok(!installed.stdout.includes(API_KEY) && !installed.stderr.includes(API_KEY), "the install never logs the token");
  assert.equal(statSync(t.tokenFile!).mode & 0o777, 0o600);
  assert.equal(readFileSync(t.tokenFile!, "utf8"), `SMOKE_TOKEN=${API_KEY}\n`);
  assert.equal(readFileSync(join(dir, "units", `${t.unit}.service`), "utf8"), t.service);
  assert.equal(readFileSync(join(t.smokeDir, "smoke.mjs"), "utf8"), bundle);
  const noToken = await run("bash", ["-c", t.install], { input: "" });
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /expected the smoke token as the first line of stdin/);

  // Run the installed script with exactly the unit's Environment= lines, as systemd would.
  const unitEnv = Object.fromEntries([...t.service.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const runSmoke = () => run("/bin/bash", [join(t.smokeDir, "run-smoke.sh")], { env: { PATH: process.env.PATH ?? "", ...unitEnv }, timeoutMs: 120_000 });
  const prom = join(textfileDir, `selfhosted-mcp-smoke-${APP}.prom`);

  const noSlot = await runSmoke();
  assert.equal(noSlot.code, 2);
  assert.match(noSlot.stdout, /^\{"ok":false,"target":"[^"]+","error":"no live slot recorded in .*active-slot/);

  writeFileSync(join(unitEnv.STATE_DIR!, "active-slot"), "blue\n");
  const ok = await runSmoke();
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const report = JSON.parse(ok.stdout) as { ok: boolean; checks: { tool?: string; status: string }[] };
  assert.equal(report.ok, true);
  assert.equal(report.checks.find((c) => c.tool === "get_forecast")?.status, "pass");
  assert.match(readFileSync(prom, "utf8"), /^selfhosted_mcp_smoke_success\{target="[^"]+"\} 1$/m);

  stub.setMode("sparse");
  const bad = await runSmoke();
  assert.equal(bad.code, 1);
  const failed = (JSON.parse(bad.stdout) as { checks: { tool?: string; status: string; message: string }[] }).checks.filter((c) => c.status === "fail");
  assert.deepEqual(failed.map((c) => c.tool), ["get_forecast"]);
  assert.match(failed[0]!.message, /days\[\]\.temperature_max_c: 1 of 3 populated/);
  assert.match(readFileSync(prom, "utf8"), /^selfhosted_mcp_smoke_tool_success\{target="[^"]+",tool="get_forecast"\} 0$/m);
  assert.ok(!bad.stdout.includes(API_KEY) && !bad.stderr.includes(API_KEY));

  // Behind TLS signed by a private CA (a TCP relay with a certificate of its own CA): refused by Node's public roots,
  // passed once the unit carries CA_BUNDLE (SelfHostedMcp sets it from acme.caBundle).
  stub.setMode("normal");
  const tlsDir = join(dir, "tls");
  mkdirSync(tlsDir);
  await runOk("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
    "-keyout", join(tlsDir, "key.pem"), "-out", join(tlsDir, "ca.pem"), "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]);
  const relay = createTlsServer({ key: readFileSync(join(tlsDir, "key.pem")), cert: readFileSync(join(tlsDir, "ca.pem")) }, (c) => {
    const up = connect(Number(new URL(container!.url).port), "127.0.0.1");
    c.pipe(up).pipe(c);
    c.on("error", () => up.destroy()); up.on("error", () => c.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", () => r()));
  try {
    const tlsUrl = `https://localhost:${(relay.address() as { port: number }).port}`;
    const envOf = (o: Partial<SmokeTimerOptions>) => Object.fromEntries([...renderSmokeTimer(opts({ url: tlsUrl, withToken: true, textfileDir, ...o })).service
      .matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    const runWith = (env: Record<string, string>) => run("/bin/bash", [join(t.smokeDir, "run-smoke.sh")], { env: { PATH: process.env.PATH ?? "", ...env }, timeoutMs: 120_000 });
    const untrusted = await runWith(envOf({}));
    assert.notEqual(untrusted.code, 0, "a private CA is not trusted by default");
    const trusted = await runWith(envOf({ caBundle: join(tlsDir, "ca.pem") }));
    assert.equal(trusted.code, 0, trusted.stdout + trusted.stderr);
    assert.equal((JSON.parse(trusted.stdout) as { ok: boolean }).ok, true);
  } finally { relay.close(); }

  const removed = await runOk("bash", ["-c", t.uninstall]);
  assert.match(removed.stdout, /removed/);
  for (const p of [t.smokeDir, t.tokenFile!, join(dir, "units", `${t.unit}.service`), join(dir, "units", `${t.unit}.timer`)]) assert.equal(existsSync(p), false, p);
});
