// Several servers under OAuth behind a real nginx (issue 17): the gateway's site (rendered with a route per server) in
// front of a real gateway process (AUTH_MODE=oauth) and a real reference server (AUTH_MODE=oauth with the gateway's
// token in API_KEYS, PUBLIC_URL https://<domain>/weather), each on its live.sock as deployed. Over HTTPS: each
// resource's RFC 9728 metadata at its path-suffixed URL (§3.1) names that resource; a 401 on each route points at its
// own metadata; a token for https://<domain>/weather/mcp works on the route, a token for https://<domain>/mcp with
// the server's scope works through the gateway, and neither works on the other resource.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderDeploymentPlan } from "../../infra/render/deployment-plan.ts";
import { startPrivateNginx, type PrivateNginx } from "../support/nginx.ts";
import { httpsClient, type HttpsClient } from "../support/https-client.ts";
import { runOk, distinctFreePorts } from "../support/proc.ts";
import { startServer, type RunningServer } from "../support/server.ts";
import { startGateway } from "../support/gateway.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { startIssuer, type Issuer } from "../server/jwks.ts";
import { connect, call, initializeBody, MCP_HEADERS } from "../server/mcp-client.ts";

const DOMAIN = "mcp.example.test";
const BASE = `https://${DOMAIN}`;
const TOKEN = "gateway-token-weather-0123456789";
const dir = mkdtempSync(join(tmpdir(), "nginx-routes-oauth-"));
chmodSync(dir, 0o755);
let nginx: PrivateNginx, client: HttpsClient, issuer: Issuer, stub: UpstreamStub;
let weather: RunningServer, gw: RunningServer;

/** The live.sock of deployment `app`, and its upstream include in the site's include directory. */
function slotSocket(app: string): string {
  const p = renderDeploymentPlan({ app, domain: DOMAIN, image: `x@sha256:${"0".repeat(64)}`, port: 8000, metricsPort: 9090,
    acmeEmail: "ops@example.test", site: false, stateDir: join(dir, "state", app) });
  mkdirSync(p.socketDir, { recursive: true });
  writeFileSync(join(dir, "upstreams", `${app}.upstream.conf`), p.files["upstream.conf"]);
  return join(p.socketDir, "live.sock");
}

before(async () => {
  const live = join(dir, "letsencrypt", "live", DOMAIN);
  mkdirSync(live, { recursive: true });
  mkdirSync(join(dir, "upstreams"));
  await runOk("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
    "-keyout", join(live, "privkey.pem"), "-out", join(live, "fullchain.pem"), "-subj", `/CN=${DOMAIN}`, "-addext", `subjectAltName=DNS:${DOMAIN}`]);
  [issuer, stub] = await Promise.all([startIssuer("unused"), startUpstreamStub()]);
  const oauth = { AUTH_MODE: "oauth", OAUTH_ISSUER: issuer.issuer, OAUTH_JWKS_URL: issuer.jwksUrl, OAUTH_METADATA_CHECK: "off" };
  const weatherSocket = slotSocket("weather");
  weather = await startServer({ ...oauth, UPSTREAM_URL: stub.url, PUBLIC_URL: `${BASE}/weather`, LISTEN_SOCKET: weatherSocket, API_KEYS: TOKEN });
  gw = await startGateway({ weather: "http://localhost/mcp" }, {
    ...oauth, PUBLIC_URL: BASE, LISTEN_SOCKET: slotSocket("gw"), UPSTREAM_WEATHER_SOCKET: weatherSocket, UPSTREAM_WEATHER_TOKEN: TOKEN,
  });
  const [httpPort, httpsPort] = await distinctFreePorts(2);
  const plan = renderDeploymentPlan({
    app: "gw", domain: DOMAIN, image: `x@sha256:${"0".repeat(64)}`, port: 8000, metricsPort: 9090, acmeEmail: "ops@example.test",
    certbotConfigDir: join(dir, "letsencrypt"), stateDir: join(dir, "state", "gw"),
    nginx: { upstreamIncludeDir: join(dir, "upstreams"), acmeWebroot: join(dir, "webroot"), listenAddresses: ["127.0.0.1"], httpPort: httpPort!, httpsPort: httpsPort!,
      accessLog: join(dir, "access.log"), errorLog: join(dir, "error.log") },
    routes: [{ name: "weather" }],
  });
  nginx = await startPrivateNginx(plan.files["nginx-tls.conf"]);
  client = httpsClient({ ca: readFileSync(join(live, "fullchain.pem"), "utf8"), servername: DOMAIN, ports: { 443: httpsPort! } });
});

after(async () => {
  await client?.close();
  await nginx?.stop();
  await Promise.allSettled([gw?.stop(), weather?.stop(), issuer?.stop(), stub?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

test("RFC 9728 §3.1: each resource's metadata at its path-suffixed URL, served by that resource", async () => {
  const metadata = async (path: string) => {
    const r = await client.fetch(`${BASE}/.well-known/oauth-protected-resource${path}`);
    assert.equal(r.status, 200, path);
    return await r.json() as { resource: string; authorization_servers: string[]; scopes_supported: string[] };
  };
  const own = await metadata("/weather/mcp");
  assert.equal(own.resource, `${BASE}/weather/mcp`);
  assert.deepEqual(own.authorization_servers, [issuer.issuer]);
  assert.deepEqual(own.scopes_supported, ["mcp:tools"]);
  const gateway = await metadata("/mcp");
  assert.equal(gateway.resource, `${BASE}/mcp`);
  assert.deepEqual(gateway.scopes_supported, ["mcp:server:weather"]);
});

test("a 401 on each route names that route's own metadata URL", async () => {
  for (const path of ["/mcp", "/weather/mcp"]) {
    const r = await client.fetch(`${BASE}${path}`, { method: "POST", headers: MCP_HEADERS, body: initializeBody });
    assert.equal(r.status, 401, path);
    assert.ok((r.headers.get("www-authenticate") ?? "").includes(`resource_metadata="${BASE}/.well-known/oauth-protected-resource${path}"`), path);
    await r.arrayBuffer();
  }
});

test("a token for the route's resource works on the route; a gateway token with the server's scope works through the gateway; not crosswise", async () => {
  const routeToken = await issuer.sign({ aud: `${BASE}/weather/mcp` });
  const gatewayToken = await issuer.sign({ aud: `${BASE}/mcp`, scope: "mcp:server:weather" });
  const direct = await connect(`${BASE}/weather/mcp`, { authorization: `Bearer ${routeToken}` }, client.fetch);
  const viaGateway = await connect(`${BASE}/mcp`, { authorization: `Bearer ${gatewayToken}` }, client.fetch);
  try {
    assert.equal((await call(direct, "search_notes", { query: "x" })).isError, undefined);
    assert.ok((await viaGateway.listTools()).tools.some((t) => t.name === "weather__search_notes"));
    assert.equal((await call(viaGateway, "weather__search_notes", { query: "x" })).isError, undefined);
  } finally { await Promise.allSettled([direct.close(), viaGateway.close()]); }
  for (const [path, token] of [["/mcp", routeToken], ["/weather/mcp", gatewayToken]] as const) {
    const r = await client.fetch(`${BASE}${path}`, { method: "POST", headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: initializeBody });
    assert.equal(r.status, 401, `${path}: another resource's token`);
    await r.arrayBuffer();
  }
});
