// The remote scripts: every rendered script passes shellcheck, and the blue/green deploy logic runs for real with
// bash (through the same sh wrapper the Command resources use) against stand-in docker/nginx/curl/certbot
// programs that keep their state in a temp directory. The real programs run in the rehearsal (rehearsal/).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readFileSync, existsSync, statSync, rmSync, mkdirSync, chmodSync, readdirSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderDeploymentPlan, renderBundle, PLAIN_FILES, renderEnvFile, type DeploymentPlanOptions } from "../../infra/render/deployment-plan.ts";
import { renderDockerConfig, credentialsFromDockerConfig } from "../../infra/render/docker-config.ts";
import { renderScript, remoteCommand, remoteScript } from "../../infra/render/remote-script.ts";
import { renderSmokeTimer } from "../../infra/monitoring/smoke-timer.ts";
import { renderHostReady } from "../../infra/render/host-ready.ts";
import { renderMonitoringPlan } from "../../infra/monitoring/monitoring-plan.ts";
import { run } from "../support/proc.ts";
import { nginxTest } from "../support/nginx.ts";

const root = mkdtempSync(join(tmpdir(), "infra-scripts-"));
after(() => rmSync(root, { recursive: true, force: true }));
const SCRIPTS_DIR = join(import.meta.dirname, "..", "..", "infra", "render", "scripts");
const DIGEST = (c: string) => `127.0.0.1:5000/mcp@sha256:${c.repeat(64)}`;

/** The bash script inside a wrapped command (between the heredoc lines). */
function inner(command: string): string {
  const lines = command.split("\n");
  const start = lines.findIndex((l) => l.startsWith("cat >\"$f\" <<'"));
  const end = lines.lastIndexOf("SELFHOSTED_MCP_SCRIPT_EOF");
  assert.ok(start > 0 && end > start, "wrapper has a heredoc");
  return lines.slice(start + 1, end).join("\n") + "\n";
}

async function shellcheck(name: string, text: string, shell: "sh" | "bash") {
  const file = join(root, `sc-${name}`);
  writeFileSync(file, text);
  const r = await run("shellcheck", ["--severity=style", "-s", shell, file]);
  assert.equal(r.code, 0, `shellcheck ${name}:\n${r.stdout}${r.stderr}`);
}

function planOptions(dir: string, over: Partial<DeploymentPlanOptions> = {}): DeploymentPlanOptions {
  return {
    app: "mcp", domain: "mcp.example.test", image: DIGEST("a"), port: 18000, metricsPort: 19090,
    acmeEmail: "ops@example.test", acmeServer: "https://127.0.0.1:14000/dir",
    healthTimeoutSeconds: 5, drainSeconds: 2,
    stateDir: `${dir}/lib/selfhosted-mcp/mcp`, siteFile: `${dir}/nginx/conf.d/site.conf`, hostId: "424242",
    nginxPidFile: `${dir}/nginx.pid`, certbotConfigDir: `${dir}/letsencrypt`, certbotPath: `${dir}/bin/certbot`,
    deployHookPath: `${dir}/hook`, nginx: { upstreamIncludeDir: `${dir}/nginx/upstreams`, acmeWebroot: `${dir}/webroot` },
    ...over,
  };
}

test("shellcheck: every rendered script and wrapper", async () => {
  const plan = renderDeploymentPlan(planOptions("/srv/x"));
  const smoke = renderSmokeTimer({ app: "mcp", url: "https://mcp.example.test", withToken: true, textfileDir: "/var/lib/node-exporter" });
  const monitoring = renderMonitoringPlan({ app: "mcp", receivers: { webhook: {} } });
  const commands = { "site-create": plan.site.create, "site-delete": plan.site.delete, deploy: plan.deploy, certificate: plan.certificate,
    "host-ready": renderHostReady({ hostId: "1", cloudInitTimeoutSeconds: 600, requiredCommands: ["docker", "nginx"], swapMb: 1024, swapFile: "/swapfile.x" }),
    "smoke-timer-install": remoteCommand(smoke.install), "smoke-timer-uninstall": remoteCommand(smoke.uninstall),
    "monitoring-install": monitoring.install, "monitoring-uninstall": monitoring.uninstall };
  const rendered = new Set<string>();
  for (const [name, cmd] of Object.entries(commands)) {
    await shellcheck(`${name}.wrapper.sh`, cmd, "sh");
    await shellcheck(`${name}.sh`, inner(cmd), "bash");
    for (const n of /^# selfhosted-mcp remote script: ([a-z +-]+)\./m.exec(cmd)![1]!.split(" + ")) rendered.add(n);
  }
  const shipped = readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith(".sh") && f !== "lib.sh").map((f) => f.slice(0, -3));
  assert.deepEqual([...rendered].sort(), shipped.sort(), "every script in infra/render/scripts is rendered and shellchecked here");
  await shellcheck("run-spec.sh", plan.files["run-spec.sh"], "bash");
  await shellcheck("issue-certificate.sh", plan.files["issue-certificate.sh"], "sh");
  await shellcheck("certbot-deploy-hook", plan.files["certbot-deploy-hook"], "sh");
});

test("shellcheck is a real check here: it flags an unquoted expansion", async () => {
  const file = join(root, "bad.sh");
  writeFileSync(file, "#!/bin/bash\nrm -rf $1/x\n");
  const r = await run("shellcheck", ["-s", "bash", file]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout, /SC2086/);
});

test("renderScript: inputs are quoted and validated; the wrapper delimiter cannot be injected", () => {
  const s = renderScript("prepare", { STATE_DIR: "/tmp/a b'c" });
  assert.match(s, /^readonly STATE_DIR='\/tmp\/a b'\\''c'$/m);
  assert.throws(() => renderScript("prepare", { state: "x" }), /UPPER_SNAKE_CASE/);
  assert.throws(() => renderScript("prepare", { STATE_DIR: "a\nb" }), /single line/);
});

// --- stand-ins for the host's programs: tiny bash scripts with their state under $STUB ---
const STUBS: Record<string, string> = {
  docker: `#!/bin/bash
set -eu
echo "docker $*" >>"$STUB/calls"
c="$STUB/containers"; mkdir -p "$c"
case "$1" in
  pull) [ -z "\${STUB_PULL_FAIL:-}" ] ;;
  run) shift; name=""; sock=""
       while [ $# -gt 1 ]; do case "$1" in --name) name=$2; shift ;;
         --mount) case "$2" in *target=/run/selfhosted-mcp) sock=$(echo "$2" | sed -E 's#.*source=([^,]*),.*#\\1#')/mcp.sock ;; esac; shift ;;
         esac; shift; done
       # like the server: listen on LISTEN_SOCKET (a real socket file in the mounted slot directory)
       [ -n "\${STUB_NO_SOCKET:-}" ] || python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
       echo "$sock $1" >"$c/$name"; echo "container-id-$name" ;;
  inspect) case "$2 \${3:-}" in
             "-f {{.Image}}") [ -f "$c/$4" ] && { d=$(cut -d' ' -f2 "$c/$4"); d=\${d##*sha256:}; echo "image-of-\${d:0:1}"; } ;;
             -f*) [ -f "$c/$4" ] && echo true || echo false ;;
             *) [ -f "$c/$2" ] ;;
           esac ;;
  image) case "$2" in
           inspect) d=\${5##*sha256:}; echo "image-of-\${d:0:1}" ;;
           ls) printf 'image-of-a\nimage-of-b\nimage-of-old-build\n' ;;
           rm) ;;
         esac ;;
  logs) echo "boom: the new container log line for \${@: -1}" ;;
  stop) [ -f "$c/$2" ] ;;
  rm) rm -f "$c/$3" ;;
  *) echo "unexpected docker $*" >&2; exit 2 ;;
esac
`,
  curl: `#!/bin/bash
echo "curl $*" >>"$STUB/calls"
[ -z "\${STUB_UNHEALTHY:-}" ] || exit 22
while [ $# -gt 0 ]; do case "$1" in --unix-socket) sock=$2; shift ;; esac; shift; done
grep -qs "^\${sock:-none} " "$STUB"/containers/*
`,
  nginx: `#!/bin/bash
echo "nginx $*" >>"$STUB/calls"
case "$*" in
  "-t -q") [ -z "\${STUB_NGINX_BAD:-}" ] || ! grep -qs "ssl_certificate" "$STUB_SITE" ;;
  "-s reload") ;;
  "") echo 1 >"$STUB_PID" ;;
esac
`,
  certbot: `#!/bin/bash
echo "certbot $*" >>"$STUB/calls"
while [ $# -gt 0 ]; do case "$1" in --config-dir) cfg=$2 ;; --cert-name) name=$2 ;; esac; shift; done
mkdir -p "$cfg/live/$name" && echo CERT >"$cfg/live/$name/fullchain.pem"
`,
};

interface Host { dir: string; env: NodeJS.ProcessEnv; calls(): string; reset(): void }
function fakeHost(): Host {
  const dir = mkdtempSync(join(root, "host-"));
  mkdirSync(join(dir, "bin"));
  for (const [name, text] of Object.entries(STUBS)) { writeFileSync(join(dir, "bin", name), text); chmodSync(join(dir, "bin", name), 0o755); }
  const env = { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, STUB: dir, STUB_PID: `${dir}/nginx.pid`, STUB_SITE: `${dir}/nginx/conf.d/site.conf` };
  return { dir, env, calls: () => (existsSync(`${dir}/calls`) ? readFileSync(`${dir}/calls`, "utf8") : ""), reset: () => rmSync(`${dir}/calls`, { force: true }) };
}

const sh = (command: string, env: NodeJS.ProcessEnv, input = "") => run("sh", ["-c", command], { env, timeoutMs: 60_000, input });

/** What McpDeployment's deploy command does: its script, with every file (secrets too) in the bundle on stdin. */
function deploy(host: Host, options: DeploymentPlanOptions, env: Record<string, string>, extraEnv: NodeJS.ProcessEnv = {}) {
  const plan = renderDeploymentPlan(options);
  const bundle = renderBundle({ ...plan.files, env: renderEnvFile(env), "docker-config.json": renderDockerConfig("127.0.0.1:5000") });
  return sh(plan.deploy, { ...host.env, ...extraEnv }, bundle);
}

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

  // 5. The site's delete (teardown) removes containers, nginx files and state (incl. the env file).
  r = await sh(first.site.delete, host.env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(existsSync(`${host.dir}/containers/mcp-blue`), false);
  for (const f of [first.siteFile, first.upstreamFile, first.stateDir, first.socketDir]) assert.equal(existsSync(f), false, f);
});

test("host-ready: checks the required programs and names what is missing", async () => {
  const host = fakeHost();
  const ok = await sh(remoteScript("host-ready", { HOST_ID: "1", CLOUD_INIT_TIMEOUT_SECONDS: 5, REQUIRED_COMMANDS: "docker nginx", SWAP_MB: 0, SWAP_FILE: `${host.dir}/swap` }), host.env);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /host 1 ready: docker nginx/);
  const bad = await sh(remoteScript("host-ready", { HOST_ID: "1", CLOUD_INIT_TIMEOUT_SECONDS: 5, REQUIRED_COMMANDS: "docker no-such-program-x", SWAP_MB: 0, SWAP_FILE: `${host.dir}/swap` }), host.env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /missing on this host: no-such-program-x/);
});

test("the wrapper keeps the script's exit status and removes its temp file (dash and bash)", async () => {
  for (const shell of ["sh", "bash"]) {
    const tmp = mkdtempSync(join(root, "wrap-"));
    const cmd = remoteScript("prepare", { STATE_DIR: "/nonexistent" }).replace('install -d -m 0755 "$(dirname "${STATE_DIR}")"', "exit 7");
    const r = await run(shell, ["-c", cmd], { env: { ...process.env, TMPDIR: tmp } });
    assert.equal(r.code, 7, r.stderr);
    assert.deepEqual(readdirSync(tmp), []);
  }
});

test("env file and docker config", () => {
  assert.equal(renderEnvFile({ B: "2", A: "x=y z" }), "# selfhosted-mcp env file (secrets; mode 0600 on the host)\nA=x=y z\nB=2\n");
  assert.throws(() => renderEnvFile({ A: "1\n2" }), /env A: value must be a single line/);
  assert.deepEqual(JSON.parse(renderDockerConfig("reg.example/ns", "u", "p")), { auths: { "reg.example": { auth: Buffer.from("u:p").toString("base64") } } });
  assert.deepEqual(JSON.parse(renderDockerConfig("127.0.0.1:5000")), { auths: {} });
  assert.deepEqual(credentialsFromDockerConfig(renderDockerConfig("reg.example/ns", "tok", "t:k"), "reg.example"), { username: "tok", password: "t:k" });
  assert.throws(() => credentialsFromDockerConfig("{}", "reg.example"), /no auth entry for reg\.example/);
  assert.throws(() => renderDeploymentPlan({ ...planOptions("/x"), port: 9000, metricsPort: 9001 }), /clash/);
  assert.throws(() => renderDeploymentPlan({ ...planOptions("/x"), limits: { keepaliveTimeSeconds: 30 } }),
    /invalid McpDeployment options: limits\.keepaliveTimeSeconds: must be left unset: the deployment sets it to 1 s/);
  assert.throws(() => renderDeploymentPlan({ ...planOptions("/x"), drainSeconds: 1 }),
    /invalid McpDeployment options: drainSeconds: must be at least 2: nginx reuses a cached connection to the old slot for up to 1 s/);
});

test("real nginx accepts both sites at the paths the deploy script installs them (upstream include, certificate)", async () => {
  const dir = mkdtempSync(join(root, "nginx-t-"));
  const opts = planOptions(dir, { nginx: { upstreamIncludeDir: `${dir}/upstreams`, acmeWebroot: `${dir}/webroot`,
    accessLog: `${dir}/access.log`, errorLog: `${dir}/error.log` } });
  const plan = renderDeploymentPlan(opts);
  mkdirSync(`${dir}/upstreams`);
  writeFileSync(plan.upstreamFile, plan.files["upstream.conf"]);
  const live = `${dir}/letsencrypt/live/mcp.example.test`;
  mkdirSync(live, { recursive: true });
  const cert = await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", `${live}/privkey.pem`, "-out", `${live}/fullchain.pem`, "-days", "1", "-subj", "/CN=mcp.example.test"]);
  assert.equal(cert.code, 0, cert.stderr);
  for (const phase of ["nginx-http.conf", "nginx-tls.conf"] as const) {
    const r = await nginxTest(plan.files[phase]);
    assert.equal(r.code, 0, `${phase}: ${r.stderr}`);
  }
  rmSync(plan.upstreamFile);
  const r = await nginxTest(plan.files["nginx-tls.conf"]);
  assert.notEqual(r.code, 0, "without the upstream include nginx -t fails: the check is real");
  assert.match(r.stderr, /upstream\.conf/);
});

test("only the run spec and the deploy script depend on the image; the site's teardown depends on names only; every command names its host", () => {
  const a = renderDeploymentPlan(planOptions("/srv/x"));
  const b = renderDeploymentPlan(planOptions("/srv/x", { image: DIGEST("f") }));
  const differing = PLAIN_FILES.filter((f) => a.files[f] !== b.files[f]);
  assert.deepEqual(differing, ["run-spec.sh"]);
  assert.notEqual(a.deploy, b.deploy);
  assert.deepEqual([a.site, a.certificate], [b.site, b.certificate]);
  const moved = renderDeploymentPlan(planOptions("/srv/x", { hostId: "777" }));
  assert.equal(moved.site.delete, a.site.delete, "teardown never changes with the host");
  for (const k of ["deploy", "certificate"] as const) assert.notEqual(moved[k], a[k], `${k} re-runs on a new host`);
  assert.notEqual(moved.site.create, a.site.create, "the site is prepared again on a new host");
  assert.match(moved.deploy, /^readonly HOST_ID=777$/m);
});
