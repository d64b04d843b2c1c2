// A private nginx for tests: temp prefix, its own pid file, logs and temp paths, run as a foreground master
// (stopped by PID). The wrapper nginx.conf mirrors the http{} level of Debian's stock nginx.conf (including its
// permissive ssl_protocols) and includes the rendered site file unchanged, as sites-enabled/* does in production.
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, readFileSync, rmSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, runOk, startDaemon, waitFor, type RunResult } from "./proc.ts";

/**
 * A self-signed ECDSA P-256 certificate for `domain` (SAN included) where certbot keeps it:
 * `<certbotConfigDir>/live/<domain>/{privkey,fullchain}.pem`. Returns that live directory.
 */
export async function selfSignedCertbotLive(certbotConfigDir: string, domain: string): Promise<string> {
  const live = join(certbotConfigDir, "live", domain);
  mkdirSync(live, { recursive: true });
  await runOk("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
    "-keyout", join(live, "privkey.pem"), "-out", join(live, "fullchain.pem"), "-subj", `/CN=${domain}`, "-addext", `subjectAltName=DNS:${domain}`]);
  return live;
}

export interface PrivateNginx {
  prefix: string;
  confPath: string;
  sitePath: string;
  errorLogPath: string;
  /** Master process id (changes only on restart, not on reload). */
  pid(): number;
  /** argv that tests the config / reloads this instance (for a rendered deploy hook). */
  testCommand: string[];
  reloadCommand: string[];
  /** Writes the site file (does not reload). */
  writeSite(content: string): void;
  reload(): Promise<void>;
  errorLog(): string;
  stop(): Promise<void>;
}

/** Writes the wrapper nginx.conf for a site file under `prefix` and returns its path. */
export function writeWrapperConf(prefix: string, sitePath: string): string {
  for (const d of ["logs", "tmp"]) mkdirSync(join(prefix, d), { recursive: true });
  chmodSync(prefix, 0o755);
  const tmp = (n: string) => `${n}_temp_path ${join(prefix, "tmp", n)};`;
  const conf = `pid ${join(prefix, "nginx.pid")};
worker_processes 1;
error_log ${join(prefix, "logs", "error.log")} notice;
events { worker_connections 512; }
http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log ${join(prefix, "logs", "access.log")};
    gzip on;
    ${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(tmp).join("\n    ")}
    include ${sitePath};
}
`;
  const confPath = join(prefix, "nginx.conf");
  writeFileSync(confPath, conf);
  return confPath;
}

/** `nginx -t` of a site file inside a throw-away wrapper. */
export async function nginxTest(site: string): Promise<RunResult> {
  const prefix = mkdtempSync(join(tmpdir(), "nginx-t-"));
  try {
    const sitePath = join(prefix, "site.conf");
    writeFileSync(sitePath, site);
    const conf = writeWrapperConf(prefix, sitePath);
    return await run("nginx", ["-t", "-p", prefix, "-c", conf, "-e", join(prefix, "logs", "error.log")]);
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}

/**
 * `nginx -t` of a site file dropped into a copy of the host's stock Debian/Ubuntu nginx.conf (sites-enabled/, next
 * to the stock default site), with /etc/nginx, /var/log/nginx and the pid file moved under a temp dir.
 */
export async function nginxTestInStockConf(site: string): Promise<RunResult> {
  const root = mkdtempSync(join(tmpdir(), "nginx-stock-"));
  try {
    const conf = readFileSync("/etc/nginx/nginx.conf", "utf8").replaceAll("/etc/nginx/", `${root}/`)
      .replaceAll("/var/log/nginx/", `${root}/logs/`).replace("/run/nginx.pid", `${root}/nginx.pid`);
    for (const d of ["conf.d", "modules-enabled", "sites-enabled", "logs"]) mkdirSync(join(root, d));
    writeFileSync(join(root, "nginx.conf"), conf);
    copyFileSync("/etc/nginx/mime.types", join(root, "mime.types"));
    copyFileSync("/etc/nginx/sites-available/default", join(root, "sites-enabled", "default"));
    writeFileSync(join(root, "sites-enabled", "selfhosted-mcp.conf"), site);
    return await run("nginx", ["-t", "-p", root, "-c", join(root, "nginx.conf"), "-e", join(root, "logs", "error.log")]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Starts nginx with `site` (content) in a fresh prefix; waits until the pid file names the master. */
export async function startPrivateNginx(site: string, opts: { prefix?: string } = {}): Promise<PrivateNginx> {
  const prefix = opts.prefix ?? mkdtempSync(join(tmpdir(), "nginx-"));
  const sitePath = join(prefix, "site.conf");
  writeFileSync(sitePath, site);
  const confPath = writeWrapperConf(prefix, sitePath);
  const errorLogPath = join(prefix, "logs", "error.log");
  const base = ["-p", prefix, "-c", confPath, "-e", errorLogPath];
  await runOk("nginx", ["-t", "-q", ...base]);
  const daemon = startDaemon("nginx", [...base, "-g", "daemon off;"], join(prefix, "logs", "stderr.log"));
  const pidFile = join(prefix, "nginx.pid");
  await waitFor("private nginx pid file", () => {
    try { return Number(readFileSync(pidFile, "utf8").trim()) === daemon.pid; } catch { return false; }
  }, { timeoutMs: 10_000, intervalMs: 50 });
  const reloadCommand = ["nginx", "-s", "reload", ...base];
  return {
    prefix, confPath, sitePath, errorLogPath,
    pid: () => Number(readFileSync(pidFile, "utf8").trim()),
    testCommand: ["nginx", "-t", "-q", ...base],
    reloadCommand,
    writeSite: (content) => writeFileSync(sitePath, content),
    async reload() {
      await runOk("nginx", ["-t", "-q", ...base]);
      await runOk(reloadCommand[0]!, reloadCommand.slice(1));
    },
    errorLog: () => { try { return readFileSync(errorLogPath, "utf8"); } catch { return ""; } },
    async stop() {
      await daemon.stop("SIGQUIT");
      await daemon.stop();
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
