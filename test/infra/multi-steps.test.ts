// Several servers (issue 17): what the engine does when one server changes, decided by the rehearsal engine's step
// rules (rehearsal/engine/rules.ts: pulumi's step generator and @pulumi/command's replace rules, with sources). Each
// server's deploy command has inputs of its own and no triggers, so a change to one server's env, secrets or image is
// an in-place update of that server's deploy only: the other servers' commands are "same" and run nothing (their
// containers keep running). Removing a server updates the gateway and deletes the server's commands; the only delete
// that runs is its site teardown, which keeps its data volume (docs/infra.md "Removing a server").
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, resolveAssets } from "./mock-harness.ts";
import { multiStackArgs, SERVERS, type MultiVariant } from "./multi-fixtures.ts";

const rec = await installMocks();
const { SelfHostedMcp } = await import("../../infra/index.ts");
const { decideStep } = await import("../../rehearsal/engine/rules.ts");
const withServer = (name: string, over: object) => SERVERS.map((s) => (s.name === name ? { ...s, ...over } : s));
const VARIANTS: Record<string, MultiVariant> = {
  base: {}, same: {},
  weatherEnv: { servers: withServer("weather", { env: { LOG_LEVEL: "debug" } }) },
  searchSecret: { servers: withServer("search", { secrets: pulumi.secret({ SEARCH_TOKEN: "t".repeat(24) }) }) },
  searchImage: { servers: withServer("search", { image: `ghcr.io/acme/search@sha256:${"d".repeat(64)}` }) },
  gatewayEnv: { gatewayEnv: { LOG_LEVEL: "debug" } },
  removed: { servers: SERVERS.filter((s) => s.name !== "search") },
};
for (const [name, v] of Object.entries(VARIANTS)) new SelfHostedMcp(name, multiStackArgs(v));
await rec.settle();

type Steps = Record<string, string>;
/** The engine's step for every resource of stack `s` against the base stack's state (names without the stack prefix). */
async function steps(s: string): Promise<Steps> {
  const norm = async (name: string, prefix: string) =>
    JSON.parse(JSON.stringify(await resolveAssets(rec.named(name).inputs)).replaceAll(`${prefix}-`, "STACK-")) as Record<string, unknown>;
  const of = (p: string) => rec.resources.filter((r) => r.name.startsWith(`${p}-`));
  const out: Steps = {};
  for (const r of of(s)) {
    const key = r.name.slice(s.length + 1);
    const base = rec.resources.find((b) => b.name === `base-${key}`);
    const registration = { urn: key, type: r.type, name: key, parent: "", custom: true, provider: "", dependsOn: [], inputs: await norm(r.name, s),
      secretPaths: [], replaceOnChanges: r.options.replaceOnChanges, ignoreChanges: r.options.ignoreChanges, deletedWith: "", additionalSecretOutputs: [], order: 0 };
    const prior = base && { urn: key, type: base.type, name: key, custom: true, id: "x", inputs: await norm(base.name, "base"), outputs: {}, dependsOn: [], parent: "", deletedWith: "", order: 0 };
    out[key] = decideStep(prior, registration).op;
  }
  for (const b of of("base")) if (!(b.name.slice(5) in out)) out[b.name.slice(5)] = "delete";
  return out;
}
/** Resources the engine would run (custom resources whose step is not "same"), as `<name>:<step>`. */
const ran = (s: string, st: Steps) => Object.entries(st)
  .filter(([k, op]) => op !== "same" && !rec.resources.find((r) => r.name === `${op === "delete" ? "base" : s}-${k}`)!.type.startsWith("selfhosted-mcp:"))
  .map(([k, op]) => `${k}:${op}`).sort();

test("an unchanged stack runs nothing", async () => {
  assert.deepEqual(ran("same", await steps("same")), []);
});

for (const [variant, expected] of Object.entries({
  weatherEnv: ["weather-deploy-deploy:update"],
  searchSecret: ["search-deploy-deploy:update"],
  searchImage: ["search-deploy-deploy:update"],
  gatewayEnv: ["deploy-deploy:update"],
})) {
  test(`${variant}: only ${expected.join(", ")}; every other server's and the gateway's commands are "same"`, async () => {
    assert.deepEqual(ran(variant, await steps(variant)), expected.sort());
  });
}

test("removing a server: the gateway's deploy updates (env, site, mounts), the server's resources are deleted, the others stay", async () => {
  const st = await steps("removed");
  assert.deepEqual(ran("removed", st), ["deploy-deploy:update", "search-deploy-deploy:delete", "search-deploy-site:delete"]);
  // The one delete that runs a script is the site's teardown: containers, route include, sockets and state go; the volume stays.
  const base = rec.named("base-search-deploy-site").inputs as { delete: string };
  assert.match(base.delete, /# selfhosted-mcp remote script: teardown\./);
  assert.match(base.delete, /^readonly VOLUME=search-data$/m);
  assert.doesNotMatch(base.delete, /docker volume rm/);
  assert.match(base.delete, /kept docker volume \$\{VOLUME\}/);
  assert.equal((rec.named("base-search-deploy-deploy").inputs as { delete?: string }).delete, undefined, "the deploy command deletes nothing");
});
