// Stack config validation: every bad value names its key and the `pulumi config set` command that fixes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { validateStackSettings, StackConfigError, type SecretKey } from "../../examples/stack/config.ts";
import { slotPortsOf } from "../../infra/render/deployment-plan.ts";
import { pickDropletSize, requiredMemoryMb } from "../../infra/render/droplet-size.ts";
import { SSH_PUBLIC_KEY as KEY } from "./fixtures.ts";

const good = { domain: "mcp.example.com", sshPublicKey: KEY, adminCidrs: ["203.0.113.7/32"], acmeEmail: "ops@example.com", docrName: "acme-mcp-7f3k" };
const secrets = new Set<SecretKey>(["apiKeys", "sshPrivateKey"]);

function issuesOf(raw: Record<string, unknown>, present = secrets, token = true) {
  try { validateStackSettings(raw, present, token); } catch (e) {
    assert.ok(e instanceof StackConfigError, String(e));
    return e;
  }
  assert.fail("expected a StackConfigError");
}

test("a minimal config gets production defaults", () => {
  const s = validateStackSettings(good, secrets, true);
  assert.equal(s.region, "fra1");
  assert.equal(s.authMode, "api-key");
  assert.equal(s.port, 8000);
  assert.deepEqual(slotPortsOf(s), { blue: { port: 8000, metricsPort: 9090 }, green: { port: 8001, metricsPort: 9091 } });
  assert.equal(pickDropletSize({ memoryMb: s.containerMemoryMb, cpus: s.containerCpus }).slug, "s-1vcpu-1gb");
});

test("missing token names digitalocean:token and the secret set command", () => {
  const e = issuesOf(good, secrets, false);
  assert.equal(e.issues[0]!.key, "digitalocean:token");
  assert.match(e.message, /pulumi config set digitalocean:token --secret/);
});

test("bad domain is rejected with the key and an example", () => {
  const e = issuesOf({ ...good, domain: "https://mcp.example.com/" });
  assert.equal(e.issues[0]!.key, "domain");
  assert.match(e.message, /domain: must be a DNS name/);
  assert.match(e.message, /pulumi config set domain mcp\.example\.com/);
});

test("empty admin CIDRs are rejected; 0.0.0.0/0 only with allowSshFromAnywhere", () => {
  const e = issuesOf({ ...good, adminCidrs: [] });
  assert.equal(e.issues[0]!.key, "adminCidrs");
  assert.match(e.message, /at least one CIDR/);
  assert.match(e.message, /pulumi config set --path 'adminCidrs\[0\]'/);
  const w = issuesOf({ ...good, adminCidrs: ["0.0.0.0/0"] });
  assert.match(w.message, /whole internet/);
  assert.deepEqual(validateStackSettings({ ...good, adminCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: true }, secrets, true).adminCidrs, ["0.0.0.0/0"]);
  assert.match(issuesOf({ ...good, adminCidrs: ["10.0.0.1"] }).message, /must be a CIDR/);
});

test("port clashes: app vs metrics slots, and reserved host ports", () => {
  const e = issuesOf({ ...good, port: 9000, metricsPort: 9001 });
  assert.equal(e.issues[0]!.key, "port");
  assert.match(e.message, /port of the green slot \(9001\) clashes with metricsPort of the blue slot \(9001\)/);
  assert.match(e.message, /pulumi config set port 8000/);
  assert.match(issuesOf({ ...good, port: 442 }).message, /port of the green slot \(443\) clashes with HTTPS/);
  assert.match(issuesOf({ ...good, sshPort: 8001 }).message, /clashes with SSH/);
});

test("drainSeconds below 2 is refused: nginx may reuse a connection to the old slot for 1 s after a switch", () => {
  const e = issuesOf({ ...good, drainSeconds: 0 });
  assert.equal(e.issues[0]!.key, "drainSeconds");
  assert.match(e.message, /drainSeconds: must be at least 2: nginx reuses a cached connection to the old slot for up to 1 s/);
  assert.match(e.message, /fix: pulumi config set drainSeconds/);
  assert.equal(validateStackSettings({ ...good, drainSeconds: 2 }, secrets, true).drainSeconds, 2);
});

test("required keys missing are all listed at once", () => {
  const e = issuesOf({});
  assert.deepEqual(e.issues.map((i) => i.key).sort(), ["acmeEmail", "adminCidrs", "domain", "sshPublicKey"]);
  assert.ok(e.issues.every((i) => i.message === "is required but not set" && i.fix.startsWith("pulumi config set")));
});

test("secrets and cross-field rules", () => {
  assert.match(issuesOf(good, new Set()).message, /apiKeys: authMode is api-key .*\n\s+fix: pulumi config set apiKeys --secret/);
  assert.doesNotThrow(() => validateStackSettings({ ...good, authMode: "none" }, new Set(), true));
  assert.match(issuesOf({ ...good, env: { PORT: "1" } }).message, /env: PORT: set by the components/);
  assert.match(issuesOf({ ...good, env: { lower: "1" } }).message, /UPPER_SNAKE_CASE/);
  assert.match(issuesOf({ ...good, env: { A: "x\ny" } }).message, /single line/);
  assert.match(issuesOf({ ...good, dnsZone: "other.org" }).message, /not inside zone other\.org/);
  assert.match(issuesOf({ ...good, registryUsername: "u" }).message, /registryPassword/);
});

test("droplet size: smallest that fits two slots plus the host", () => {
  assert.equal(requiredMemoryMb({ memoryMb: 256, cpus: 1 }), 912);
  assert.equal(pickDropletSize({ memoryMb: 512, cpus: 1 }).slug, "s-1vcpu-2gb");
  assert.equal(pickDropletSize({ memoryMb: 512, cpus: 2 }).slug, "s-2vcpu-2gb");
  assert.throws(() => pickDropletSize({ memoryMb: 65536, cpus: 1 }), /droplet size memoryMb: 65536 MB and 1 CPUs per container need 131472 MB.*name the droplet size yourself/);
});

test("DNS record names relative to the zone; host argument checks", async () => {
  const { recordName } = await import("../../infra/components/host.ts");
  const { validateHostArgs } = await import("../../infra/components/host-args.ts");
  assert.equal(recordName("mcp.example.com", "example.com"), "mcp");
  assert.equal(recordName("a.b.example.com", "example.com"), "a.b");
  assert.equal(recordName("example.com", "example.com"), "@");
  const host = { region: "fra1", sshPublicKey: KEY, adminCidrs: ["203.0.113.7/32"] };
  assert.doesNotThrow(() => validateHostArgs(host));
  assert.throws(() => validateHostArgs({ ...host, dns: { zone: "example.org", domain: "mcp.example.com" } }), /not inside zone example\.org/);
  assert.doesNotThrow(() => validateHostArgs({ ...host, adminCidrs: ["::/0"], allowSshFromAnywhere: true }));
});
