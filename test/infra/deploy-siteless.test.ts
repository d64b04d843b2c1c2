// A server behind the gateway (McpDeployment `site: false`, issue 17) deployed by the real deploy script against the
// stand-in host: it installs only its upstream include (no site file, no certificate files), switches its own slots,
// and records the images it keeps so another deployment sharing the repository does not prune them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { renderDeploymentPlan } from "../../infra/render/deployment-plan.ts";
import { DIGEST, deploy, fakeHost, planOptions, sh } from "./fake-host.ts";

test("site: false — upstream include only, both slots in turn, kept images recorded", async () => {
  const host = fakeHost();
  const opts = { ...planOptions(host.dir), app: "weather", stateDir: `${host.dir}/lib/selfhosted-mcp/weather`, site: false } as const;
  const plan = renderDeploymentPlan(opts);
  assert.equal(plan.certificate, undefined);
  assert.deepEqual(plan.staged, ["run-spec.sh", "upstream.conf", "env", "docker-config.json"]);
  assert.equal((await sh(plan.site.create, host.env)).code, 0);
  const first = await deploy(host, opts, { A: "1" });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /no site of its own/);
  assert.ok(!existsSync(`${host.dir}/nginx/conf.d/site.conf`), "no site file");
  assert.ok(!existsSync(`${host.dir}/hook`), "no certbot deploy hook");
  assert.match(readFileSync(plan.upstreamFile, "utf8"), /weather\.sockets\/live\.sock/);
  const second = await deploy(host, { ...opts, image: DIGEST("b") }, { A: "1" });
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /nginx configuration unchanged: no reload/);
  assert.match(second.stdout, /stopped the blue slot weather-blue/);
  assert.deepEqual(readFileSync(`${plan.stateDir}/kept-images`, "utf8").trim().split("\n"), ["image-of-b", "image-of-a"]);
});
