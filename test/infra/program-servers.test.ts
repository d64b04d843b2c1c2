// The example stack with `servers` (issue 17), configured as the README shows (`pulumi config set --path
// 'servers[0].name' …`, per-server secrets in serverSecretEnv): the program registers each server's image and
// deployment and the gateway's, and a server's secret reaches only its own env file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { installMocks, bundleFiles } from "./mock-harness.ts";
import { REQUIRED_STACK_CONFIG, asTheCliDelivers, runProgram } from "./fixtures.ts";

const rec = await installMocks();
const P = "selfhosted-mcp";
const SECRET = "w".repeat(24);
await runProgram(asTheCliDelivers({
  ...REQUIRED_STACK_CONFIG, [`${P}:apiKeys`]: "0123456789abcdef0123456789abcdef",
  [`${P}:servers`]: JSON.stringify([{ name: "weather", env: { LOG_LEVEL: "debug" } }, { name: "notes", memoryMb: 384 },
    { name: "search", image: `ghcr.io/acme/search@sha256:${"c".repeat(64)}` }]),
  [`${P}:serverSecretEnv`]: JSON.stringify({ weather: { WEATHER_API_KEY: SECRET } }),
}), ["digitalocean:token", `${P}:apiKeys`, `${P}:serverSecretEnv`]);
await rec.settle();

const env = (name: string) => bundleFiles((rec.named(name).inputs as { stdin: { value: string } }).stdin.value).env!;

test("each server and the gateway get a deployment; one host, one certificate", () => {
  const deploys = rec.ofType("selfhosted-mcp:index:McpDeployment").map((r) => r.name).sort();
  assert.deepEqual(deploys, ["mcp-deploy", "mcp-notes-deploy", "mcp-search-deploy", "mcp-weather-deploy"]);
  assert.equal(rec.ofType("digitalocean:index/droplet:Droplet").length, 1);
  assert.deepEqual(rec.ofType("command:remote:Command").filter((c) => c.name.endsWith("-certificate")).map((c) => c.name), ["mcp-deploy-certificate"]);
});

test("per-server env and secrets reach only that server; the gateway lists all three", () => {
  assert.match(env("mcp-weather-deploy-deploy"), new RegExp(`^WEATHER_API_KEY=${SECRET}$`, "m"));
  assert.match(env("mcp-weather-deploy-deploy"), /^LOG_LEVEL=debug$/m);
  for (const other of ["mcp-notes-deploy-deploy", "mcp-search-deploy-deploy", "mcp-deploy-deploy"]) assert.ok(!env(other).includes(SECRET), other);
  assert.match(env("mcp-deploy-deploy"), /^UPSTREAMS=weather,notes,search$/m);
  assert.match(bundleFiles((rec.named("mcp-notes-deploy-deploy").inputs as { stdin: { value: string } }).stdin.value)["run-spec.sh"]!, /--memory 384m/);
});
