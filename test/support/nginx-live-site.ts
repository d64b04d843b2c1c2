// The live site the test/nginx/live-*.test.ts files share, with real programs only: a private nginx (Debian's) runs
// the rendered HTTP-only site, certbot gets a certificate from pebble through the rendered ACME location and the
// rendered issuance script (with the rendered deploy hook), the TLS phase is rendered and nginx reloaded, and the
// reference MCP server sits behind it (its forecast API a local stub; one server behind a TCP relay that counts
// upstream connections). Each test file starts its own (describeLiveSite: started before its tests, stopped after).
import { describe, before, after } from "node:test";
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  renderNginxConfig, renderUpstreamInclude, upstreamIncludePath, renderCertbotIssueScript, renderDeployHook, type SiteOptionsInput,
} from "../../nginx/index.ts";
import { startPebble, startPrivateNginx, type Pebble, type PrivateNginx } from "./acme.ts";
import { httpsClient, type HttpsClient } from "./https-client.ts";
import { startServer, type RunningServer } from "./server.ts";
import { startUpstreamStub, type UpstreamStub } from "./upstream-stub.ts";
import { startTcpRelay, type TcpRelay } from "../nginx/tcp-relay.ts";
import { freePort, runOk, waitFor } from "./proc.ts";

export const DOMAIN = "mcp.example.test";
export const KEY_A = "key-a-0123456789abcdef0123456789abcdef";
export const KEY_B = "key-b-fedcba9876543210fedcba9876543210";
export const INIT = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
export const FORECAST = { latitude: 52.52, longitude: 13.41, days: 2 };
/** How long the stub holds a forecast in "slow" mode: get_forecast's progress 1 comes before it, the result after. */
export const SLOW_MS = 2000;

/** The JSON-RPC messages of an SSE body (`event: message` / `data: {...}` blocks). */
export const sseMessages = (text: string) => text.split("\n\n").filter((e) => e.trim()).map((e) =>
  JSON.parse(e.slice(e.indexOf("data: ") + 6)) as { method?: string; id?: number; params?: { progress: number }; result?: unknown });

/**
 * Servers of the site: `main` at /mcp (high limits, 64k bodies), `relay` behind the TCP relay, and one per limit
 * under test: `ip` (1r/m burst 4), `cred` (per credential 1r/m burst 2), `conn` (2 connections per IP).
 */
const SERVERS: SiteOptionsInput["servers"] = [
  { name: "main", path: "/mcp", limits: { perIp: { rate: "50r/s", burst: 100 }, perCredential: { rate: "50r/s", burst: 100 }, maxBodySize: "64k" } },
  { name: "relay", limits: { perIp: { rate: "50r/s", burst: 100 } } },
  { name: "ip", limits: { perIp: { rate: "1r/m", burst: 4 }, perCredential: false } },
  { name: "cred", limits: { perIp: false, perCredential: { rate: "1r/m", burst: 2 } } },
  { name: "conn", limits: { perIp: { rate: "50r/s", burst: 100 }, connectionsPerIp: 2 } },
];

export interface LiveSite {
  work: string; httpPort: number; httpsPort: number; site: Omit<SiteOptionsInput, "phase">;
  pebble: Pebble; nginx: PrivateNginx; server: RunningServer; stub: UpstreamStub; relay: TcpRelay; client: HttpsClient;
  certbot: ReturnType<Pebble["certbotDirs"]>; hookPath: string;
  origin(): string;
  /** POST to the site (JSON-RPC ping by default). */
  post(path: string, headers?: Record<string, string>, body?: string): Promise<Response>;
  /** A connected MCP SDK client on `path`, recording each response's content type. */
  mcpClient(path: string, token?: string, headers?: Record<string, string>): Promise<{ mcp: Client; responses: Array<{ call: string; contentType: string }> }>;
}

/** Starts the whole site (ends serving TLS); on a failure, stops what it started and rethrows. */
export async function startLiveSite(): Promise<LiveSite> {
  const s = {} as LiveSite;
  try {
    s.work = mkdtempSync(join(tmpdir(), "nginx-live-"));
    chmodSync(s.work, 0o755);
    [s.httpPort, s.httpsPort] = [await freePort(), await freePort()];
    s.origin = () => `https://${DOMAIN}:${s.httpsPort}`;
    s.pebble = await startPebble({ httpPort: s.httpPort });
    s.stub = await startUpstreamStub({ slowMs: SLOW_MS });
    // debug: the server logs the headers of every request it gets (authorization redacted), i.e. what nginx sent.
    s.server = await startServer({ AUTH_MODE: "api-key", API_KEYS: `${KEY_A},${KEY_B}`, PUBLIC_URL: s.origin(), UPSTREAM_URL: s.stub.url, HEALTH_CACHE_MS: "1000", LOG_LEVEL: "debug" });
    s.relay = await startTcpRelay(s.server.port);
    s.certbot = s.pebble.certbotDirs();
    s.site = {
      domain: DOMAIN, listenAddresses: ["127.0.0.1"], httpPort: s.httpPort, httpsPort: s.httpsPort,
      acmeWebroot: join(s.work, "webroot"), certbotConfigDir: s.certbot.configDir, upstreamIncludeDir: s.work,
      accessLog: join(s.work, "access.log"), errorLog: join(s.work, "error.log"), servers: SERVERS,
    };
    for (const { name } of SERVERS) {
      const port = name === "relay" ? s.relay.port : s.server.port;
      writeFileSync(upstreamIncludePath(name, s.work), renderUpstreamInclude({ port, comment: `test slot ${port}` }));
    }
    s.nginx = await startPrivateNginx(renderNginxConfig({ ...s.site, phase: "http-only" }));

    s.hookPath = join(s.work, "deploy-hook.sh");
    writeFileSync(s.hookPath, renderDeployHook({ testCommand: s.nginx.testCommand, reloadCommand: s.nginx.reloadCommand }), { mode: 0o755 });
    const issue = join(s.work, "issue.sh");
    writeFileSync(issue, renderCertbotIssueScript({
      domain: DOMAIN, email: "ops@example.test", acmeServer: s.pebble.directoryUrl, acmeWebroot: s.site.acmeWebroot,
      certbotConfigDir: s.certbot.configDir, certbotWorkDir: s.certbot.workDir, certbotLogsDir: s.certbot.logsDir,
      deployHookPath: s.hookPath,
    }), { mode: 0o755 });
    const t0 = Date.now();
    await runOk("sh", [issue], { env: { ...process.env, ...s.pebble.certbotEnv }, timeoutMs: 120_000 });
    console.log(`# certbot issuance through nginx's ACME location: ${Date.now() - t0} ms`);

    s.nginx.writeSite(renderNginxConfig({ ...s.site, phase: "tls" }));
    await s.nginx.reload();
    s.client = httpsClient({ ca: await s.pebble.rootCaPem(), servername: DOMAIN });
    await waitFor("nginx serving TLS", async () => (await s.client.fetch(`${s.origin()}/nope`)).status === 404, { timeoutMs: 10_000 });
  } catch (e) {
    await stopLiveSite(s);
    throw e;
  }
  s.post = (path, headers = {}, body = INIT) => s.client.fetch(`${s.origin()}${path}`, {
    method: "POST", body, headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
  });
  s.mcpClient = async (path, token, headers = {}) => {
    const responses: Array<{ call: string; contentType: string }> = []; // call: the JSON-RPC method, else the HTTP method
    const recording: FetchLike = async (url, init) => {
      const r = await s.client.fetch(url, init);
      const rpc = typeof init?.body === "string" ? (JSON.parse(init.body) as { method?: string }).method : undefined;
      responses.push({ call: rpc ?? init?.method ?? "GET", contentType: r.headers.get("content-type") ?? "" });
      return r;
    };
    const transport = new StreamableHTTPClientTransport(new URL(`${s.origin()}${path}`), {
      fetch: recording, requestInit: { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } },
    });
    const mcp = new Client({ name: "nginx-live-test", version: "1.0.0" });
    await mcp.connect(transport);
    return { mcp, responses };
  };
  return s;
}

/** Stops everything the site started (each part only if it started), then removes its directory. */
export async function stopLiveSite(s: Partial<LiveSite> | undefined): Promise<void> {
  if (!s) return;
  await s.client?.close();
  await s.nginx?.stop();
  await s.server?.stop();
  await s.relay?.stop();
  await s.stub?.stop();
  await s.pebble?.stop();
  if (s.work) rmSync(s.work, { recursive: true, force: true });
}

/** describe(title) with a live site started before its tests and stopped after them; `live()` returns it. */
export function describeLiveSite(title: string, tests: (live: () => LiveSite) => void): void {
  describe(title, { timeout: 600_000 }, () => {
    let s: LiveSite | undefined;
    before(async () => { s = await startLiveSite(); });
    after(() => stopLiveSite(s));
    tests(() => s!);
  });
}
