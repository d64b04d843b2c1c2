// SelfHostedMcp with several servers (issue 17) under Pulumi's mocks: one droplet, one registry, one site and
// certificate (the gateway's); per server its own image, containers, volume, socket directory, ports, labels and env;
// the gateway's slots mount the servers' socket directories read-only and reach them with a token each server accepts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { installMocks, valueOf, bundleFiles, isSecretValue, withoutSecrets, MOCK_REGISTRY } from "./mock-harness.ts";
import { multiStackArgs, KEY_ALL, KEY_NOTES } from "./multi-fixtures.ts";

const rec = await installMocks();
const { SelfHostedMcp } = await import("../../infra/index.ts");
const { defaultServerPorts, upstreamToken } = await import("../../infra/render/servers.ts");
const mcp = new SelfHostedMcp("prod", multiStackArgs());
const url = await valueOf(mcp.url);
await rec.settle();

const NAMES = ["weather", "notes", "search"];
const bundle = (name: string) => bundleFiles((rec.named(name).inputs as { stdin: { value: string } }).stdin.value);
const envOf = (files: Record<string, string>) => Object.fromEntries(files.env!.split("\n").filter((l) => /^[A-Z]/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));

test("one droplet, one registry, one certificate; an image and a deployment per server plus the gateway's", () => {
  const count = (t: string) => rec.ofType(t).length;
  assert.equal(count("digitalocean:index/droplet:Droplet"), 1);
  assert.equal(count("digitalocean:index/containerRegistry:ContainerRegistry"), 1, "one registry for every image (DOCR: one per account)");
  assert.equal(count("selfhosted-mcp:index:McpImage"), 4);
  assert.equal(count("selfhosted-mcp:index:McpDeployment"), 4);
  assert.equal(count("docker:index/image:Image"), 3, "the gateway and two builds; search is a prebuilt image");
  const commands = rec.ofType("command:remote:Command").map((c) => c.name).sort();
  assert.deepEqual(commands, ["prod-deploy-certificate", "prod-deploy-deploy", "prod-deploy-site", "prod-host-ready",
    ...NAMES.flatMap((n) => [`prod-${n}-deploy-deploy`, `prod-${n}-deploy-site`])].sort());
  assert.equal(url, "https://mcp.example.com/mcp");
});

test("droplet size: every container at its limit plus a second slot of the largest (deploys run one at a time)", () => {
  // gateway 192 + weather 256 + notes 384 + search 256 = 1088; + 384 (notes' second slot) + 400 host = 1872 MB.
  assert.equal(rec.ofType("digitalocean:index/droplet:Droplet")[0]!.inputs.size, "s-1vcpu-2gb");
});

test("images: the gateway from gateway/Dockerfile, each server tagged <name>-v<version> in the same repository and registry", () => {
  const imgs = rec.ofType("docker:index/image:Image").map((r) => r.inputs as { imageName: string; build: { dockerfile: string }; registry: { value: { server: string } } });
  const gateway = imgs.find((i) => i.imageName.includes(":gateway-v"))!;
  assert.match(gateway.build.dockerfile, /\/gateway\/Dockerfile$/);
  const weather = imgs.find((i) => i.imageName.includes(":weather-v"))!;
  assert.match(weather.imageName, new RegExp(`^${MOCK_REGISTRY}/acme-mcp-test/selfhosted-mcp:weather-v`));
  assert.match(weather.build.dockerfile, /\/server\/Dockerfile$/);
  for (const i of imgs) assert.equal(i.registry.value.server, MOCK_REGISTRY);
});

test("per server: containers, volume, socket directory, ports and labels of its own; no site, no certificate", () => {
  for (const name of NAMES) {
    const files = bundle(`prod-${name}-deploy-deploy`);
    assert.deepEqual(Object.keys(files).sort(), ["docker-config.json", "env", "run-spec.sh", "upstream.conf"], name);
    const spec = files["run-spec.sh"]!;
    const { port, metricsPort } = defaultServerPorts(name);
    for (const [slot, p] of [["blue", port], ["green", port + 1]] as const) {
      assert.match(spec, new RegExp(`--name ${name}-${slot} `));
      assert.match(spec, new RegExp(`source=/var/lib/selfhosted-mcp/${name}\\.sockets/${slot},target=/run/selfhosted-mcp`));
      assert.match(spec, new RegExp(`--env PORT=${p} `));
      assert.match(spec, new RegExp(`--label io\\.selfhosted-mcp\\.app=${name} --label io\\.selfhosted-mcp\\.slot=${slot}`));
    }
    assert.match(spec, new RegExp(`source=${name}-data,target=/data`));
    assert.match(spec, new RegExp(`--env METRICS_PORT=${metricsPort} `));
    assert.match(files["upstream.conf"]!, new RegExp(`server unix:/var/lib/selfhosted-mcp/${name}\\.sockets/live\\.sock`));
    const deploy = String(rec.named(`prod-${name}-deploy-deploy`).inputs.create);
    assert.match(deploy, /^readonly SITE_FILE=''$/m);
    assert.match(deploy, new RegExp(`^readonly UPSTREAM_FILE=/etc/nginx/selfhosted-mcp/${name}\\.upstream\\.conf$`, "m"));
    assert.equal(envOf(files).PUBLIC_URL, `https://mcp.example.com/${name}`, "its resource URL is the route's (RFC 9728 metadata path-suffixed)");
  }
  assert.match(bundle("prod-notes-deploy-deploy")["run-spec.sh"]!, /--memory 384m/);
  assert.match(bundle("prod-search-deploy-deploy")["run-spec.sh"]!, /ghcr\.io\/acme\/search@sha256:c{64}/);
});

test("keys: each server accepts the keys that grant it plus the gateway's token for it, and the gateway presents that token", () => {
  const entries = [KEY_ALL, `${KEY_NOTES}:notes`];
  const gateway = envOf(bundle("prod-deploy-deploy"));
  assert.equal(gateway.API_KEYS, `${KEY_ALL},${KEY_NOTES}:notes`, "the gateway keeps the grants");
  assert.equal(gateway.UPSTREAMS, NAMES.join(","));
  for (const name of NAMES) {
    const token = upstreamToken(entries, name);
    const u = name.toUpperCase();
    assert.equal(gateway[`UPSTREAM_${u}_TOKEN`], token);
    assert.equal(gateway[`UPSTREAM_${u}_SOCKET`], `/run/selfhosted-mcp-upstreams/${name}/live.sock`);
    const keys = envOf(bundle(`prod-${name}-deploy-deploy`)).API_KEYS!.split(",");
    assert.deepEqual(keys, [KEY_ALL, ...(name === "notes" ? [KEY_NOTES] : []), token], name);
  }
  assert.equal(envOf(bundle("prod-search-deploy-deploy")).SEARCH_TOKEN, "s".repeat(24));
  // Secrets travel only in the deploy commands' secret stdin.
  const plain = JSON.stringify(rec.resources.map((r) => withoutSecrets(r.inputs)));
  for (const secret of [KEY_ALL, KEY_NOTES, upstreamToken(entries, "notes"), "s".repeat(24)]) assert.ok(!plain.includes(secret), "a secret outside a secret input");
  for (const name of ["prod-deploy-deploy", ...NAMES.map((n) => `prod-${n}-deploy-deploy`)]) assert.ok(isSecretValue(rec.named(name).inputs.stdin), name);
});

test("gateway: mounts each server's socket directory read-only; its site routes /mcp to itself and /<name>/mcp to each server", () => {
  const files = bundle("prod-deploy-deploy");
  for (const name of NAMES) {
    assert.match(files["run-spec.sh"]!, new RegExp(`type=bind,source=/var/lib/selfhosted-mcp/${name}\\.sockets,target=/run/selfhosted-mcp-upstreams/${name},readonly`));
  }
  const tls = files["nginx-tls.conf"]!;
  /** The text of `location = <path> {` up to the next location (at the server block's indentation). */
  const block = (path: string) => {
    const start = tls.indexOf(`\n    location = ${path} {`);
    assert.ok(start >= 0, `a location for ${path}`);
    return tls.slice(start, tls.indexOf("\n    location ", start + 1));
  };
  assert.match(block("/mcp"), /proxy_pass http:\/\/smcp_mcp_example_com_mcp\/mcp;/);
  assert.match(block("/health"), /proxy_pass http:\/\/smcp_mcp_example_com_mcp\/health;/);
  for (const name of NAMES) {
    assert.match(block(`/${name}/mcp`), new RegExp(`limit_req zone=smcp_mcp_example_com_${name}_ip [^]*proxy_pass http://smcp_mcp_example_com_${name}/mcp;`));
    assert.match(block(`/${name}/health`), new RegExp(`proxy_pass http://smcp_mcp_example_com_${name}/health;`));
    assert.match(block(`/.well-known/oauth-protected-resource/${name}/mcp`), new RegExp(`proxy_pass http://smcp_mcp_example_com_${name};`));
    assert.match(tls, new RegExp(`include /etc/nginx/selfhosted-mcp/${name}\\.upstream\\.conf;`));
  }
  assert.match(tls, /limit_req_zone \S+ zone=smcp_mcp_example_com_notes_ip:10m rate=2r\/s;/, "notes' own rate limit");
  assert.match(tls, /limit_req_zone \S+ zone=smcp_mcp_example_com_weather_ip:10m rate=10r\/s;/, "the stack's default for the others");
});

test("order: the servers deploy one after the other, the gateway after all of them, the certificate after the gateway", () => {
  const deps = (name: string) => rec.named(name).options.dependencies.join(" ");
  assert.match(deps("prod-notes-deploy-deploy"), /prod-weather-deploy-deploy/);
  assert.match(deps("prod-search-deploy-deploy"), /prod-notes-deploy-deploy/);
  for (const name of NAMES) assert.match(deps("prod-deploy-deploy"), new RegExp(`prod-${name}-deploy-deploy`));
  assert.match(deps("prod-deploy-certificate"), /prod-deploy-deploy/);
});
