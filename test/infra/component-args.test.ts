// Every rule of McpImage's and McpDeployment's argument schemas (infra/components/image-args.ts, deployment-args.ts)
// and McpHost's droplet fit: a bad argument fails at construction — before anything registers, so already at
// `pulumi preview` — with InvalidArgsError naming the component and the argument's path. One case per rule; a good
// variant of each case constructs, so each rule is what refuses it.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks } from "./mock-harness.ts";
import { SSH_PUBLIC_KEY as KEY } from "./fixtures.ts";
import { InvalidArgsError } from "../../contract/args-error.ts";

const rec = await installMocks();
const { McpImage, McpDeployment, McpHost } = await import("../../infra/index.ts");
type ImageArgs = ConstructorParameters<typeof McpImage>[1];
type DeploymentArgs = ConstructorParameters<typeof McpDeployment>[1];

const DIGEST = `ghcr.io/acme/mcp@sha256:${"a".repeat(64)}`;
const IMAGE: ImageArgs = { docr: { name: "acme-mcp" } };
const DEPLOYMENT: DeploymentArgs = {
  connection: { host: "203.0.113.10" }, image: DIGEST, pullConfig: "{}", app: "weather", domain: "mcp.example.com",
  port: 8100, metricsPort: 9100, acmeEmail: "ops@example.com",
};

/** Asserts the construction throws InvalidArgsError with an issue at `path` whose message matches. */
function refuses(make: () => unknown, component: string, path: string, message: RegExp): void {
  assert.throws(make, (e: unknown) => {
    assert.ok(e instanceof InvalidArgsError, String(e));
    assert.equal(e.component, component);
    const issue = e.issues.find((i) => i.path === path);
    assert.ok(issue, `an issue at ${path}: ${e.message}`);
    assert.match(issue.message, message);
    assert.match(e.message, new RegExp(`^${component} ${path.replace(/[.[\]]/g, "\\$&")}: `, "m"));
    return true;
  });
}

const imageCases: [string, ImageArgs, string, RegExp][] = [
  ["a prebuilt image pinned by digest", { image: "ghcr.io/acme/mcp:latest" }, "image", /pinned by digest/],
  ["a build needs a registry", {}, "registry", /a build needs a registry to push to/],
  ["docr.name: DigitalOcean's name rule", { docr: { name: "Acme_MCP" } }, "docr.name", /1-63 lowercase letters, digits or dashes/],
  ["docr.region: a region with a registry", { docr: { name: "acme-mcp", region: "lon1" } }, "docr.region", /a region with a container registry: nyc3/],
  ["docr.tier: a DOCR tier", { docr: { name: "acme-mcp", tier: "free" } }, "docr.tier", /starter, basic or professional/],
  ["tag: docker's tag grammar", { ...IMAGE, tag: "-latest" }, "tag", /an image tag/],
  ["repository: a lowercase repository", { ...IMAGE, repository: "Acme/MCP" }, "repository", /lowercase repository name/],
  ["build.baseImage: an image reference", { ...IMAGE, build: { baseImage: "node 24" } }, "build.baseImage", /image reference/],
  ["build.platform: a linux platform", { ...IMAGE, build: { platform: "windows/amd64" } }, "build.platform", /linux platform/],
  ["build.args: build argument names", { ...IMAGE, build: { args: { "NO SPACE": "x" } } }, "build.args.NO SPACE", /letters, digits and _/],
  ["registry.server: required", { registry: { server: "" } }, "registry.server", /is required/],
  ["no unknown argument", { ...IMAGE, regsitry: {} } as ImageArgs, "regsitry", /not a known argument/],
];

test("McpImage: each rule names its argument", () => {
  new McpImage("good", IMAGE);
  new McpImage("good-prebuilt", { image: DIGEST });
  const before = rec.resources.length;
  for (const [, args, path, message] of imageCases) refuses(() => new McpImage("bad", args), "McpImage", path, message);
  assert.equal(rec.resources.length, before, "nothing registered");
});

const deploymentCases: [string, Partial<DeploymentArgs> & Record<string, unknown>, string, RegExp][] = [
  ["connection: required", { connection: undefined as never }, "connection", /is required/],
  ["pullConfig: required", { pullConfig: undefined as never }, "pullConfig", /is required/],
  ["image: required", { image: undefined as never }, "image", /is required \(an image pinned by digest/],
  ["image: a plain image is pinned by digest", { image: "ghcr.io/acme/mcp:latest" }, "image", /pinned by digest/],
  ["env: upper snake case names", { env: { logLevel: "info" } }, "env.logLevel", /UPPER_SNAKE_CASE/],
  ["env: not a name the run contract sets per slot", { env: { PORT: "1" } }, "env.PORT", /set per slot by the run contract/],
  ["env: one line", { env: { NOTE: "a\nb" } }, "env.NOTE", /single line/],
  ["secretEnv: names too (when plain)", { secretEnv: { DATA_DIR: "/x" } }, "secretEnv.DATA_DIR", /set per slot by the run contract/],
  ["hostId: the host id pattern", { hostId: "droplet 1" }, "hostId", /1-128 letters/],
  ["app: the app name rule", { app: "Weather" }, "app", /start with a-z/],
  ["memoryMb: the container resource rule", { memoryMb: 64 }, "memoryMb", /at least 128/],
  ["cpus: the container resource rule", { cpus: 0 }, "cpus", /positive number of CPUs/],
  ["ports: blue/green slots do not clash", { metricsPort: 8101 }, "metricsPort", /clash/],
  ["limits.keepaliveTimeSeconds: the deployment's", { limits: { keepaliveTimeSeconds: 5 } }, "limits.keepaliveTimeSeconds", /must be left unset/],
  ["publish: a function", { publish: "later" as never }, "publish", /function/],
];

test("McpDeployment: each rule names its argument; Outputs pass until they resolve", () => {
  new McpDeployment("good", DEPLOYMENT);
  new McpDeployment("good-outputs", { ...DEPLOYMENT, image: pulumi.output(DIGEST), secretEnv: pulumi.secret({ API_KEYS: "x".repeat(32) }), hostId: pulumi.output("1") });
  const before = rec.resources.length;
  for (const [, patch, path, message] of deploymentCases) {
    refuses(() => new McpDeployment("bad", { ...DEPLOYMENT, ...patch } as DeploymentArgs), "McpDeployment", path, message);
  }
  assert.equal(rec.resources.length, before, "nothing registered");
});

test("McpHost: resources that no droplet size holds are refused at resources.memoryMb unless a size is given", () => {
  const host = { region: "fra1", sshPublicKey: KEY, adminCidrs: ["203.0.113.7/32"] };
  refuses(() => new McpHost("big", { ...host, resources: { memoryMb: 9000 } }), "McpHost", "resources.memoryMb", /no Basic droplet is that large/);
  refuses(() => new McpHost("small", { ...host, resources: { memoryMb: 64 } }), "McpHost", "resources.memoryMb", /at least 128/);
  new McpHost("sized", { ...host, resources: { memoryMb: 9000 }, size: "m-2vcpu-16gb" });
});
