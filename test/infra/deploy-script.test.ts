// The blue/green deploy script runs for real with bash (through the same sh wrapper the Command resources use)
// against the stand-in host of fake-host.ts: HTTP-only first deploy, the certificate step, slot switches, a bad image
// that keeps the old slot serving. The real programs run in the rehearsal (rehearsal/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync, statSync, mkdirSync, chmodSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { renderDeploymentPlan, renderBundle, renderEnvFile } from "../../infra/render/deployment-plan.ts";
import { DIGEST, deploy, fakeHost, planOptions, sh } from "./fake-host.ts";

test("blue/green: first deploy serves HTTP-only, the certificate step issues and serves TLS, redeploy switches slots, a bad image keeps the old one", async () => {
  const host = fakeHost();
  const opts = planOptions(host.dir);
  const first = renderDeploymentPlan(opts);
  const prep = await sh(first.site.create, host.env);
  assert.equal(prep.code, 0, prep.stdout + prep.stderr);
  assert.equal(statSync(first.stateDir).mode & 0o777, 0o700);
  assert.match(prep.stdout, /prepared .* on host 424242/);

  // 0. A bundle that is cut short (or names an unknown file) is refused before anything changes.
  const bundle = renderBundle({ ...first.files, env: renderEnvFile({ A: "1" }), "docker-config.json": "{}" });
  let r = await sh(first.deploy, host.env, bundle.split("\n").slice(0, 3).join("\n") + "\n");
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /deploy bundle on stdin ended after 3 of 8 files/);
  r = await sh(first.deploy, host.env, `bogus ${Buffer.from("x").toString("base64")}\n${bundle}`);
  assert.match(r.stderr, /unexpected entry 'bogus'/);
  assert.equal(existsSync(first.envFile), false, "nothing installed from a bad bundle");
  assert.doesNotMatch(host.calls(), /docker run/);

  // 1. First deploy: HTTP-only site, no certbot yet (the domain may not point here yet); blue slot live.
  //    An earlier run left the challenge dir 0700.
  mkdirSync(`${host.dir}/webroot/.well-known/acme-challenge`, { recursive: true, mode: 0o700 });
  chmodSync(`${host.dir}/webroot/.well-known`, 0o700);
  r = await deploy(host, opts, { API_KEYS: "sentinel-secret-value-1234" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /no certificate .* yet: HTTP-only site \(the certificate command issues one\)/);
  assert.doesNotMatch(host.calls(), /certbot/);
  assert.match(readFileSync(first.siteFile, "utf8"), /phase: http-only/);
  assert.match(host.calls(), /docker pull --quiet 127\.0\.0\.1:5000\/mcp@sha256:a{64}/);

  // 1b. The certificate step (after the reserved IP / DNS moved here): certbot, then the TLS site.
  r = await sh(first.certificate, host.env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(host.calls(), /certbot certonly .*--server https:\/\/127\.0\.0\.1:14000\/dir .*--webroot-path .*\/webroot/);
  for (const d of [".well-known", ".well-known/acme-challenge"]) {
    assert.equal(statSync(`${host.dir}/webroot/${d}`).mode & 0o777, 0o755, `nginx workers can read challenges (${d})`);
  }
  assert.match(readFileSync(first.siteFile, "utf8"), /phase: tls/);
  host.reset();
  r = await sh(first.certificate, host.env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /the TLS site is already in place/);
  assert.equal(host.calls(), "", "a second run changes nothing");

  assert.equal(first.socketDir, `${host.dir}/lib/selfhosted-mcp/mcp.sockets`);
  assert.match(readFileSync(first.upstreamFile, "utf8"), new RegExp(`^server unix:${first.socketDir}/live\\.sock max_fails=0;$`, "m"));
  assert.match(readFileSync(first.siteFile, "utf8"), /^\s*keepalive_time 1s;\n\s*keepalive_timeout 1s;$/m,
    "cached upstream connections live at most 1 s, so they follow the link before the old slot stops");
  assert.equal(readlinkSync(`${first.socketDir}/live.sock`), "blue/mcp.sock");
  assert.equal(statSync(first.socketDir).mode & 0o7777, 0o755);
  for (const slot of ["blue", "green"]) assert.equal(statSync(`${first.socketDir}/${slot}`).mode & 0o7777, 0o1733, slot);
  assert.equal(readFileSync(`${first.stateDir}/active-slot`, "utf8").trim(), "blue");
  assert.equal(statSync(first.envFile).mode & 0o777, 0o600);
  assert.match(readFileSync(first.envFile, "utf8"), /API_KEYS=sentinel-secret-value-1234/);
  assert.deepEqual(readdirSync(first.stateDir).filter((f) => f.startsWith(".bundle")), [], "the unpacked bundle is removed");
  assert.ok(existsSync(`${host.dir}/containers/mcp-blue`));

  // 2. New image: green starts beside blue, live.sock switches to it, blue is stopped, older images pruned.
  //    No certificate, no nginx reload.
  host.reset();
  const opts2 = { ...opts, image: DIGEST("b") };
  r = await deploy(host, opts2, { API_KEYS: "sentinel-secret-value-1234" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const second = renderDeploymentPlan(opts2);
  assert.doesNotMatch(host.calls(), /certbot/);
  assert.equal(readlinkSync(`${second.socketDir}/live.sock`), "green/mcp.sock");
  assert.match(r.stdout, /nginx configuration unchanged: no reload/);
  assert.doesNotMatch(host.calls(), /^nginx /m, "an app-only redeploy leaves nginx (and its client connections) alone");
  assert.equal(readFileSync(`${second.stateDir}/active-slot`, "utf8").trim(), "green");
  assert.ok(existsSync(`${host.dir}/containers/mcp-green`));
  assert.equal(existsSync(`${host.dir}/containers/mcp-blue`), false);
  const calls = host.calls().split("\n");
  const idx = (re: RegExp) => calls.findIndex((l) => re.test(l));
  const healthCheck = /^curl .*--unix-socket \S*\/green\/mcp\.sock http:\/\/localhost\/health/;
  assert.ok(idx(/^docker run .*--name mcp-green/) >= 0 && idx(/^docker run .*--name mcp-green/) < idx(healthCheck), "health checked (on the socket) after start");
  assert.ok(idx(healthCheck) < idx(/^docker stop mcp-blue/), "old slot stopped after the switch");
  assert.ok(idx(/^docker stop mcp-blue/) < idx(/^docker image rm image-of-old-build$/), "pruned after the switch");
  assert.equal(idx(/^docker image rm image-of-(a|b)$/), -1, "the new image and the one just retired are kept");

  // 3. An image that never becomes healthy: the update fails with its logs; green keeps serving.
  host.reset();
  r = await deploy(host, { ...opts, image: DIGEST("c") }, { API_KEYS: "sentinel-secret-value-1234" }, { STUB_UNHEALTHY: "1" });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout, /last 50 log lines of mcp-blue/);
  assert.match(r.stdout, /boom: the new container log line for mcp-blue/);
  assert.match(r.stderr, /not healthy at \/health within 5s \(the green slot keeps serving\)/);
  assert.equal(readlinkSync(`${second.socketDir}/live.sock`), "green/mcp.sock");
  assert.ok(existsSync(`${host.dir}/containers/mcp-green`));
  assert.equal(existsSync(`${host.dir}/containers/mcp-blue`), false, "the failed container is removed");
  assert.doesNotMatch(host.calls(), /nginx -s reload|docker image rm/);

  // A server that never listens on LISTEN_SOCKET: named as the reason.
  host.reset();
  r = await deploy(host, { ...opts, image: DIGEST("c") }, { API_KEYS: "x" }, { STUB_NO_SOCKET: "1" });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /mcp-blue never listened on its unix socket \(LISTEN_SOCKET in the container, \S*\/blue\/mcp\.sock on the host\)/);
  assert.equal(readlinkSync(`${second.socketDir}/live.sock`), "green/mcp.sock");

  // 4. Changed nginx options (a new body limit) with a site that fails `nginx -t`: files and link restored.
  host.reset();
  const changed = { ...opts, image: DIGEST("d"), limits: { maxBodySize: "2m" } };
  const fourth = renderDeploymentPlan(changed);
  const before = readFileSync(fourth.siteFile, "utf8");
  r = await deploy(host, changed, { API_KEYS: "sentinel-secret-value-1234" }, { STUB_NGINX_BAD: "1" });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /tls nginx site does not validate/);
  assert.equal(readFileSync(fourth.siteFile, "utf8"), before, "site restored");
  assert.equal(readlinkSync(`${fourth.socketDir}/live.sock`), "green/mcp.sock", "link restored");
  assert.equal(readFileSync(`${fourth.stateDir}/active-slot`, "utf8").trim(), "green");

  // 4b. The same change with a valid site: nginx reloads (its files changed) and blue takes over.
  host.reset();
  r = await deploy(host, changed, { API_KEYS: "sentinel-secret-value-1234" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(readFileSync(fourth.siteFile, "utf8"), /client_max_body_size 2m;/);
  assert.match(host.calls(), /^nginx -s reload$/m);
  assert.equal(readlinkSync(`${fourth.socketDir}/live.sock`), "blue/mcp.sock");

  // 4c. Only an nginx option changes (same image, env and run spec): the live slot keeps serving — no pull of a
  //     new image into a new slot, no docker run/stop — and nginx reloads with the new site.
  host.reset();
  const nginxOnly = { ...changed, limits: { maxBodySize: "3m" } };
  r = await deploy(host, nginxOnly, { API_KEYS: "sentinel-secret-value-1234" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /server unchanged \(image, env, run spec\): the blue slot keeps serving, no new container/);
  assert.doesNotMatch(host.calls(), /^docker (run|stop|rm)/m, "no container started, stopped or removed");
  assert.match(readFileSync(fourth.siteFile, "utf8"), /client_max_body_size 3m;/);
  assert.match(host.calls(), /^nginx -s reload$/m);
  assert.equal(readlinkSync(`${fourth.socketDir}/live.sock`), "blue/mcp.sock");
  // The same again: nothing at all changes.
  host.reset();
  r = await deploy(host, nginxOnly, { API_KEYS: "sentinel-secret-value-1234" });
  assert.match(r.stdout, /no new container[\s\S]*nginx configuration unchanged: no reload/);
  assert.doesNotMatch(host.calls(), /^docker (run|stop|rm)|^nginx /m);
  // A changed secret is a server change: a new slot.
  host.reset();
  r = await deploy(host, nginxOnly, { API_KEYS: "sentinel-secret-value-5678" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(host.calls(), /^docker run .*--name mcp-green/m);
  assert.equal(readlinkSync(`${fourth.socketDir}/live.sock`), "green/mcp.sock");
  // The live slot unchanged but not answering its health check: replaced by a new slot, not kept.
  host.reset();
  rmSync(`${host.dir}/containers/mcp-green`, { force: true });
  writeFileSync(`${host.dir}/containers/mcp-green`, "stale-socket running\n");
  r = await deploy(host, nginxOnly, { API_KEYS: "sentinel-secret-value-5678" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /server unchanged/);
  assert.match(host.calls(), /^docker run .*--name mcp-blue/m);

  // 5. The site's delete (teardown) removes containers, nginx files and state (incl. the env file).
  r = await sh(first.site.delete, host.env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(existsSync(`${host.dir}/containers/mcp-blue`), false);
  for (const f of [first.siteFile, first.upstreamFile, first.stateDir, first.socketDir]) assert.equal(existsSync(f), false, f);
});

