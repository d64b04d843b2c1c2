// A private ACME CA on loopback: Debian's pebble (Let's Encrypt's test CA) plus pebble-challtestsrv as its DNS,
// which answers 127.0.0.1 for every name. HTTP-01 validation then reaches whatever serves `httpPort` on
// 127.0.0.1 (the private nginx in the tests). Recipe and gotchas: shared/LOCAL-INFRA.md.
// Every port is free-picked (pebble's httpPort too, unless given), every wait bounded, every daemon stopped by PID.
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, fetch } from "undici";
import { runOk, startDaemon, waitFor, freePort, distinctFreePorts, type Daemon } from "./proc.ts";

export { startPrivateNginx, type PrivateNginx } from "./nginx.ts";

export interface Pebble {
  /** ACME directory URL, e.g. https://127.0.0.1:PORT/dir — pass to certbot --server. */
  directoryUrl: string;
  /** Pebble's own TLS certificate (for its API); certbot needs REQUESTS_CA_BUNDLE=caCertPath. */
  caCertPath: string;
  /** Port pebble's VA connects to for HTTP-01 (on 127.0.0.1 via challtestsrv's DNS). */
  httpPort: number;
  /** Base URL of pebble's management API (roots, intermediates, cert status). */
  managementUrl: string;
  /** Environment for certbot: REQUESTS_CA_BUNDLE pointing at caCertPath. */
  certbotEnv: Record<string, string>;
  /** PEM of the root that issued (and will issue) certificates in this pebble run. Trust it in TLS clients. */
  rootCaPem(): Promise<string>;
  /**
   * A fresh set of certbot directories for this pebble run (pebble forgets accounts when it restarts) and the
   * matching argv: --server, --config-dir, --work-dir, --logs-dir.
   */
  certbotDirs(): { configDir: string; workDir: string; logsDir: string; args: string[] };
  stop(): Promise<void>;
}

export interface PebbleOptions {
  /** Port pebble's VA uses for HTTP-01 validation; default: a free port (production uses 80). */
  httpPort?: number;
}

/** Starts pebble-challtestsrv and pebble on free loopback ports and waits until pebble's directory answers. */
export async function startPebble(opts: PebbleOptions = {}): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), "pebble-"));
  const [listenPort, mgmtPort, dnsPort, challMgmtPort, tlsPort] = await distinctFreePorts(5);
  const httpPort = opts.httpPort ?? (await freePort());
  const caCertPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  await runOk("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", caCertPath,
    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]);
  writeFileSync(join(dir, "pebble.json"), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${listenPort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: caCertPath, privateKey: keyPath, httpPort, tlsPort,
      ocspResponderURL: "", externalAccountBindingRequired: false,
    },
  }));

  const daemons: Daemon[] = [];
  const stop = async () => {
    for (const d of daemons.reverse()) await d.stop();
    daemons.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    daemons.push(startDaemon("pebble-challtestsrv", ["-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
      "-dns01", `127.0.0.1:${dnsPort}`, "-http01", "", "-https01", "", "-tlsalpn01", "",
      "-management", `127.0.0.1:${challMgmtPort}`], join(dir, "challtestsrv.log")));
    daemons.push(startDaemon("pebble", ["-config", join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${dnsPort}`],
      join(dir, "pebble.log"), { env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" } }));
    const ca = readFileSync(caCertPath, "utf8");
    const agent = new Agent({ connect: { ca } });
    const directoryUrl = `https://127.0.0.1:${listenPort}/dir`;
    const managementUrl = `https://127.0.0.1:${mgmtPort}`;
    await waitFor("pebble's ACME directory", async () => (await fetch(directoryUrl, { dispatcher: agent })).ok,
      { timeoutMs: 20_000 });
    await waitFor("challtestsrv's management API", async () => {
      const r = await fetch(`http://127.0.0.1:${challMgmtPort}/`, { method: "GET" });
      return r.status > 0;
    }, { timeoutMs: 10_000 });
    let certbotRuns = 0;
    return {
      directoryUrl, caCertPath, httpPort, managementUrl,
      certbotEnv: { REQUESTS_CA_BUNDLE: caCertPath },
      async rootCaPem() {
        const r = await fetch(`${managementUrl}/roots/0`, { dispatcher: agent });
        if (!r.ok) throw new Error(`pebble /roots/0 answered ${r.status}`);
        return r.text();
      },
      certbotDirs() {
        const base = join(dir, `certbot-${++certbotRuns}`);
        const d = { configDir: join(base, "conf"), workDir: join(base, "work"), logsDir: join(base, "logs") };
        for (const p of Object.values(d)) mkdirSync(p, { recursive: true });
        return { ...d, args: ["--server", directoryUrl, "--config-dir", d.configDir, "--work-dir", d.workDir,
          "--logs-dir", d.logsDir] };
      },
      stop,
    };
  } catch (e) {
    const logs = daemons.map((d) => `--- ${d.logFile}\n${d.log()}`).join("\n");
    await stop();
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
}
