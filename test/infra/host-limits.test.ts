// host-limits.sh (part of the host-ready command) run for real as root: against a copy of Debian's stock nginx.conf
// (checked against the package's conffile checksum) it sets worker_connections 4096 / worker_rlimit_nofile 8192 and
// a real `nginx -t` accepts the result; a second run changes nothing; a configuration nginx rejects is restored. In a
// network namespace of its own (the machine's firewall is never touched) it installs the connlimit script (0755) and
// unit and applies the rule with the real iptables/ip6tables — idempotently. The user-data carries none of it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostLimitsInputs, renderHostReady, NGINX_WORKER_CONNECTIONS } from "../../infra/render/host-ready.ts";
import { renderScript } from "../../infra/render/remote-script.ts";
import { renderCloudInit } from "../../infra/render/cloud-init.ts";
import { renderConnlimitUnit } from "../../nginx/index.ts";
import { run, runOk } from "../support/proc.ts";
import { SSH_PUBLIC_KEY } from "./fixtures.ts";

const root = mkdtempSync(join(tmpdir(), "host-limits-"));
after(() => rmSync(root, { recursive: true, force: true }));
// Debian's stock nginx.conf, kept as a fixture: this machine's own /etc/nginx/nginx.conf is not a stable input (the
// rehearsal's host-ready command edits it when this machine plays the droplet). Its md5 is checked against the
// conffile checksum dpkg recorded for the installed nginx-common, so it is the package's file, not a copy of ours.
const STOCK = new URL("./fixtures/debian-nginx.conf", import.meta.url);

/** A private /etc/nginx: the stock nginx.conf with its include paths moved into `dir`, the stock mime.types, and
 * empty include directories (so nothing another test left in /etc/nginx can decide the outcome). */
async function stockNginx(dir: string): Promise<string> {
  const conffiles = (await runOk("dpkg-query", ["-W", "-f=${Conffiles}\n", "nginx-common"])).stdout;
  const md5 = / \/etc\/nginx\/nginx\.conf ([0-9a-f]{32})/.exec(conffiles)?.[1];
  assert.ok(md5, "nginx-common's conffile list names /etc/nginx/nginx.conf");
  const text = readFileSync(STOCK, "utf8");
  assert.equal(createHash("md5").update(text).digest("hex"), md5, "test/infra/fixtures/debian-nginx.conf is the installed nginx-common's stock nginx.conf");
  assert.match(text, /^\s*worker_connections 768;$/m, "Debian's stock value");
  for (const d of ["modules-enabled", "conf.d", "sites-enabled"]) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync("/etc/nginx/mime.types", join(dir, "mime.types"));
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, text.replaceAll("/etc/nginx/", `${dir}/`));
  return conf;
}

function limitsScript(dir: string, nginxConf: string): string {
  const file = join(dir, "host-limits.sh");
  writeFileSync(file, renderScript("host-limits", hostLimitsInputs({ nginxConf, connlimitScript: join(dir, "sbin", "connlimit"), unitDir: join(dir, "units") })));
  return file;
}

test("nginx.conf: worker_connections and worker_rlimit_nofile set in Debian's stock file, accepted by a real nginx -t, idempotent", async () => {
  const dir = join(root, "nginx");
  const conf = await stockNginx(dir);
  const before = readFileSync(conf, "utf8");
  const script = limitsScript(dir, conf);
  // The whole script runs (its firewall part too), so in a network namespace of its own.
  const first = await run("unshare", ["--net", "--", "bash", script], { timeoutMs: 60_000 });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const after1 = readFileSync(conf, "utf8");
  assert.match(after1, /^events \{\n\tworker_connections 4096;$/m);
  assert.match(after1, /^worker_processes auto;\nworker_rlimit_nofile 8192;$/m, "main context, after worker_processes");
  assert.equal(after1.match(/worker_rlimit_nofile/g)!.length, 1);
  assert.equal(after1.replace("worker_connections 4096;", "worker_connections 768;").replace("worker_rlimit_nofile 8192;\n", ""), before,
    "nothing else changed");
  assert.equal(statSync(conf).mode & 0o777, 0o644);
  assert.equal(readFileSync(`${conf}.selfhosted-mcp.bak`, "utf8"), before, "the previous file is kept");
  const t = await run("nginx", ["-t", "-c", conf]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(first.stdout, /nginx: worker_connections 4096, worker_rlimit_nofile 8192 \(/);

  const second = await run("unshare", ["--net", "--", "bash", script], { timeoutMs: 60_000 });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /worker_rlimit_nofile 8192 \(unchanged\)/);
  assert.equal(readFileSync(conf, "utf8"), after1);
});

test("nginx.conf that nginx -t rejects after the edit: the previous file is restored and the command fails", async () => {
  const dir = join(root, "broken");
  const conf = await stockNginx(dir);
  // A site nginx refuses (unknown directive), as a broken include would be on a host.
  writeFileSync(join(dir, "sites-enabled", "bad"), "server { listen 127.0.0.1:1; no_such_directive on; }\n");
  const before = readFileSync(conf, "utf8");
  const r = await run("unshare", ["--net", "--", "bash", limitsScript(dir, conf)], { timeoutMs: 60_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no_such_directive[\s\S]*nginx -t rejected .* the previous file is restored/);
  assert.equal(readFileSync(conf, "utf8"), before);
});

test("connlimit: script (0755) and unit installed, the rule applied by real iptables/ip6tables in a private namespace, idempotent", async () => {
  const dir = join(root, "fw");
  const conf = await stockNginx(dir);
  const script = limitsScript(dir, conf);
  const probe = `bash "$1" >/dev/null && bash "$1" >/dev/null && iptables -w -S SMCP-CONNLIMIT && iptables -w -S INPUT && ip6tables -w -S SMCP-CONNLIMIT && ip6tables -w -S INPUT`;
  const r = await run("unshare", ["--net", "--", "bash", "-c", probe, "_", script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const rules = r.stdout.split("\n");
  const limit = (mask: number) => rules.filter((l) => l.includes("-A SMCP-CONNLIMIT") && l.includes("--dports 80,443")
    && l.includes(`--connlimit-above 128 --connlimit-mask ${mask}`) && l.includes("-j REJECT --reject-with tcp-reset"));
  assert.equal(limit(32).length, 1, r.stdout);
  assert.equal(limit(64).length, 1, r.stdout);
  assert.equal(rules.filter((l) => l === "-A INPUT -j SMCP-CONNLIMIT").length, 2, "one jump per family after two runs");
  assert.equal(statSync(join(dir, "sbin", "connlimit")).mode & 0o777, 0o755);
  assert.equal(readFileSync(join(dir, "units", "selfhosted-mcp-connlimit.service"), "utf8"), renderConnlimitUnit(join(dir, "sbin", "connlimit")));
});

test("the host-ready command carries both parts with the production paths; the user-data carries neither (it would replace the droplet)", () => {
  const cmd = renderHostReady({ hostId: "424242", cloudInitTimeoutSeconds: 900, requiredCommands: ["docker"], swapMb: 0, swapFile: "/swapfile.x" });
  assert.match(cmd, /^# selfhosted-mcp remote script: host-ready \+ host-limits\./m);
  assert.match(cmd, /^readonly CONNLIMIT_SCRIPT=\/usr\/local\/sbin\/selfhosted-mcp-connlimit$/m);
  assert.match(cmd, /^readonly CONNLIMIT_UNIT_FILE=\/etc\/systemd\/system\/selfhosted-mcp-connlimit\.service$/m);
  assert.match(cmd, /^readonly NGINX_CONF=\/etc\/nginx\/nginx\.conf$/m);
  assert.match(cmd, new RegExp(`^readonly WORKER_CONNECTIONS=${NGINX_WORKER_CONNECTIONS}$`, "m"));
  assert.ok(cmd.indexOf("# --- script: host-ready ---") < cmd.indexOf("# --- script: host-limits ---"));
  const perAddress = renderHostReady({ hostId: "1", cloudInitTimeoutSeconds: 1, requiredCommands: [], swapMb: 0, swapFile: "/s", connectionLimit: { perAddress: 64 } });
  const fw = Buffer.from(/^readonly CONNLIMIT_SCRIPT_B64=(\S+)$/m.exec(perAddress)![1]!, "base64").toString();
  assert.match(fw, /--connlimit-above 64 /);
  const userData = renderCloudInit({ user: "deploy", sshAuthorizedKeys: [SSH_PUBLIC_KEY] });
  assert.doesNotMatch(userData, /connlimit|worker_connections|worker_rlimit_nofile|iptables/);
});
