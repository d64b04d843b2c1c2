// End to end: the example stack deployed by the rehearsal to a droplet VM (qemu TCG, real cloud-init with the
// recorded user-data; registry, pebble and the upstream stand-in on the host), proven over https://mcp.example.test
// with a real MCP client. A second, "user" instance is started the way `npm run rehearse` does (its own state dir),
// with three servers behind the gateway (`--config servers=…`), at the same time as the tests' own: it answers with
// its own token; while the tests' own instance runs its redeploys (env + secret + image at once, then a failing
// image), the user's shows its gateway and routes, one upstream failing alone, and one server redeployed; its --destroy leaves nothing of it behind (issues 11, 17). The tests' own instance ends with a destroy while its droplet does not answer. The tests run in order on
// one deployment. Needs root (like CI); takes ~25 min of TCG on a 2-core machine.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, sleep } from "../support/proc.ts";
import { startAgent } from "../../rehearsal/vm/agent.ts";
import { rehearse, destroy, DOMAIN, DROPLET_TYPE, type RehearsalOptions, type RehearsalResult } from "../../rehearsal/rehearsal.ts";
import { StepError } from "../../rehearsal/execute.ts";
import { toolText } from "../../rehearsal/client.ts";
import { ensureHostPrograms } from "../../rehearsal/bootstrap.ts";
import { openPublic, callLoop, singleServer, occurrences, nginxWorkers, type PublicSession } from "../../rehearsal/observe.ts";
import { footprint, leftovers, type Footprint } from "../../rehearsal/footprint.ts";
import { userInstance, type UserInstance } from "../../rehearsal/user-instance.ts";
import { userChanges, structured, revision2, destroyUnreachable, REVISION_LABEL, type UserChanges } from "../support/rehearsal-scenarios.ts";
import { serversConfig, assertThreeServers, assertOneServerRedeployed } from "../support/rehearsal-servers.ts";
import { assertDropletAsBooted } from "../support/rehearsal-droplet.ts";

const stateDir = mkdtempSync(join(tmpdir(), "rehearsal-e2e-"));
const SENTINEL = `sentinel-${process.pid}-e2e-9c1f`;
const base: RehearsalOptions = { stateDir, secrets: { secretEnv: JSON.stringify({ REHEARSAL_SENTINEL: SENTINEL }) } };
const started = Date.now();
let fresh: RehearsalResult;
let session: PublicSession;
let user: UserInstance | undefined;
let userFootprint: Footprint | undefined;
let userChanged: Promise<UserChanges> | undefined;
let ownDestroyed = false;

before(async () => {
  await ensureHostPrograms();
  // Both instances deploy at once: the user's through the CLI in its own process, the tests' in this one.
  // `user` is set before anything is awaited, so that after() tears the user's instance down even when before()
  // fails or times out (its CLI process and VM would otherwise outlive the test).
  user = userInstance(mkdtempSync(join(tmpdir(), "rehearsal-user-")), [`servers=${serversConfig()}`]);
  const [own, theirs] = await Promise.allSettled([rehearse(base), user.deployed]);
  if (own.status === "rejected") throw own.reason;
  if (theirs.status === "rejected") throw theirs.reason;
  fresh = own.value;
  session = await openPublic(fresh);
}, { timeout: 1_800_000 }); // two first boots + image pulls under TCG: ~10 min on a quiet 2-core machine, bounded at 30

after(async () => {
  await session?.close().catch(() => undefined);
  const own = ownDestroyed ? undefined : footprint(stateDir);
  if (own) await destroy({ stateDir });
  if (user && !userFootprint) { userFootprint = footprint(user.stateDir); await user.destroy().catch(() => undefined); }
  rmSync(stateDir, { recursive: true, force: true });
  if (own) assert.deepEqual(await leftovers(own), [], "the tests' instance left nothing behind");
  if (userFootprint) assert.deepEqual(await leftovers(userFootprint), [], "the user's instance left nothing behind");
  console.log(`# rehearsal e2e total: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

// Paced under nginx's per-credential limit (5 r/s by default): this client is the same credential as the loops.
const call = async (name: string, args: Record<string, unknown>) => {
  await sleep(250);
  return session.mcp.client.callTool({ name, arguments: args });
};

test("fresh rehearsal: MCP over HTTPS — initialize, list, every tool, idempotent replay", async (t) => {
  t.diagnostic(`fresh rehearsal phases (ms): ${JSON.stringify(fresh.timings)}`);
  assert.equal(fresh.url, `https://${DOMAIN}`);
  assert.ok(session.mcp.client.getServerVersion()?.name, "initialize returned server info");
  const tools = (await session.mcp.client.listTools()).tools.map((x) => x.name).sort();
  assert.deepEqual(tools, ["get_forecast", "get_note", "save_note", "search_notes"]);

  const args = { request_id: `rehearsal-${process.pid}-note1`, title: "rehearsal", body: "deployed by the rehearsal", tags: ["e2e"] };
  const first = structured(await call("save_note", args));
  const replay = structured(await call("save_note", args));
  assert.equal(first.replayed, false);
  assert.equal(replay.replayed, true, "the same request_id replays the stored note");
  const id = (first.note as { id: string }).id;
  assert.equal((replay.note as { id: string }).id, id);
  assert.equal((structured(await call("get_note", { id })).note as { title: string }).title, "rehearsal");
  assert.ok((structured(await call("search_notes", { query: "rehearsal" })).count as number) >= 1);
  const forecast = structured(await call("get_forecast", { latitude: 52.52, longitude: 13.41, days: 2 }));
  assert.equal((forecast.days as unknown[]).length, 2, "the weather tool reached the upstream stand-in");
});

test("two instances at once: the user's `npm run rehearse` (own state dir) answers with its own token, not the tests'", async (t) => {
  const u = user!;
  const theirs = u.endpoint();
  const printed = await u.deployed;
  t.diagnostic(printed.split("\n").filter((l) => /^\s+(URL|SSH|Took):/.test(l)).join(" | "));
  assert.notEqual(theirs.token, fresh.token, "each instance has its own API key");
  assert.notDeepEqual(theirs.vm.ports, fresh.vm.ports, "each instance has its own forwarded ports");
  // The printed SSH line gets a shell on the user's droplet.
  const sshLine = /SSH:\s+ssh -p (\d+) -i (\S+) (\S+)@127\.0\.0\.1/.exec(printed);
  assert.ok(sshLine, `npm run rehearse prints how to SSH into the droplet:\n${printed}`);
  const hostname = await run("ssh", ["-p", sshLine[1]!, "-i", sshLine[2]!, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", `${sshLine[3]}@127.0.0.1`, "hostname"]);
  assert.equal(hostname.code, 0, hostname.stderr);
  const s = await openPublic(theirs);
  try {
    toolText(await s.mcp.client.callTool({ name: "alpha__search_notes", arguments: { query: "user", limit: 1 } }));
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
    const foreign = await s.http.fetch(`https://${DOMAIN}/mcp`, { method: "POST", body, headers: {
      "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${fresh.token}` } });
    await foreign.body?.cancel();
    assert.equal(foreign.status, 401, "the tests' token is not valid on the user's instance");
  } finally { await s.close(); }
  // The user's droplet gets its changes while the tests below use their own: the two VMs share the machine's CPU
  // instead of taking turns (the user's test near the end awaits them).
  userChanged = userChanges(u);
  userChanged.catch(() => undefined);
  toolText(await call("search_notes", { query: "rehearsal" }));
});

test("the droplet as cloud-init left it: status done, swap, docker daemon.json, enabled units, hostname", async (t) => {
  await assertDropletAsBooted(fresh, (m) => t.diagnostic(m));
});

test("the rendered sshd hardening is in force: no passwords, no root, and an agent holding 8 keys still logs in", async () => {
  const vm = fresh.vm;
  const opts = ["-p", String(vm.ports.ssh), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=15"];
  const password = await run("ssh", [...opts, "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive", `${vm.user}@127.0.0.1`, "true"]);
  assert.notEqual(password.code, 0);
  assert.match(password.stderr, /Permission denied \(publickey\)/, "the server offers public keys only");
  const root = await run("ssh", [...opts, "-i", vm.keyPath, "-o", "IdentitiesOnly=yes", "root@127.0.0.1", "true"]);
  assert.notEqual(root.code, 0, "root cannot log in, even with the deploy key");
  // An agent whose deploy key comes after 7 others: every key offered and refused counts against MaxAuthTries.
  const agent = await startAgent(join(stateDir, "agent"), 7, vm.keyPath);
  try {
    const r = await run("ssh", [...opts, "-o", "IdentitiesOnly=no", `${vm.user}@127.0.0.1`, "true"], { env: { ...process.env, SSH_AUTH_SOCK: agent.socket } });
    assert.equal(r.code, 0, `login with an agent holding 8 keys (deploy key last): ${r.stderr}`);
  } finally { await agent.stop(); }
});

test("fresh rehearsal: the stack's healthUrl answers 200 over HTTPS", async () => {
  const health = await session.http.fetch(String(fresh.plan.outputs.healthUrl));
  assert.equal(health.status, 200, `GET ${fresh.plan.outputs.healthUrl}`);
  assert.match(await health.text(), /healthy/);
});

test("fresh rehearsal: /metrics not reachable from outside, http:// redirects, a burst gets 429", async () => {
  const metrics = await session.http.fetch(`https://${DOMAIN}/metrics`);
  assert.notEqual(metrics.status, 200);
  assert.doesNotMatch(await metrics.text(), /process_cpu|# HELP/, "no metrics through nginx");
  const listening = (await fresh.vm.sshOk("ss -Htln | awk '{print $4}'")).stdout.split("\n");
  const metricsPort = listening.filter((a) => a.endsWith(":9090"));
  assert.ok(metricsPort.length > 0 && metricsPort.every((a) => a.startsWith("127.0.0.1:")), `metrics port bound to the droplet's loopback only: ${metricsPort.join(" ")}`);
  const webPorts = listening.filter((a) => /:(80|443)$/.test(a));
  assert.ok(["0.0.0.0:80", "0.0.0.0:443"].every((a) => webPorts.includes(a)), `the droplet's nginx serves 80/443 on every address (the production default): ${webPorts.join(" ")}`);

  const redirect = await session.http.fetch(`http://${DOMAIN}/mcp`, { redirect: "manual" });
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get("location"), `https://${DOMAIN}/mcp`);

  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
  const statuses = await Promise.all(Array.from({ length: 60 }, async () => {
    const r = await session.http.fetch(`https://${DOMAIN}/mcp`, { method: "POST", body, headers: {
      "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${fresh.token}` } });
    await r.body?.cancel();
    return { status: r.status, retryAfter: r.headers.get("retry-after") };
  }));
  const limited = statuses.filter((s) => s.status === 429);
  assert.ok(limited.length > 0, `a burst of 60 gets 429s (saw ${[...new Set(statuses.map((s) => s.status))].join(",")})`);
  assert.ok(limited.every((s) => s.retryAfter), "429 carries Retry-After");
});

test("secrets: the sentinel is in the droplet's env file (0600) and in no cloud-config, image, label, nginx file or log", async () => {
  const vm = fresh.vm;
  const envFile = "/var/lib/selfhosted-mcp/mcp/env";
  assert.equal((await vm.sshOk(`sudo -n stat -c %a ${envFile}`)).stdout.trim(), "600");
  assert.equal(await occurrences(vm, `cat ${envFile}`, `REHEARSAL_SENTINEL=${SENTINEL}`), 1, "the env file holds the secret");
  const droplet = fresh.plan.resources.find((r) => r.type === DROPLET_TYPE)!;
  assert.ok(!String(droplet.inputs.userData).includes(SENTINEL), "not in the cloud-config");
  assert.equal(await occurrences(vm, "cat /var/lib/cloud/instance/user-data.txt", SENTINEL), 0, "not in the user-data cloud-init read");
  const server = await singleServer(vm);
  assert.equal(await occurrences("host", `docker save ${server.image}`, SENTINEL), 0, "not in the image (docker save of the pushed digest)");
  const inspect = (await vm.sshOk(`sudo -n docker inspect --format '{{json .Config.Labels}}' ${server.id} ${server.image}`)).stdout;
  assert.ok(inspect.includes("io.selfhosted-mcp"), "labels were read");
  assert.ok(!inspect.includes(SENTINEL), "not in docker inspect labels");
  assert.equal(await occurrences(vm, "grep -r -a -h . /etc/nginx", SENTINEL), 0, "not in nginx files");
  const logs = await vm.ssh(`sudo -n docker logs ${server.id}`);
  assert.ok((logs.stdout + logs.stderr).includes("server listening"), "server logs were read");
  assert.ok(!(logs.stdout + logs.stderr).includes(SENTINEL), "not in the server's logs");
  assert.ok(!(logs.stdout + logs.stderr).includes(fresh.token), "the API key is not in the server's logs");
});

test("a second run redeploys in place: nothing on the host re-runs", async (t) => {
  const again = await rehearse(base);
  const ran = again.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);
  if (again.plan.outputs.imageDigest === fresh.plan.outputs.imageDigest) {
    assert.deepEqual(ran, []);
  } else {
    // Only when server/ changed between the two builds (someone edited it meanwhile): then exactly the new image
    // is rolled out — the image (build + push) and the deploy that pins its digest, both in place, nothing else.
    t.diagnostic(`server/ changed during the test; image ${String(fresh.plan.outputs.imageDigest)} -> ${String(again.plan.outputs.imageDigest)}`);
    assert.deepEqual(ran.sort(), ["update mcp-deploy-deploy", "update mcp-image-image"]);
  }
});

const SENTINEL2 = `${SENTINEL}-rotated`;
const rev2 = revision2(base, stateDir, SENTINEL2);

test("redeploy of an env, a secret and an image change while a client calls a tool: new container serves all three, zero failures, no nginx reload", async () => {
  const before = await singleServer(fresh.vm);
  const workers = await nginxWorkers(fresh.vm);
  assert.ok(workers.length > 0, "nginx workers found");
  const loop = callLoop(session);
  const r = await rehearse(rev2);
  const stats = await loop.stop();
  // A reload would close every idle client connection; requests racing that close fail on the client.
  assert.deepEqual(await nginxWorkers(fresh.vm), workers, "the slot switch re-pointed the socket link: nginx kept its workers and connections");
  const ran = r.steps.filter((s) => s.op !== "same");
  assert.deepEqual(ran.map((s) => s.name).sort(), ["mcp-deploy-deploy", "mcp-image-image"], "the image (build + push) and the deploy, nothing else");
  assert.equal(ran.find((s) => s.name === "mcp-deploy-deploy")?.op, "update", "the deploy is updated in place (a replace would run the old one's delete)");
  assert.deepEqual(stats.failures, [], `failed calls during the redeploy (of ${stats.calls})`);
  assert.ok(stats.calls >= 10, `the loop kept calling (${stats.calls} calls)`);
  const afterDeploy = await singleServer(fresh.vm);
  assert.notEqual(afterDeploy.slot, before.slot, "the other slot serves now");
  assert.notEqual(afterDeploy.image, before.image, "the new image's digest");
  assert.equal(afterDeploy.image, String(r.plan.outputs.imageDigest));
  assert.equal(afterDeploy.labels[REVISION_LABEL], "2", "the container runs the new image");
  assert.ok(afterDeploy.env.includes("REHEARSAL_REVISION=2"), "the new container has the new env value");
  const envFile = "/var/lib/selfhosted-mcp/mcp/env";
  assert.equal(await occurrences(fresh.vm, `cat ${envFile}`, `REHEARSAL_SENTINEL=${SENTINEL2}`), 1, "the env file holds the new secret");
  assert.equal(await occurrences(fresh.vm, `cat ${envFile}`, "REHEARSAL_SENTINEL="), 1, "and only that one (the old value is gone)");
  toolText(await call("search_notes", { query: "rehearsal" }));
});

test("redeploy with an image that never becomes healthy fails with its last log lines; the old one keeps serving", async () => {
  const serving = await singleServer(fresh.vm);
  const loop = callLoop(session);
  const broken: RehearsalOptions = { ...rev2, config: { dockerfile: "test/rehearsal/fixtures/unhealthy/Dockerfile", healthTimeoutSeconds: "10" } };
  const err = await rehearse(broken).then(() => undefined, (e: unknown) => e);
  const stats = await loop.stop();
  assert.ok(err instanceof StepError, `the update failed (${String(err)})`);
  assert.match(err.resource, /deploy-deploy/);
  assert.match(err.output, /rehearsal fixture: this image never becomes healthy/, "the new container's last log lines");
  assert.match(err.output, /keeps serving/);
  assert.deepEqual(stats.failures, [], `failed calls during the failed redeploy (of ${stats.calls})`);
  assert.ok(stats.calls >= 10, `the loop kept calling (${stats.calls} calls)`);
  const still = await singleServer(fresh.vm);
  assert.equal(still.id, serving.id, "the old container still serves");
  toolText(await call("search_notes", { query: "rehearsal" }));
});

// The user's droplet (deployed by `npm run rehearse -- --config servers=…`, started in the two-instances test: three
// reference servers behind the gateway) got its changes meanwhile (test/support/rehearsal-scenarios.ts).

test("the user's three servers behind the gateway: collision-free names, every route, one upstream down degrades only its server, one server redeployed under a loop on another (zero failures, no nginx reload, the others keep running)", { timeout: 1_800_000 }, async (t) => {
  assert.ok(userChanged, "the two-instances test started the user's changes");
  const { servers, redeploy } = await userChanged;
  assertThreeServers(servers, (m) => t.diagnostic(m));
  assertOneServerRedeployed(redeploy, (m) => t.diagnostic(m));
});

test("the user's droplet: its --destroy leaves nothing while the tests' instance keeps serving", { timeout: 1_800_000 }, async () => {
  assert.ok(userChanged, "the two-instances test started the user's changes");
  await userChanged;
  const u = user!;
  userFootprint = footprint(u.stateDir);
  const destroyed = await u.destroy();
  assert.equal(destroyed.code, 0, `npm run rehearse -- --destroy:\n${destroyed.stdout}\n${destroyed.stderr}`);
  assert.deepEqual(await leftovers(userFootprint), [], "nothing of the user's instance is left");
  toolText(await call("search_notes", { query: "rehearsal" }));
});

// `pulumi destroy` deletes the droplet and, with it, everything deletedWith it (every remote command here): no SSH
// to the host is needed, so a droplet that no longer answers (gone, or the admin IP changed) cannot hang the
// destroy. The droplet VM is frozen (SIGSTOP: its forwarded ports accept TCP, nothing answers) before the destroy.
test("destroy while the droplet does not answer: bounded, no remote delete attempted, nothing left behind", async () => {
  await session.close();
  const own = footprint(stateDir);
  const { withDelete, lines, ms } = await destroyUnreachable(stateDir, fresh.vm);
  ownDestroyed = true;
  assert.ok(withDelete.length >= 1, "the state had remote commands with a delete script (the site's teardown at least)");
  // Every remote command with a delete script skipped it (the others have nothing to run on a delete).
  for (const name of withDelete) {
    assert.ok(lines.some((l) => l.startsWith("delete ") && l.includes(` ${name} (no provider Delete: deletedWith `)), `${name}:\n${lines.join("\n")}`);
  }
  assert.ok(ms < 60_000, `destroy took ${ms} ms`);
  assert.equal(existsSync(stateDir), false, "the state directory is gone");
  assert.deepEqual(await leftovers(own), [], "the tests' instance left nothing behind");
});
