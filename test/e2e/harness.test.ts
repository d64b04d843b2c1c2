// The rehearsal harness's own proof, on a small fixture program (test/e2e/fixtures/harness): the recorder sees
// every resource with unwrapped secrets, parents and dependencies; the executor runs them in dependency order,
// re-runs nothing when nothing changed, replaces on a trigger change (new create now, old delete at the end),
// deletes what left the program and, on destroy, runs every delete script dependents first. The Debian package
// list is one file that .ci/bootstrap and the rehearsal read alike.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordPlan, REPO_ROOT, type PlanRequest } from "./plan.ts";
import { executePlan, destroyAll, executionOrder, type Step } from "./execute.ts";
import { runOk } from "../support/proc.ts";
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
