// The rehearsal harness's own proof, on a small fixture program (test/rehearsal/fixtures/harness): the recorder sees
// every resource with unwrapped secrets, parents and dependencies; the executor runs them in dependency order,
// re-runs nothing when nothing changed, replaces on a trigger change (new create now, old delete at the end),
// deletes what left the program and, on destroy, runs every delete script dependents first. The Debian package
// list is one file that .ci/bootstrap and the rehearsal read alike.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordPlan, REPO_ROOT, type PlanRequest } from "../../rehearsal/plan.ts";
import { executePlan, destroyAll, executionOrder, priorState, readExecState, type Step } from "../../rehearsal/execute.ts";
const readState = () => Object.fromEntries(Object.values(readExecState(dir)).map((s) => [s.name, s]));
import { runOk } from "../support/proc.ts";
import { readDebianPackages, requiredPrograms } from "../../rehearsal/bootstrap.ts";

const dir = mkdtempSync(join(tmpdir(), "harness-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const out = join(dir, "out.log");
const SENTINEL = "sentinel-harness-7f3a9c";

const request = (config: Record<string, string>, preview = false): PlanRequest => ({
  config: { out, token: { value: SENTINEL, secret: true }, ...config },
  projectDir: join(REPO_ROOT, "test/rehearsal/fixtures/harness"),
  mockCloud: { ipv4: "127.0.0.1" }, preview, prior: priorState(dir),
});
const lines = () => readFileSync(out, "utf8").trim().split("\n");
const ops = (steps: Step[]) => steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);
const planFile = join(dir, "plan.json");
/** One `pulumi up` of the fixture: record against the current state, execute. */
const up = async (config: Record<string, string>) => executePlan(await recordPlan(request(config), planFile), { stateDir: dir });
const previewOf = async (config: Record<string, string>) => {
  const p = await recordPlan(request(config, true), join(dir, "preview.json"));
  return { p, step: (name: string) => p.resources.find((r) => r.name === name)!.step };
};
const V1 = { version: "1" };
/** Starts a test from its own state: everything destroyed, the log emptied, then one up with `config`. */
const freshUp = async (config: Record<string, string>) => {
  await destroyAll({ stateDir: dir });
  rmSync(out, { force: true });
  return up(config);
};

test("the recorder captures registrations as the engine receives them", async () => {
  const plan = await recordPlan(request({ ...V1, withCopy: "true" }), planFile);
  assert.equal(statSync(planFile).mode & 0o777, 0o600);
  const byName = Object.fromEntries(plan.resources.map((r) => [r.name, r]));
  assert.deepEqual(Object.keys(byName).sort(), ["b", "c", "copy", "harness-fixture-rehearsal", "pair", "pair-a", "r", "u", "w", "wc", "wc-child"]);
  const a = byName["pair-a"]!;
  assert.equal(a.type, "command:local:Command");
  assert.equal(a.parent, byName.pair!.urn);
  assert.equal((a.inputs.environment as Record<string, string>).TOKEN, SENTINEL);
  assert.deepEqual(a.secretPaths, ["environment.TOKEN"]);
  assert.deepEqual(byName.b!.dependsOn, [a.urn], "dependsOn a component = its children");
  assert.deepEqual(byName.b!.inputs.triggers, ["1"]);
  assert.deepEqual(byName.b!.replaceOnChanges, ["triggers[*]"], "added by @pulumi/command's constructor");
  assert.equal(byName.b!.deleteBeforeReplace, undefined, "not set: the provider decides");
  assert.ok(byName.c!.dependsOn.includes(byName.b!.urn), "explicit dependsOn");
  assert.ok(byName.c!.dependsOn.includes(a.urn), "data dependency (c's create reads a's environment)");
  assert.deepEqual(byName.u!.ignoreChanges, ["environment.IGNORED"]);
  assert.equal(byName.r!.retainOnDelete, true);
  assert.equal(byName.w!.deletedWith, byName.c!.urn);
  assert.equal(byName["wc-child"]!.deletedWith, byName.c!.urn, "inherited from its component, as the engine does");
  assert.deepEqual(byName.copy!.additionalSecretOutputs, ["connection"], "added by the SDK");
  assert.equal((byName.copy!.inputs.source as { asset: string }).asset, "string", "an up knows the source");
  assert.deepEqual(plan.checkFailures, []);
  assert.deepEqual(executionOrder(plan).map((r) => r.name).filter((n) => ["pair-a", "b", "c"].includes(n)), ["pair-a", "b", "c"]);
});

test("preview: unknown outputs of resources not yet created; CopyToRemote 1.2.1 Check rejects an unknown source", async () => {
  const first = await previewOf({ ...V1, withCopy: "true" });
  assert.deepEqual(first.p.checkFailures.map((f) => [f.urn.split("::").pop(), f.property, f.reason]),
    [["copy", "asset", "either asset or archive must be set"]]);
  await up(V1);
  const again = await previewOf({ ...V1, withCopy: "true" });
  assert.equal(again.step("b").op, "same");
  assert.deepEqual(again.p.checkFailures, [], "b exists: its stdout is known at preview");
  const replacing = await previewOf({ version: "2", withCopy: "true" });
  assert.equal(replacing.step("b").op, "replace");
  assert.equal(replacing.p.checkFailures.length, 1, "b is being replaced: its stdout is unknown again");
  await assert.rejects(executePlan(replacing.p, { stateDir: dir }), /up failed: .*copy: asset: either asset or archive must be set/s);
  await destroyAll({ stateDir: dir });
});

test("execute: create in order, unchanged up runs nothing, triggers replace (new create, then the old delete with its stdout)", async () => {
  rmSync(out, { force: true });
  const created = ops(await up(V1));
  assert.deepEqual([...created].sort(), ["create b", "create c", "create pair-a", "create r", "create u", "create w", "create wc-child"]);
  assert.ok(created.indexOf("create pair-a") < created.indexOf("create b") && created.indexOf("create b") < created.indexOf("create c"), created.join());
  assert.deepEqual(lines().filter((l) => /^create [abc] /.test(l)), [`create a token=${SENTINEL}`, "create b v=1", `create c out=${out}`]);
  assert.deepEqual(ops(await up(V1)), [], "unchanged program runs nothing");
  const n = lines().length;
  assert.deepEqual(ops(await up({ version: "2" })), ["replace b", "delete b"]);
  assert.deepEqual(lines().slice(n), ["create b v=2", "delete b prev=b-out"], "new b created first, the old b's delete at the end with its stdout");
});

test("deleteBeforeReplace: the old resource's delete runs before the new create", async () => {
  await freshUp(V1);
  const n = lines().length;
  assert.deepEqual(ops(await up({ version: "3", dbr: "true" })), ["replace b"]);
  assert.deepEqual(lines().slice(n), ["delete b prev=b-out", "create b v=3"]);
});

test("Command update runs `update` with the previous stdout; ignoreChanges hides a change", async () => {
  const base = { version: "3", dbr: "true" };
  await freshUp(base);
  let n = lines().length;
  assert.deepEqual(ops(await up({ ...base, uValue: "2" })), ["update u"]);
  assert.deepEqual(lines().slice(n), ["update u v=2 prev=u0"]);
  n = lines().length;
  assert.deepEqual(ops(await up({ ...base, uValue: "2", ignored: "changed" })), [], "environment.IGNORED is ignored");
  assert.equal(lines().length, n);
});

test("deletes: retainOnDelete and deletedWith skip the provider's delete; removed resources go dependents first", async () => {
  const base = { version: "3", dbr: "true", uValue: "2" };
  await freshUp(base);
  let n = lines().length;
  const steps = await up({ ...base, withR: "false" });
  assert.deepEqual(steps.filter((s) => s.op === "delete").map((s) => [s.name, s.detail]), [["r", "retainOnDelete"]]);
  assert.equal(lines().length, n, "r's delete script did not run");
  n = lines().length;
  const noC = await up({ ...base, withR: "false", withC: "false" });
  assert.deepEqual(noC.filter((s) => s.op === "delete" && s.name !== "wc").map((s) => s.name), ["wc-child", "w", "c"], "wc's child and w (deletedWith c, the child by inheritance) before c");
  for (const name of ["w", "wc-child"]) assert.match(String(noC.find((s) => s.name === name)!.detail), /^deletedWith .*::c$/, name);
  assert.deepEqual(lines().slice(n), ["delete c"], "neither w's nor wc-child's delete ran: c's deletion takes them along");
  const destroyed = ops(await destroyAll({ stateDir: dir }));
  assert.deepEqual([...destroyed].sort(), ["delete b", "delete pair-a", "delete u"]);
  assert.ok(destroyed.indexOf("delete b") < destroyed.indexOf("delete pair-a"), "b depends on pair-a: deleted first");
  assert.deepEqual(lines().slice(n + 1), ["delete b prev=b-out", "delete a prev=a-out"]);
});

test("DigitalOcean Droplet: size updates in place, user_data (ForceNew) replaces it and its dependents get the new ID", async () => {
  const base = { ...V1, userData: "ud1", size: "s-1vcpu-1gb" };
  await freshUp(base);
  const resize = await previewOf({ ...base, size: "s-1vcpu-2gb" });
  assert.deepEqual([resize.step("droplet").op, resize.step("fw").op, resize.step("on-droplet").op], ["update", "same", "same"]);
  const newUd = await previewOf({ ...base, userData: "ud2" });
  assert.deepEqual(newUd.step("droplet"), { op: "replace", replaceKeys: ["userData"], changed: ["userData"], deleteBeforeReplace: false });
  assert.equal(newUd.step("fw").op, "update", "dropletIds unknown in preview → update");
  assert.equal(newUd.step("on-droplet").op, "update", "its create reads the droplet's ID");
  const before = readState()["droplet"]!.id;
  const steps = await up({ ...base, userData: "ud2" });
  assert.deepEqual(ops(steps), ["replace droplet", "update fw", "update on-droplet", "delete droplet"]);
  const after = readState();
  assert.notEqual(after["droplet"]!.id, before);
  assert.deepEqual(after["fw"]!.inputs.dropletIds, [Number(after["droplet"]!.id)]);
  await destroyAll({ stateDir: dir });
});

test("one Debian package list: .ci/bootstrap and the rehearsal read the same packages from .ci/debian-packages", async () => {
  const pkgs = readDebianPackages();
  const bash = await runOk("bash", [join(REPO_ROOT, ".ci/bootstrap"), "--list"]);
  assert.deepEqual(bash.stdout.trim().split("\n"), pkgs.map((p) => p.name));
  const programs = requiredPrograms(pkgs);
  assert.equal(programs["pebble-challtestsrv"], "pebble");
  assert.equal(programs["qemu-system-x86_64"], "qemu-system-x86");
  assert.equal(programs.wrk, undefined, "packages without programs are not the rehearsal's");
  const twice = join(dir, "debian-packages");
  writeFileSync(twice, "# comment\ncurl curl\nwrk\ncurl\n");
  assert.throws(() => readDebianPackages(twice), /package curl is named twice/);
});
