// Contender (c)'s front: Debian's nginx with the site config rendered by renderNginxConfig (TLS phase) in a private
// prefix, a self-signed certificate placed where certbot would put it, and the rate limits raised so they are
// evaluated on every request but never trigger during a benchmark. The upstream is what McpDeployment renders — a
// unix socket, upstream connections reused for at most 1 s — unless a TCP port is given (reused without a bound).
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderNginxConfig, renderUpstreamInclude, upstreamIncludePath, type SiteOptionsInput } from "../nginx/index.ts";
import { startPrivateNginx } from "../test/support/nginx.ts";
import { UPSTREAM_REUSE_SECONDS } from "../infra/render/deployment-plan.ts";
import { freePort, runOk } from "../test/support/proc.ts";

export const BENCH_DOMAIN = "mcp.example.test";

export interface TlsFront { url: string; port: number; pid(): number; stop(): Promise<void> }

type Limits = NonNullable<SiteOptionsInput["servers"][number]["limits"]>;

/**
 * `tuning.limits`: the server's nginx limits; default: raised so that they never trigger (throughput benchmarks).
 * `tuning.timeouts`: the site's client timeouts (renderer defaults when absent).
 */
export async function startTlsFront(upstream: { socket: string } | { port: number },
  tuning: { limits?: Limits; timeouts?: SiteOptionsInput["timeouts"] } = {}): Promise<TlsFront> {
  const limits = tuning.limits;
  const work = mkdtempSync(join(tmpdir(), "bench-nginx-"));
  chmodSync(work, 0o755);
  const live = join(work, "letsencrypt", "live", BENCH_DOMAIN);
  mkdirSync(live, { recursive: true });
  await runOk("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-keyout", join(live, "privkey.pem"), "-out", join(live, "fullchain.pem"), "-subj", `/CN=${BENCH_DOMAIN}`,
    "-addext", `subjectAltName=DNS:${BENCH_DOMAIN}`,
  ]);
  writeFileSync(upstreamIncludePath("main", work), renderUpstreamInclude({ ...upstream, comment: "bench" }));
  const keepalive = "socket" in upstream ? { keepaliveTimeSeconds: UPSTREAM_REUSE_SECONDS } : {};
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const high = { rate: "999999r/s", burst: 10_000 };
  const site = renderNginxConfig({
    domain: BENCH_DOMAIN, phase: "tls", listenAddresses: ["127.0.0.1"], httpPort, httpsPort,
    certbotConfigDir: join(work, "letsencrypt"), upstreamIncludeDir: work, acmeWebroot: join(work, "webroot"),
    accessLog: join(work, "access.log"), errorLog: join(work, "error.log"), ...(tuning.timeouts ? { timeouts: tuning.timeouts } : {}),
    servers: [{ name: "main", path: "/mcp", limits: { ...(limits ?? { perIp: high, perCredential: high, connectionsPerIp: 10_000 }), ...keepalive } }],
  });
  const nginx = await startPrivateNginx(site);
  return {
    url: `https://127.0.0.1:${httpsPort}/mcp`, port: httpsPort,
    pid: () => nginx.pid(),
    async stop() { await nginx.stop(); rmSync(work, { recursive: true, force: true }); },
  };
}
