// The example stack with `servers` (issue 17), configured as the README shows (`pulumi config set --path
// 'servers[0].name' …`, per-server secrets in serverSecretEnv): the program registers each server's image and
// deployment and the gateway's, and a server's secret reaches only its own env file. The stack-wide baseImage,
// platform, healthTimeoutSeconds and healthCheckIntervalSeconds apply to the gateway and to every server.
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
  [`${P}:baseImage`]: "mirror.example.test/node:24-bookworm-slim", [`${P}:platform`]: "linux/arm64",
  [`${P}:healthTimeoutSeconds`]: "300", [`${P}:healthCheckIntervalSeconds`]: "600",
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

test("baseImage and platform build the gateway like the servers; healthTimeoutSeconds and healthCheckIntervalSeconds reach every deploy", () => {
  const images = rec.ofType("docker:index/image:Image").map((r) => ({ name: r.name, build: (r.inputs as { build: { args: Record<string, string>; platform: string; dockerfile: string } }).build }));
  assert.deepEqual(images.map((i) => i.name).sort(), ["mcp-image-image", "mcp-notes-image-image", "mcp-weather-image-image"]);
  for (const { name, build } of images) {
    assert.equal(build.args.BASE_IMAGE, "mirror.example.test/node:24-bookworm-slim", name);
    assert.equal(build.platform, "linux/arm64", name);
  }
  assert.match(images.find((i) => i.name === "mcp-image-image")!.build.dockerfile, /gateway\/Dockerfile$/);
  for (const d of ["mcp-deploy-deploy", "mcp-weather-deploy-deploy", "mcp-notes-deploy-deploy", "mcp-search-deploy-deploy"]) {
    const create = String((rec.named(d).inputs as { create: string }).create);
    assert.match(create, /HEALTH_TIMEOUT_SECONDS='?300'?/, d);
    const runSpec = bundleFiles((rec.named(d).inputs as { stdin: { value: string } }).stdin.value)["run-spec.sh"]!;
    assert.equal(runSpec.match(/--health-interval 600s/g)?.length, 2, `${d}: both slots probe every 600 s`);
  }
});
