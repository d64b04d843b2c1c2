// The host scripts and systemd units the nginx part renders, against their real consumers: certbot's issuance script
// and deploy hook through shellcheck and sh, the connection-limit script, and the units through systemd-analyze.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  renderCertbotIssueScript, renderDeployHook, renderRenewalUnits, ACME_DIRECTORIES, RENEWAL_UNIT, renderConnlimitScript,
  renderConnlimitUnit, CONNLIMIT_UNIT,
} from "../../nginx/index.ts";
import { run } from "../support/proc.ts";

const DOMAIN = "mcp.example.test";
let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), "nginx-host-scripts-")); });
after(() => rmSync(dir, { recursive: true, force: true }));

describe("host scripts", () => {
  const issue = (o: Partial<Parameters<typeof renderCertbotIssueScript>[0]> = {}) =>
    renderCertbotIssueScript({ domain: DOMAIN, ...o });

  it("issuance script selects the ACME directory: Let's Encrypt production by default, staging, or any URL", () => {
    assert.ok(issue().includes(`--server ${ACME_DIRECTORIES.production} `));
    assert.ok(issue({ acmeServer: "staging" }).includes(`--server ${ACME_DIRECTORIES.staging} `));
    assert.ok(issue({ acmeServer: "https://127.0.0.1:14000/dir" }).includes("--server https://127.0.0.1:14000/dir "));
    assert.match(issue(), /--register-unsafely-without-email/);
    // Callers may run under umask 077; nginx's workers (another user) must still read the challenge files.
    assert.match(issue(), /^umask 022\nmkdir -p \S+\/\.well-known\/acme-challenge\nchmod 0755 /m);
    assert.match(issue({ email: "ops@example.test", extraDomains: ["www.example.test"] }), /--email ops@example\.test \\\n.*-d mcp\.example\.test -d www\.example\.test/s);
  });

  it("every rendered script passes shellcheck", async () => {
    const scripts = {
      "issue-default.sh": issue(),
      "issue-custom.sh": issue({ email: "ops@example.test", acmeServer: "staging", keyType: "rsa", certName: "main",
        acmeWebroot: "/srv/acme", certbotConfigDir: "/srv/le", deployHookPath: "/opt/hook" }),
      "hook-default.sh": renderDeployHook(),
      "connlimit-default.sh": renderConnlimitScript(),
      "connlimit-custom.sh": renderConnlimitScript({ ports: [8443], perAddress: 64, ipv6: false }),
      "hook-custom.sh": renderDeployHook({ testCommand: ["nginx", "-t", "-c", "/etc/nginx/my conf's.conf"], reloadCommand: ["systemctl", "reload", "nginx@my site"] }),
    };
    for (const [name, text] of Object.entries(scripts)) writeFileSync(join(dir, name), text);
    const r = await run("shellcheck", ["--shell=sh", "--severity=style", ...Object.keys(scripts).map((n) => join(dir, n))]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it("deploy hook reloads only when the config test passes, and quotes its commands", async () => {
    const marker = join(dir, "reloaded");
    const hook = (testCommand: string[]) => {
      const p = join(dir, "hook-run.sh");
      writeFileSync(p, renderDeployHook({ testCommand, reloadCommand: ["touch", marker] }));
      return run("sh", [p], { env: { ...process.env, RENEWED_LINEAGE: "/x/live/a", RENEWED_DOMAINS: "a.example" } });
    };
    const failed = await hook(["sh", "-c", "exit 1"]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /config test failed; not reloading \(lineage: \/x\/live\/a\)/);
    assert.equal(existsSync(marker), false);
    const ok = await hook(["test", "-n", "it's $HOME; quoted"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(existsSync(marker), true);
    assert.match(ok.stdout, /nginx reloaded for a\.example/);
  });

  it("the connection-limit unit passes systemd-analyze verify", async () => {
    const unitDir = join(dir, "connlimit-unit");
    mkdirSync(unitDir, { recursive: true });
    const script = join(unitDir, "connlimit.sh");
    writeFileSync(script, renderConnlimitScript(), { mode: 0o755 });
    writeFileSync(join(unitDir, `${CONNLIMIT_UNIT}.service`), renderConnlimitUnit(script));
    const r = await run("systemd-analyze", ["verify", join(unitDir, `${CONNLIMIT_UNIT}.service`)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.throws(() => renderConnlimitScript({ perAddress: 2 }), /perAddress: .*8/);
  });

  it("systemd renewal timer and service pass systemd-analyze verify", async () => {
    const { service, timer } = renderRenewalUnits({ deployHookPath: "/usr/local/sbin/hook", onCalendar: "*-*-* 03,15:30:00" });
    assert.match(service, /^ExecStart=\/usr\/bin\/certbot renew --quiet --no-random-sleep-on-renew --deploy-hook \/usr\/local\/sbin\/hook --config-dir \/etc\/letsencrypt /m);
    assert.match(timer, /^OnCalendar=\*-\*-\* 03,15:30:00$/m);
    const unitDir = join(dir, "units");
    mkdirSync(unitDir, { recursive: true });
    writeFileSync(join(unitDir, `${RENEWAL_UNIT}.service`), service);
    writeFileSync(join(unitDir, `${RENEWAL_UNIT}.timer`), timer);
    const r = await run("systemd-analyze", ["verify", join(unitDir, `${RENEWAL_UNIT}.timer`), join(unitDir, `${RENEWAL_UNIT}.service`)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((r.stdout + r.stderr).trim(), "");
  });
});
