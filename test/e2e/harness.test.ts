// The rehearsal harness's own proof, on a small fixture program (test/e2e/fixtures/harness): the recorder sees
// every resource with unwrapped secrets, parents and dependencies; the executor runs them in dependency order,
// re-runs nothing when nothing changed, replaces on a trigger change (new create now, old delete at the end),
// deletes what left the program and, on destroy, runs every delete script dependents first. The local droplet's
// boot accounts for every part of the rendered user-data and refuses to boot with a part nobody classified; the
// Debian package list is one file that .ci/bootstrap and the rehearsal read alike.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordPlan, REPO_ROOT, type PlanRequest } from "./plan.ts";
import { executePlan, destroyAll, executionOrder, type Step } from "./execute.ts";
import { parse as parseYaml, stringify } from "yaml";
import { renderCloudInit } from "../../infra/render/cloud-init.ts";
import { runOk } from "../support/proc.ts";
import { classifyUserData } from "./user-data.ts";
import { bootDroplet } from "./droplet.ts";
import { readDebianPackages, requiredPrograms } from "./bootstrap.ts";

const dir = mkdtempSync(join(tmpdir(), "harness-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const out = join(dir, "out.log");
const SENTINEL = "sentinel-harness-7f3a9c";

const request = (config: Record<string, string>): PlanRequest => ({
  config: { "harness-fixture:out": out, "harness-fixture:token": SENTINEL, ...prefixed(config) },
  secretKeys: ["harness-fixture:token"],
  projectDir: join(REPO_ROOT, "test/e2e/fixtures/harness"),
  mockCloud: { ipv4: "127.0.0.1" },
});
const prefixed = (c: Record<string, string>) => Object.fromEntries(Object.entries(c).map(([k, v]) => [`harness-fixture:${k}`, v]));
const lines = () => readFileSync(out, "utf8").trim().split("\n");
const ops = (steps: Step[]) => steps.map((s) => `${s.op} ${s.name}`);
const exec = (plan: Awaited<ReturnType<typeof recordPlan>>) => executePlan(plan, { stateDir: dir });

test("the recorder captures inputs, unwrapped secrets, parents and dependencies", async () => {
  const plan = await recordPlan(request({ version: "1" }), join(dir, "plan.json"));
  assert.equal(statSync(join(dir, "plan.json")).mode & 0o777, 0o600);
  const byName = Object.fromEntries(plan.resources.map((r) => [r.name, r]));
  assert.deepEqual(Object.keys(byName).sort(), ["b", "c", "harness-fixture-rehearsal", "pair", "pair-a"]);
  const a = byName["pair-a"]!;
  assert.equal(a.type, "command:local:Command");
  assert.equal(a.parent, byName.pair!.urn);
  assert.equal((a.inputs.environment as Record<string, string>).TOKEN, SENTINEL);
  assert.ok(a.secretPaths.includes("environment"), `secret paths: ${a.secretPaths.join(", ")}`);
  assert.deepEqual(byName.b!.dependsOn, [a.urn], "dependsOn a component = its children");
  assert.deepEqual(byName.b!.inputs.triggers, ["1"]);
  assert.ok(byName.c!.dependsOn.includes(byName.b!.urn), "explicit dependsOn");
  assert.ok(byName.c!.dependsOn.includes(a.urn), "data dependency (c's create reads a's stdout)");
  assert.deepEqual(executionOrder(plan).map((r) => r.name), ["pair-a", "b", "c"]);
});

test("execute: dependency order, no-op rerun, replace on trigger change, delete of removed, destroy", async () => {
  const v1 = await recordPlan(request({ version: "1" }), join(dir, "plan.json"));
  assert.deepEqual(ops(await exec(v1)), ["create pair-a", "create b", "create c"]);
  assert.deepEqual(lines(), [`create a token=${SENTINEL}`, "create b v=1", "create c after="]);

  assert.deepEqual(ops(await exec(v1)).filter((o) => !o.startsWith("same")), [], "unchanged plan runs nothing");

  const v2 = await recordPlan(request({ version: "2" }), join(dir, "plan.json"));
  assert.deepEqual(ops(await exec(v2)), ["same pair-a", "replace b", "same c", "delete b"]);
  assert.deepEqual(lines().slice(3), ["create b v=2", "delete b"], "new b created first, old b's delete at the end");

  const noC = await recordPlan(request({ version: "2", withC: "false" }), join(dir, "plan.json"));
  assert.deepEqual(ops(await exec(noC)), ["same pair-a", "same b", "delete c"]);

  assert.deepEqual(ops(await destroyAll({ stateDir: dir })), ["delete b", "delete pair-a"]);
  assert.deepEqual(lines().slice(5), ["delete c", "delete b", "delete a prev=a-out"], "delete sees the previous stdout");
});

// The user-data the droplet component renders (no swap: the host-ready command sizes it).
const USER_DATA = renderCloudInit({ user: "deploy", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHarness harness"], sshPort: 2222 });
const SSHD_DROP_IN = "/etc/ssh/sshd_config.d/60-selfhosted-mcp.conf";
type CloudConfig = Record<string, unknown> & { write_files: Record<string, unknown>[]; users: Record<string, unknown>[]; runcmd: unknown[]; packages: string[] };
const edited = (edit: (cc: CloudConfig) => void): string => {
  const cc = parseYaml(USER_DATA) as CloudConfig;
  edit(cc);
  return "#cloud-config\n" + stringify(cc, { lineWidth: 0 });
};

test("boot: every key and entry of the rendered user-data is applied locally or listed as not applied, with a reason", () => {
  const steps = classifyUserData(USER_DATA);
  const cc = parseYaml(USER_DATA) as Record<string, unknown>;
  const parts = Object.values(cc).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : 1), 0);
  assert.equal(steps.length, parts, "one step per top-level key or list entry");
  for (const key of Object.keys(cc)) assert.ok(steps.some((s) => s.what === key || s.what.startsWith(`${key} `)), `${key} is accounted for`);
  const notApplied = Object.fromEntries(steps.flatMap((s) => ("notApplied" in s ? [[s.what, s.notApplied]] : [])));
  for (const [what, reason] of Object.entries(notApplied)) assert.ok(reason.length > 20, `${what} has a reason`);
  assert.ok(notApplied["write_files /etc/docker/daemon.json"], "this machine's docker daemon config is left alone");
  const applied = steps.flatMap((s) => ("action" in s ? [`${s.what} -> ${s.action}`] : []));
  assert.ok(applied.includes(`write_files ${SSHD_DROP_IN} -> sshd-drop-in`), applied.join("\n"));
  assert.ok(applied.includes("users deploy -> user"));
});

test("boot: a part of the user-data nobody classified fails the boot, named, before anything changes", async () => {
  const stateDir = mkdtempSync(join(dir, "boot-"));
  const keys = { sshPort: 2222, userKeyPath: join(stateDir, "none"), publicKey: "", hostKeyPath: join(stateDir, "none") };
  const cases: [string, string][] = [
    ["top-level key bootcmd", edited((cc) => { cc.bootcmd = [["echo", "hi"]]; })],
    ["write_files /etc/motd", edited((cc) => { cc.write_files.push({ path: "/etc/motd", content: "hi\n" }); })],
    [`write_files ${SSHD_DROP_IN}: field encoding`, edited((cc) => { cc.write_files.find((f) => f.path === SSHD_DROP_IN)!.encoding = "b64"; })],
    ['runcmd ["touch","/var/lib/x"]', edited((cc) => { cc.runcmd.push(["touch", "/var/lib/x"]); })],
    ['runcmd ["systemctl","restart","nginx"]', edited((cc) => { cc.runcmd[2] = ["systemctl", "restart", "nginx"]; })],
    ["packages htop", edited((cc) => { cc.packages.push("htop"); })],
    ["users deploy: field passwd", edited((cc) => { cc.users[0]!.passwd = "x"; })],
  ];
  for (const [part, userData] of cases) {
    await assert.rejects(bootDroplet(stateDir, keys, userData), (e: Error) => {
      assert.ok(e.message.includes(`does not account for:\n  ${part}\nclassify each`), `${part}: ${e.message}`);
      return true;
    });
  }
  assert.ok(!existsSync(join(stateDir, "droplet.json")), "no boot record: nothing was applied");
});

test("one Debian package list: .ci/bootstrap and the rehearsal read the same packages from .ci/debian-packages", async () => {
  const pkgs = readDebianPackages();
  const bash = await runOk("bash", [join(REPO_ROOT, ".ci/bootstrap"), "--list"]);
  assert.deepEqual(bash.stdout.trim().split("\n"), pkgs.map((p) => p.name));
  const programs = requiredPrograms(pkgs);
  assert.equal(programs["pebble-challtestsrv"], "pebble");
  assert.equal(programs["/usr/sbin/sshd"], "openssh-server");
  assert.equal(programs.wrk, undefined, "packages without programs are not the rehearsal's");
  const twice = join(dir, "debian-packages");
  writeFileSync(twice, "# comment\ncurl curl\nwrk\ncurl\n");
  assert.throws(() => readDebianPackages(twice), /package curl is named twice/);
});
