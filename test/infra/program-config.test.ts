// The example program validates its stack config before registering anything: each bad case fails with the
// documented message (key + fix command) and the mock engine sees zero resources. A good config then registers.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, bundleFiles } from "./mock-harness.ts";
import { REQUIRED_STACK_CONFIG, asTheCliDelivers, runProgram as evaluate } from "./fixtures.ts";

delete process.env.DIGITALOCEAN_TOKEN;
delete process.env.DIGITALOCEAN_ACCESS_TOKEN;
const rec = await installMocks();
const good: Record<string, string> = {
  ...REQUIRED_STACK_CONFIG,
  "selfhosted-mcp:apiKeys": "0123456789abcdef0123456789abcdef",
  // Pulumi.yaml's empty defaults arrive like this and mean "unset".
  "selfhosted-mcp:dnsZone": "",
  "selfhosted-mcp:image": "",
};
const SECRET = ["digitalocean:token", "selfhosted-mcp:apiKeys"];
const runProgram = (config: Record<string, string>, secretKeys = SECRET) => evaluate(config, secretKeys);

async function expectError(config: Record<string, string>, ...patterns: RegExp[]) {
  await assert.rejects(runProgram(config), (e: Error) => {
    assert.equal(e.name, "StackConfigError", e.stack);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
  await rec.settle(100);
  assert.equal(rec.resources.length, 0, `no resource may be registered, got ${rec.resources.map((r) => r.name).join(", ")}`);
}

test("missing DigitalOcean token", async () => {
  const { "digitalocean:token": _, ...rest } = good;
  await expectError(rest, /digitalocean:token: the DigitalOcean API token is not set/, /fix: pulumi config set digitalocean:token --secret/);
});

test("bad domain", async () => {
  await expectError({ ...good, "selfhosted-mcp:domain": "https://mcp.example.com" },
    /domain: must be a DNS name such as mcp\.example\.com \(lower case; no scheme, port, path or wildcard\) \(got "https:\/\/mcp\.example\.com"\)/, /fix: pulumi config set domain mcp\.example\.com/);
});

test("empty admin CIDRs", async () => {
  await expectError({ ...good, "selfhosted-mcp:adminCidrs": "[]" },
    /adminCidrs: must list at least one CIDR/, /fix: pulumi config set --path 'adminCidrs\[0\]' 203\.0\.113\.7\/32/);
});

test("port clash", async () => {
  await expectError({ ...good, "selfhosted-mcp:port": "9090", "selfhosted-mcp:metricsPort": "9091" },
    /port: port of the green slot \(9091\) clashes with metricsPort of the blue slot \(9091\); .*at least 2 apart/, /fix: pulumi config set port 8000/);
});

test("bad nginx listen address", async () => {
  await expectError({ ...good, "selfhosted-mcp:nginxListenAddresses": '["0.0.0.0:443"]' },
    /nginxListenAddresses: must be "\*", an IPv4 address or a bracketed IPv6 address/, /fix: pulumi config set --path 'nginxListenAddresses\[0\]'/);
});

test("a secret key stored in plain text is refused", async () => {
  await assert.rejects(runProgram(good, ["digitalocean:token"]), /apiKeys: is stored in plain text .*\n\s+fix: pulumi config set apiKeys --secret/);
  assert.equal(rec.resources.length, 0);
});

test("building without a registry name fails in preview naming docrName (DOCR names are global; no default can work)", async () => {
  const { "selfhosted-mcp:docrName": _d, ...noRegistry } = good;
  await expectError(noRegistry, /docrName: building the server needs a registry: DigitalOcean Container Registry names are global/);
  await expectError({ ...noRegistry, "selfhosted-mcp:createDocr": "false" }, /docrName: createDocr is false: docrName must name your account's existing registry/);
  await expectError({ ...good, "selfhosted-mcp:docrRegion": "lon1" }, /docrRegion: must be a region with a container registry/);
});

test("the same program with a good config registers the stack (the zero counts above are meaningful)", async () => {
  const program = await runProgram({ ...good, "selfhosted-mcp:nginxListenAddresses": '["127.0.0.1"]' });
  await rec.settle();
  const stdin = (rec.named("mcp-deploy-deploy").inputs.stdin as { value: string }).value;
  const site = bundleFiles(stdin)["nginx-tls.conf"]!;
  assert.match(site, /listen 127\.0\.0\.1:443 ssl/, "nginxListenAddresses reaches the rendered site");
  assert.doesNotMatch(site, /listen \[::\]:443/);
  assert.ok(rec.resources.length >= 12, `got ${rec.resources.length}`);
  assert.ok(rec.resources.some((r) => r.type === "digitalocean:index/droplet:Droplet"));
  assert.ok(pulumi.Output.isInstance(program.url));
});

test("Pulumi.yaml's own defaults, delivered as the CLI delivers them (secretEnv as plain \"{}\"), are accepted", async () => {
  const config = asTheCliDelivers(good);
  assert.equal(config["selfhosted-mcp:secretEnv"], "{}");
  await runProgram(config);
  await rec.settle();
  assert.ok(rec.resources.some((r) => r.type === "digitalocean:index/droplet:Droplet"));
});

test("a passphrase-protected private key without its passphrase, or no key and no agent, fails before anything registers", async () => {
  const encrypted = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + Buffer.concat([Buffer.from("openssh-key-v1\0"),
    Buffer.from([0, 0, 0, 10]), Buffer.from("aes256-ctr")]).toString("base64") + "\n-----END OPENSSH PRIVATE KEY-----\n";
  const { "selfhosted-mcp:sshAgentSocket": _agent, ...noAgent } = good;
  const before = rec.resources.length;
  const saved = process.env.SSH_AUTH_SOCK;
  delete process.env.SSH_AUTH_SOCK;
  try {
    await assert.rejects(runProgram({ ...noAgent, "selfhosted-mcp:sshPrivateKey": encrypted }, [...SECRET, "selfhosted-mcp:sshPrivateKey"]),
      /sshPrivateKeyPassword: sshPrivateKey is passphrase-protected.*\n\s+fix: pulumi config set sshPrivateKeyPassword --secret/);
    await assert.rejects(runProgram(noAgent), /sshPrivateKey: no private key is set and no SSH agent is running/);
    await runProgram({ ...noAgent, "selfhosted-mcp:sshPrivateKey": encrypted, "selfhosted-mcp:sshPrivateKeyPassword": "pw" },
      [...SECRET, "selfhosted-mcp:sshPrivateKey", "selfhosted-mcp:sshPrivateKeyPassword"]);
  } finally {
    if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
  }
  await rec.settle();
  const conn = rec.resources.slice(before).find((r) => r.name === "mcp-deploy-deploy")!.inputs.connection as { value: Record<string, unknown> };
  assert.deepEqual([conn.value.privateKeyPassword, conn.value.dialErrorLimit, conn.value.perDialTimeout], ["pw", 6, 10]);
});

