// The certificate lifecycle of the nginx site (test/support/nginx-live-site.ts): certbot's HTTP-01 through the
// rendered ACME location (pebble's VA), testssl's protocol check, and a forced renewal picked up by the deploy hook
// without a restart.
import { it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { renewCommand } from "../../nginx/index.ts";
import { run, runOk, waitFor } from "../support/proc.ts";
import { describeLiveSite, DOMAIN } from "../support/nginx-live-site.ts";

describeLiveSite("nginx TLS from pebble via certbot", (live) => {

  it("certbot got the certificate through the rendered ACME location (HTTP-01 from pebble's VA)", () => {
    const { site } = live();
    const lines = readFileSync(site.accessLog as string, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, string | number>);
    const challenges = lines.filter((l) => String(l.uri).startsWith("/.well-known/acme-challenge/"));
    assert.ok(challenges.length >= 1, "pebble fetched the challenge");
    assert.ok(challenges.every((l) => l.status === 200), JSON.stringify(challenges));
  });

  it("testssl: TLS 1.0 and 1.1 not offered, TLS 1.2 and 1.3 offered", { timeout: 300_000 }, async () => {
    const { httpsPort } = live();
    const t0 = Date.now();
    const r = await run("testssl", ["--quiet", "--color", "0", "--warnings", "off", "--protocols", "--ip", "127.0.0.1",
      `${DOMAIN}:${httpsPort}`], { timeoutMs: 240_000 });
    const out = r.stdout + r.stderr;
    console.log(`# testssl --protocols: ${Date.now() - t0} ms`);
    assert.match(out, /^\s*TLS 1\s+not offered/m, out);
    assert.match(out, /^\s*TLS 1\.1\s+not offered/m, out);
    assert.match(out, /^\s*TLS 1\.2\s+offered/m, out);
    assert.match(out, /^\s*TLS 1\.3\s+offered/m, out);
    assert.match(out, /^\s*SSLv3\s+not offered/m, out);
  });

  it("a forced renewal runs the deploy hook; nginx serves the new certificate without a restart", { timeout: 180_000 }, async () => {
    const { client, httpsPort, nginx, certbot, hookPath, pebble } = live();
    const before = await client.peerCertificate(httpsPort);
    const pid = nginx.pid();
    const [cmd, ...args] = renewCommand({
      certbotConfigDir: certbot.configDir, certbotWorkDir: certbot.workDir, certbotLogsDir: certbot.logsDir, deployHookPath: hookPath,
    });
    const t0 = Date.now();
    await runOk(cmd!, [...args, "--force-renewal"], { env: { ...process.env, ...pebble.certbotEnv }, timeoutMs: 120_000 });
    const after = await waitFor("the renewed certificate on the wire", async () => {
      const c = await client.peerCertificate(httpsPort);
      return c.fingerprint256 !== before.fingerprint256 && c;
    }, { timeoutMs: 15_000, intervalMs: 200 });
    console.log(`# forced renewal to new certificate served: ${Date.now() - t0} ms`);
    assert.notEqual(after.serialNumber, before.serialNumber);
    assert.match(after.subjectaltname ?? "", /DNS:mcp\.example\.test/);
    assert.equal(nginx.pid(), pid, "same master process: reloaded, not restarted");
  });
});
