// lib.sh's nginx_apply against a real nginx: it returns only once the master serves the new configuration.
// `nginx -s reload` just signals the master and returns; on a slow machine the master opens a newly added listening
// socket seconds later (the rehearsal's droplet VM reset connections to the TLS site's 443 for ~1.5 s after the
// certificate step). A stopped master (SIGSTOP, resumed 1.5 s later) makes that window as long as a test needs.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, distinctFreePorts } from "../support/proc.ts";
import { startPrivateNginx } from "../support/nginx.ts";

const LIB = join(import.meta.dirname, "..", "..", "infra", "render", "scripts", "lib.sh");
const root = mkdtempSync(join(tmpdir(), "nginx-reload-"));
after(() => rmSync(root, { recursive: true, force: true }));

const site = (...ports: number[]) => `server {\n${ports.map((p) => `    listen 127.0.0.1:${p};\n`).join("")}    return 204;\n}\n`;

/** Resolves true when 127.0.0.1:port accepts a TCP connection now (a refused or reset one: false). */
const accepts = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect(port, "127.0.0.1", () => { s.destroy(); resolve(true); });
  s.once("error", () => resolve(false));
});

/** Runs lib.sh's nginx_apply in bash with `nginx` on PATH bound to the private instance (as /usr/sbin/nginx is). */
async function nginxApply(base: string[], pidFile: string, waitTenths?: number) {
  const bin = join(root, `bin-${Date.now()}`);
  mkdirSync(bin);
  writeFileSync(join(bin, "nginx"), `#!/bin/sh\nexec /usr/sbin/nginx ${base.map((a) => `'${a}'`).join(" ")} "$@"\n`);
  chmodSync(join(bin, "nginx"), 0o755);
  const script = `SCRIPT_NAME=test NGINX_PID_FILE='${pidFile}'; . '${LIB}'; ${waitTenths ? `NGINX_RELOAD_WAIT_TENTHS=${waitTenths};` : ""} nginx_apply`;
  return run("bash", ["-c", script], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, timeoutMs: 120_000 });
}

test("nginx_apply returns only when the reloaded master listens on the port the new configuration adds", async () => {
  const [a, b] = await distinctFreePorts(2);
  const nginx = await startPrivateNginx(site(a!));
  try {
    assert.equal(await accepts(b!), false, "the new port is not served before the reload");
    nginx.writeSite(site(a!, b!));
    const base = nginx.testCommand.slice(3); // ["-p", prefix, "-c", conf, "-e", log]
    // The master is slow to act on the reload: stopped now, resumed 1.5 s later.
    process.kill(nginx.pid(), "SIGSTOP");
    const resume = setTimeout(() => process.kill(nginx.pid(), "SIGCONT"), 1_500);
    const t0 = Date.now();
    let r;
    try { r = await nginxApply(base, join(nginx.prefix, "nginx.pid")); } finally { clearTimeout(resume); process.kill(nginx.pid(), "SIGCONT"); }
    const waited = Date.now() - t0;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(await accepts(b!), true, `127.0.0.1:${b} accepts as soon as nginx_apply returned (it returned after ${waited} ms)`);
    assert.ok(waited >= 1_400, `nginx_apply waited for the stopped master (${waited} ms)`);
    assert.match(r.stdout, /nginx configuration applied/);
  } finally { await nginx.stop(); }
});

test("nginx_apply fails, naming the error log, when the master cannot apply a reload (port taken) and keeps the old configuration", async () => {
  const [a, b] = await distinctFreePorts(2);
  const nginx = await startPrivateNginx(site(a!));
  // `nginx -t` does not bind, so it passes; the master's bind() of the taken port fails at the reload.
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(b, "127.0.0.1", resolve));
  try {
    nginx.writeSite(site(a!, b!));
    const t0 = Date.now();
    const r = await nginxApply(nginx.testCommand.slice(3), join(nginx.prefix, "nginx.pid"), 30);
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /started no workers with the new configuration within 3 s: it keeps running the previous one .*error log/);
    assert.ok(Date.now() - t0 < 20_000, "the wait is bounded");
    assert.match(nginx.errorLog(), /bind\(\) to 127\.0\.0\.1:\d+ failed/);
    assert.equal(await accepts(a!), true, "the previous configuration still serves");
  } finally {
    squatter.close();
    await nginx.stop();
  }
});
