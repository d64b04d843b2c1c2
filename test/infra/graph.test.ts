// The resource graph SelfHostedMcp defines (under pulumi mocks): types, key inputs, parent/child wiring, dependency
// order of the remote commands, and outputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { installMocks, valueOf, bundleFiles, isSecretValue, MOCK_IPV4, MOCK_RESERVED_IP, MOCK_REGISTRY, digestOf } from "./mock-harness.ts";
import { SSH_PUBLIC_KEY as KEY } from "./fixtures.ts";

const rec = await installMocks();
const { SelfHostedMcp, McpDeployment, McpHost, McpImage } = await import("../../infra/index.ts");

const mcp = new SelfHostedMcp("prod", {
  domain: "mcp.example.com", region: "ams3", sshPublicKey: KEY, adminCidrs: ["203.0.113.7/32", "2001:db8::/64"],
  dnsZone: "example.com", reservedIp: true, acme: { email: "ops@example.com" }, docr: { name: "selfhosted-mcp-test" },
  resources: { memoryMb: 512, cpus: 1 }, auth: { mode: "none" },
});
const outputs = {
  url: await valueOf(mcp.url), healthUrl: await valueOf(mcp.healthUrl), ipv4: await valueOf(mcp.ipv4),
  imageDigest: await valueOf(mcp.imageDigest), dropletId: await valueOf(mcp.dropletId),
};
await rec.settle();

test("resource types: one of each, nothing unexpected", () => {
  const count = (t: string) => rec.ofType(t).length;
  assert.equal(count("selfhosted-mcp:index:SelfHostedMcp"), 1);
  for (const t of ["McpHost", "McpImage", "McpDeployment"]) assert.equal(count(`selfhosted-mcp:index:${t}`), 1, t);
  assert.equal(count("digitalocean:index/sshKey:SshKey"), 1);
  assert.equal(count("digitalocean:index/droplet:Droplet"), 1);
  assert.equal(count("digitalocean:index/firewall:Firewall"), 1);
  assert.equal(count("digitalocean:index/reservedIp:ReservedIp"), 1);
  assert.equal(count("digitalocean:index/reservedIpAssignment:ReservedIpAssignment"), 1);
  assert.equal(count("digitalocean:index/dnsRecord:DnsRecord"), 2);
  assert.equal(count("digitalocean:index/containerRegistry:ContainerRegistry"), 1);
  assert.equal(count("digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials"), 2);
  assert.equal(count("docker:index/image:Image"), 1);
  assert.equal(count("command:remote:Command"), 4);
  assert.equal(count("command:remote:CopyToRemote"), 0, "nothing is copied: CopyToRemote rejects unknown sources at preview");
});

test("droplet: region, smallest size for two 512 MB slots, Ubuntu LTS, monitoring, IPv6, stable user-data", () => {
  const d = rec.ofType("digitalocean:index/droplet:Droplet")[0]!.inputs;
  assert.equal(d.region, "ams3");
  assert.equal(d.size, "s-1vcpu-2gb");
  assert.equal(d.image, "ubuntu-24-04-x64");
  assert.equal(d.monitoring, true);
  assert.equal(d.ipv6, true);
  const ud = String(d.userData);
  assert.ok(ud.startsWith("#cloud-config\n"));
  const doc = parse(ud);
  assert.deepEqual(doc.users[0].ssh_authorized_keys, [KEY]);
  assert.equal(doc.swap, undefined, "swap is not in the user-data");
  assert.equal(d.resizeDisk, false, "a resize keeps the disk, so a downsize stays possible");
});

test("firewall: SSH only from the admin CIDRs, 80/443 public, attached to the droplet", () => {
  const f = rec.ofType("digitalocean:index/firewall:Firewall")[0]!.inputs as { inboundRules: Record<string, unknown>[]; dropletIds: number[] };
  const rule = (port: string) => f.inboundRules.find((r) => r.portRange === port);
  assert.deepEqual(rule("22")!.sourceAddresses, ["203.0.113.7/32", "2001:db8::/64"]);
  assert.deepEqual(rule("80")!.sourceAddresses, ["0.0.0.0/0", "::/0"]);
  assert.deepEqual(rule("443")!.sourceAddresses, ["0.0.0.0/0", "::/0"]);
  assert.ok(f.inboundRules.every((r) => r.portRange !== "22" ? true : !(r.sourceAddresses as string[]).includes("0.0.0.0/0")));
  assert.deepEqual(f.dropletIds, [424242]);
});

test("DNS records in the zone point at the reserved IP / droplet IPv6", () => {
  const recs = rec.ofType("digitalocean:index/dnsRecord:DnsRecord").map((r) => r.inputs);
  const a = recs.find((r) => r.type === "A")!;
  const aaaa = recs.find((r) => r.type === "AAAA")!;
  assert.deepEqual([a.domain, a.name, a.value], ["example.com", "mcp", MOCK_RESERVED_IP]);
  assert.deepEqual([aaaa.domain, aaaa.name, aaaa.value], ["example.com", "mcp", "2001:db8::10"]);
  assert.equal(rec.ofType("digitalocean:index/reservedIp:ReservedIp")[0]!.inputs.dropletId, undefined, "the address alone");
  const assignment = rec.ofType("digitalocean:index/reservedIpAssignment:ReservedIpAssignment")[0]!.inputs;
  assert.deepEqual([assignment.ipAddress, assignment.dropletId], [MOCK_RESERVED_IP, 424242]);
});

const version = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version;
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

test("registry: DOCR (free tier) with push and read-only pull credentials; image built with BASE_IMAGE and pushed", () => {
  const reg = rec.ofType("digitalocean:index/containerRegistry:ContainerRegistry")[0]!.inputs;
  assert.equal(reg.subscriptionTierSlug, "starter");
  assert.equal(reg.name, "selfhosted-mcp-test");
  const creds = rec.ofType("digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials").map((r) => r.inputs.write);
  assert.deepEqual(creds.sort(), [false, true]);
  const img = rec.ofType("docker:index/image:Image")[0]!.inputs as { imageName: string; build: Record<string, unknown>; registry: { value: Record<string, unknown> } };
  assert.equal(img.imageName, `${MOCK_REGISTRY}/selfhosted-mcp-test/selfhosted-mcp:v${version}`, "tagged with the package version, not :latest");
  assert.deepEqual(img.build.args, { BASE_IMAGE: "node:24-bookworm-slim", VERSION: version });
  assert.equal(img.build.context, REPO_ROOT, "the package's own server, wherever the package is installed");
  assert.equal(img.build.dockerfile, `${REPO_ROOT}/server/Dockerfile`);
  assert.equal(reg.region, "ams3", "the droplet's region has a registry");
  assert.equal(img.build.platform, "linux/amd64");
  assert.ok(isSecretValue(img.registry), "push credentials are secret");
  assert.deepEqual(img.registry.value, { server: MOCK_REGISTRY, username: "push-token", password: "push-token" });
});

test("parent/child wiring: every part is a child of its component, components of SelfHostedMcp", async () => {
  const urn = (r: { urn: import("@pulumi/pulumi").Output<string> }) => valueOf(r.urn);
  const top = "selfhosted-mcp:index:SelfHostedMcp";
  assert.match(await urn(mcp.host), new RegExp(`::${top}\\$selfhosted-mcp:index:McpHost::prod-host$`));
  assert.match(await urn(mcp.image), new RegExp(`::${top}\\$selfhosted-mcp:index:McpImage::prod-image$`));
  assert.match(await urn(mcp.deployment), new RegExp(`::${top}\\$selfhosted-mcp:index:McpDeployment::prod-deploy$`));
  assert.match(await urn(mcp.host.droplet), /::selfhosted-mcp:index:McpHost\$digitalocean:index\/droplet:Droplet::prod-host-droplet$/);
  assert.match(await urn(mcp.host.firewall), /McpHost\$digitalocean:index\/firewall:Firewall::/);
  assert.match(await urn(mcp.host.ready), /McpHost\$command:remote:Command::prod-host-ready$/);
  assert.match(await urn(mcp.image.image!), /McpImage\$docker:index\/image:Image::/);
  assert.match(await urn(mcp.deployment.deploy), /::selfhosted-mcp:index:McpDeployment\$command:remote:Command::prod-deploy-deploy$/);
  assert.match(await urn(mcp.deployment.site), /McpDeployment\$command:remote:Command::prod-deploy-site$/);
  assert.match(await urn(mcp.host.reservedIpAssignment!), /McpHost\$digitalocean:index\/reservedIpAssignment:ReservedIpAssignment::prod-host-ip-assignment$/);
});

test("registration order: host ready -> site -> deploy -> reserved IP / DNS (after the deploy) -> certificate", () => {
  const order = rec.resources.filter((r) => /^command:remote:|reservedIpAssignment|dnsRecord/.test(r.type)).map((r) => r.name);
  assert.deepEqual(order, ["prod-host-ready", "prod-deploy-site", "prod-deploy-deploy", "prod-host-ip-assignment", "prod-host-a",
    "prod-host-aaaa", "prod-deploy-certificate"]);
});

test("commands: SSH connection to the droplet as the deploy user; scripts, paths and the pinned image", async () => {
  const ready = rec.named("prod-host-ready").inputs as { connection: { value: Record<string, unknown> }; create: string };
  assert.deepEqual([ready.connection.value.host, ready.connection.value.user, ready.connection.value.port], [MOCK_IPV4, "deploy", 22]);
  assert.match(ready.create, /cloud-init status --wait/);
  const deploy = rec.named("prod-deploy-deploy").inputs as { create: string; update: string; delete?: string; stdin: { value: string } };
  assert.equal(deploy.update, deploy.create);
  assert.equal(deploy.delete, undefined, "the deploy deletes nothing");
  assert.match(deploy.create, new RegExp(`^readonly IMAGE=${MOCK_REGISTRY}/selfhosted-mcp-test/selfhosted-mcp@sha256:[0-9a-f]{64}$`, "m"));
  assert.match(deploy.create, /^readonly HOST_ID=424242$/m);
  const site = rec.named("prod-deploy-site").inputs as { create: string; delete: string };
  assert.match(site.delete, /# selfhosted-mcp remote script: teardown\./);
  const files = bundleFiles(deploy.stdin.value);
  assert.match(files["run-spec.sh"]!, /--memory 512m/);
  assert.match(files["nginx-tls.conf"]!, /server_name mcp\.example\.com/);
});

test("outputs: url, health URL, IPv4 (reserved), image digest, droplet id", () => {
  assert.deepEqual(outputs, {
    url: "https://mcp.example.com/mcp", healthUrl: "https://mcp.example.com/health", ipv4: MOCK_RESERVED_IP,
    imageDigest: `${MOCK_REGISTRY}/selfhosted-mcp-test/selfhosted-mcp@${digestOf(`${MOCK_REGISTRY}/selfhosted-mcp-test/selfhosted-mcp:v${version}`)}`,
    dropletId: "424242",
  });
});

test("component arguments are validated at construction, before anything registers", async () => {
  const before = rec.resources.length;
  assert.throws(() => new McpHost("h2", { region: "fra1", sshPublicKey: KEY, adminCidrs: [] }), /McpHost adminCidrs: must list at least one CIDR/);
  const mcpArgs = { domain: "mcp.example.com", sshPublicKey: KEY, adminCidrs: ["203.0.113.7/32"], acme: { email: "ops@example.com" } };
  assert.throws(() => new SelfHostedMcp("s2", { ...mcpArgs, env: { AUTH_MODE: "none" } }), /SelfHostedMcp env: AUTH_MODE: set by the components/);
  assert.throws(() => new SelfHostedMcp("s3", { ...mcpArgs, domain: "https://mcp.example.com" }), /SelfHostedMcp domain: must be a DNS name/);
  assert.throws(() => new SelfHostedMcp("s4", { ...mcpArgs, acme: { email: "ops@example.com", caBundle: "/etc/my ca.pem" } }),
    /SelfHostedMcp acme\.caBundle: must be an absolute path .*no spaces/);
  assert.throws(() => new McpHost("h3", { region: "fra1", sshPublicKey: KEY, adminCidrs: ["0.0.0.0/0"] }), /allowSshFromAnywhere/);
  assert.throws(() => new McpDeployment("d2", { connection: { host: "h" }, image: "x", pullConfig: "{}", app: "Bad_Name",
    domain: "mcp.example.com", port: 8000, metricsPort: 9090, acmeEmail: "ops@example.com" }), /app: must start with a-z/);
  assert.throws(() => new McpDeployment("d3", { connection: { host: "h" }, image: "x", pullConfig: "{}", app: "ok",
    domain: "mcp.example.com", port: 8000, metricsPort: 8001, acmeEmail: "ops@example.com" }), /clash/);
  assert.throws(() => new McpImage("i2", { image: "ghcr.io/acme/mcp:latest" }), /McpImage image: must be an image pinned by digest/);
  await rec.settle();
  assert.equal(rec.resources.length, before, "nothing registered, not even the component");
});
