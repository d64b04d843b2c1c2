// The remote scripts: every rendered script passes shellcheck, and the blue/green deploy logic runs for real with
// bash (test/infra/deploy-script.test.ts: the blue/green deploy) against stand-in docker/nginx/curl/certbot
// programs that keep their state in a temp directory (fake-host.ts). The real programs run in the rehearsal (rehearsal/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { renderDeploymentPlan, PLAIN_FILES, renderEnvFile } from "../../infra/render/deployment-plan.ts";
import { renderDockerConfig, credentialsFromDockerConfig } from "../../infra/render/docker-config.ts";
import { renderScript, remoteCommand, remoteScript } from "../../infra/render/remote-script.ts";
import { renderSmokeTimer } from "../../infra/monitoring/smoke-timer.ts";
import { renderHostReady } from "../../infra/render/host-ready.ts";
import { renderMonitoringPlan } from "../../infra/monitoring/monitoring-plan.ts";
import { run } from "../support/proc.ts";
import { nginxTest } from "../support/nginx.ts";
import { DIGEST, fakeHost, inner, planOptions, root, sh } from "./fake-host.ts";

const SCRIPTS_DIR = join(import.meta.dirname, "..", "..", "infra", "render", "scripts");

async function shellcheck(name: string, text: string, shell: "sh" | "bash") {
  const file = join(root, `sc-${name}`);
  writeFileSync(file, text);
  const r = await run("shellcheck", ["--severity=style", "-s", shell, file]);
  assert.equal(r.code, 0, `shellcheck ${name}:\n${r.stdout}${r.stderr}`);
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
    /McpDeployment limits\.keepaliveTimeSeconds: must be left unset: the deployment sets it to 1 s/);
  assert.throws(() => renderDeploymentPlan({ ...planOptions("/x"), drainSeconds: 1 }),
    /McpDeployment drainSeconds: must be at least 2: nginx reuses a cached connection to the old slot for up to 1 s/);
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
