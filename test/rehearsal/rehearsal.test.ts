// End to end: the example stack deployed by the rehearsal to this machine (sshd, dockerd, registry, pebble,
// Debian's nginx and certbot), proven over https://mcp.example.test with a real MCP client. The tests run in order
// on one deployment and tear everything down in after(). Needs root (like CI); takes a few minutes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { statSync, readFileSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, sleep } from "../support/proc.ts";
import { rehearse, destroy, DOMAIN, DROPLET_TYPE, type RehearsalOptions, type RehearsalResult } from "../../rehearsal/rehearsal.ts";
import { StepError } from "../../rehearsal/execute.ts";
import { toolText } from "../../rehearsal/client.ts";
import { ensureHostPrograms } from "../../rehearsal/bootstrap.ts";
import { openPublic, callLoop, serverContainers, singleServer, occurrences, nginxWorkers, type PublicSession } from "../../rehearsal/observe.ts";

const stateDir = mkdtempSync(join(tmpdir(), "rehearsal-e2e-"));
const SENTINEL = `sentinel-${process.pid}-e2e-9c1f`;
const base: RehearsalOptions = { stateDir, secrets: { secretEnv: JSON.stringify({ REHEARSAL_SENTINEL: SENTINEL }) } };
const started = Date.now();
let fresh: RehearsalResult;
let session: PublicSession;

before(async () => {
  await ensureHostPrograms();
  fresh = await rehearse(base);
  session = await openPublic(fresh);
});

const nginxConfBefore = readFileSync("/etc/nginx/nginx.conf", "utf8");
const connlimitBefore = (await run("iptables", ["-w", "-S"])).stdout.includes("SMCP-CONNLIMIT");
after(async () => {
  await session?.close().catch(() => undefined);
  await destroy({ stateDir });
  assert.deepEqual(await serverContainers(), [], "destroy removed the server containers");
  assert.ok(!existsSync("/etc/nginx/conf.d/selfhosted-mcp-mcp.conf"), "destroy removed the nginx site");
  // host-ready's host limits were applied to this machine (it plays the droplet) and are undone with it.
  assert.equal(readFileSync("/etc/nginx/nginx.conf", "utf8"), nginxConfBefore, "destroy restored this machine's nginx.conf");
  assert.equal((await run("iptables", ["-w", "-S"])).stdout.includes("SMCP-CONNLIMIT"), connlimitBefore, "destroy removed the connection-cap chain it added");
  console.log(`# rehearsal e2e total: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

// Paced under nginx's per-credential limit (5 r/s by default): this client is the same credential as the loops.
const call = async (name: string, args: Record<string, unknown>) => {
  await sleep(250);
  return session.mcp.client.callTool({ name, arguments: args });
};
const structured = (r: unknown) => (r as { structuredContent: Record<string, unknown> }).structuredContent;

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

test("fresh rehearsal: the stack's healthUrl answers 200 over HTTPS", async () => {
  const health = await session.http.fetch(String(fresh.plan.outputs.healthUrl));
  assert.equal(health.status, 200, `GET ${fresh.plan.outputs.healthUrl}`);
  assert.match(await health.text(), /healthy/);
});

test("fresh rehearsal: /metrics not reachable from outside, http:// redirects, a burst gets 429", async () => {
  const metrics = await session.http.fetch(`https://${DOMAIN}/metrics`);
  assert.notEqual(metrics.status, 200);
  assert.doesNotMatch(await metrics.text(), /process_cpu|# HELP/, "no metrics through nginx");
  const listening = (await run("sh", ["-c", "ss -Htln | awk '{print $4}'"])).stdout.split("\n");
  const metricsPort = listening.filter((a) => a.endsWith(":9090"));
  assert.ok(metricsPort.length > 0 && metricsPort.every((a) => a.startsWith("127.0.0.1:")), `metrics port bound to loopback only: ${metricsPort.join(" ")}`);
  const webPorts = listening.filter((a) => /:(80|443)$/.test(a));
  assert.deepEqual(webPorts.sort(), ["127.0.0.1:443", "127.0.0.1:80"], "nginx serves the rehearsal on loopback only (nginxListenAddresses)");

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

test("secrets: the sentinel is in the host's env file (0600) and in no cloud-config, image, label, nginx file or log", async () => {
  const envFile = "/var/lib/selfhosted-mcp/mcp/env";
  assert.equal(statSync(envFile).mode & 0o777, 0o600);
  assert.match(readFileSync(envFile, "utf8"), new RegExp(`REHEARSAL_SENTINEL=${SENTINEL}`));
  const droplet = fresh.plan.resources.find((r) => r.type === DROPLET_TYPE)!;
  assert.ok(!String(droplet.inputs.userData).includes(SENTINEL), "not in the cloud-config");
  const server = await singleServer();
  assert.equal(await occurrences(`docker save ${server.image}`, SENTINEL), 0, "not in the image (docker save)");
  const inspect = (await run("docker", ["inspect", "--format", "{{json .Config.Labels}}", server.id, server.image])).stdout;
  assert.ok(inspect.includes("io.selfhosted-mcp"), "labels were read");
  assert.ok(!inspect.includes(SENTINEL), "not in docker inspect labels");
  assert.equal(await occurrences("grep -r -a -h . /etc/nginx", SENTINEL), 0, "not in nginx files");
  const logs = await run("docker", ["logs", server.id]);
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

test("redeploy with one changed env value while a client calls a tool: new container serves, zero failures, no nginx reload", async () => {
  const before = await singleServer();
  const workers = await nginxWorkers();
  assert.ok(workers.length > 0, "nginx workers found");
  const loop = callLoop(session);
  const r = await rehearse({ ...base, env: { REHEARSAL_REVISION: "2" } });
  const stats = await loop.stop();
  // A reload would close every idle client connection; requests racing that close fail on the client.
  assert.deepEqual(await nginxWorkers(), workers, "the slot switch re-pointed the socket link: nginx kept its workers and connections");
  assert.ok(r.steps.some((s) => s.name.endsWith("deploy") && s.op !== "same"), "the deploy command re-ran");
  assert.deepEqual(stats.failures, [], `failed calls during the redeploy (of ${stats.calls})`);
  assert.ok(stats.calls >= 10, `the loop kept calling (${stats.calls} calls)`);
  const afterDeploy = await singleServer();
  assert.notEqual(afterDeploy.slot, before.slot, "the other slot serves now");
  assert.ok(afterDeploy.env.includes("REHEARSAL_REVISION=2"), "the new container has the new env value");
  toolText(await call("search_notes", { query: "rehearsal" }));
});

test("redeploy with an image that never becomes healthy fails with its last log lines; the old one keeps serving", async () => {
  const serving = await singleServer();
  const loop = callLoop(session);
  const broken: RehearsalOptions = { ...base, env: { REHEARSAL_REVISION: "2" },
    config: { dockerfile: "test/rehearsal/fixtures/unhealthy/Dockerfile", healthTimeoutSeconds: "10" } };
  const err = await rehearse(broken).then(() => undefined, (e: unknown) => e);
  const stats = await loop.stop();
  assert.ok(err instanceof StepError, `the update failed (${String(err)})`);
  assert.match(err.resource, /deploy-deploy/);
  assert.match(err.output, /rehearsal fixture: this image never becomes healthy/, "the new container's last log lines");
  assert.match(err.output, /keeps serving/);
  assert.deepEqual(stats.failures, [], `failed calls during the failed redeploy (of ${stats.calls})`);
  assert.ok(stats.calls >= 10, `the loop kept calling (${stats.calls} calls)`);
  const still = await singleServer();
  assert.equal(still.id, serving.id, "the old container still serves");
  toolText(await call("search_notes", { query: "rehearsal" }));
});
