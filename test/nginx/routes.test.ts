// Several servers behind one site (issue 17): the site the gateway's deployment renders (routes to each server) passes
// `nginx -t` in both phases, and a real nginx routes https://<domain>/mcp to the gateway's socket, /<name>/mcp and
// /<name>/health to each server's, and the RFC 9728 path-suffixed metadata URL to the server it describes, with the
// path unchanged; each server's route has its own rate-limit zone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderDeploymentPlan } from "../../infra/render/deployment-plan.ts";
import { nginxTest, nginxTestInStockConf, startPrivateNginx, selfSignedCertbotLive, type PrivateNginx } from "../support/nginx.ts";
import { httpsClient, type HttpsClient } from "../support/https-client.ts";
import { distinctFreePorts } from "../support/proc.ts";

const DOMAIN = "mcp.example.test";
const NAMES = ["gw", "weather", "notes"];
const dir = mkdtempSync(join(tmpdir(), "nginx-routes-"));
chmodSync(dir, 0o755);
let nginx: PrivateNginx;
let client: HttpsClient;
let httpsPort: number;
const upstreams: Server[] = [];

function plan(httpPort: number, tlsPort: number) {
  return renderDeploymentPlan({
    app: "gw", domain: DOMAIN, image: `x@sha256:${"0".repeat(64)}`, port: 8000, metricsPort: 9090, acmeEmail: "ops@example.test",
    certbotConfigDir: join(dir, "letsencrypt"), stateDir: join(dir, "state", "gw"),
    nginx: { upstreamIncludeDir: join(dir, "upstreams"), acmeWebroot: join(dir, "webroot"), listenAddresses: ["127.0.0.1"], httpPort, httpsPort: tlsPort,
      accessLog: join(dir, "access.log"), errorLog: join(dir, "error.log") },
    routes: [{ name: "weather" }, { name: "notes", limits: { perIp: { rate: "1r/m", burst: 0 } } }],
  });
}

before(async () => {
  await selfSignedCertbotLive(join(dir, "letsencrypt"), DOMAIN);
  mkdirSync(join(dir, "upstreams"));
  // Each deployment's upstream include names its live.sock (what the site-less deploys install), served here by a
  // stand-in that answers with its name and the path it received.
  for (const name of NAMES) {
    const p = renderDeploymentPlan({ app: name, domain: DOMAIN, image: `x@sha256:${"0".repeat(64)}`, port: 8000, metricsPort: 9090,
      acmeEmail: "ops@example.test", site: false, stateDir: join(dir, "state", name) });
    const socket = join(p.socketDir, "live.sock");
    mkdirSync(p.socketDir, { recursive: true });
    writeFileSync(join(dir, "upstreams", `${name}.upstream.conf`), p.files["upstream.conf"]);
    const server = createServer((req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ server: name, path: req.url })));
    await new Promise<void>((r) => server.listen(socket, r));
    chmodSync(socket, 0o666);
    upstreams.push(server);
  }
  const [httpPort, tlsPort] = await distinctFreePorts(2);
  httpsPort = tlsPort!;
  nginx = await startPrivateNginx(plan(httpPort!, httpsPort).files["nginx-tls.conf"]);
  client = httpsClient({ ca: readFileSync(join(dir, "letsencrypt", "live", DOMAIN, "fullchain.pem"), "utf8"), servername: DOMAIN, ports: { 443: httpsPort } });
});
after(async () => {
  await client?.close();
  await nginx?.stop();
  for (const s of upstreams) s.close();
  rmSync(dir, { recursive: true, force: true });
});

test("nginx -t accepts the gateway's site with routes, both phases, alone and in the stock nginx.conf", async () => {
  const p = plan(8080, 8443);
  for (const site of [p.files["nginx-http.conf"], p.files["nginx-tls.conf"]]) {
    for (const check of [nginxTest, nginxTestInStockConf]) {
      const r = await check(site);
      assert.equal(r.code, 0, r.stderr);
    }
  }
});

test("routes: /mcp to the gateway, /<name>/mcp and /<name>/health to each server, RFC 9728 metadata path-suffixed to its server", async () => {
  const get = async (path: string, init: RequestInit = {}) => {
    const r = await client.fetch(`https://${DOMAIN}${path}`, init);
    return { status: r.status, body: await r.json() as { server: string; path: string } };
  };
  const post = { method: "POST", headers: { "content-type": "application/json" }, body: "{}" };
  assert.deepEqual((await get("/mcp", post)).body, { server: "gw", path: "/mcp" });
  assert.deepEqual((await get("/health")).body, { server: "gw", path: "/health" });
  assert.deepEqual((await get("/weather/mcp", post)).body, { server: "weather", path: "/mcp" });
  assert.deepEqual((await get("/weather/health")).body, { server: "weather", path: "/health" });
  assert.deepEqual((await get("/.well-known/oauth-protected-resource/weather/mcp")).body,
    { server: "weather", path: "/.well-known/oauth-protected-resource/weather/mcp" });
  assert.deepEqual((await get("/.well-known/oauth-protected-resource/mcp")).body, { server: "gw", path: "/.well-known/oauth-protected-resource/mcp" });
  assert.equal((await client.fetch(`https://${DOMAIN}/search/mcp`, post)).status, 404, "no route for a server that is not listed");
});

test("rate limits per server: notes' own zone (1r/m) answers 429 while weather's is untouched", async () => {
  const post = { method: "POST", headers: { "content-type": "application/json" }, body: "{}" };
  const status = async (path: string) => (await client.fetch(`https://${DOMAIN}${path}`, post)).status;
  assert.equal(await status("/notes/mcp"), 200);
  assert.equal(await status("/notes/mcp"), 429);
  for (let i = 0; i < 3; i++) assert.equal(await status("/weather/mcp"), 200);
});
