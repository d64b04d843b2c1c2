// The cloud's long-lived services for the rehearsal, held by one detached supervisor process so that they
// outlive `npm run rehearse` (a second run redeploys against the same registry and ACME CA) and stop together:
// the container registry (image push target), pebble + challtestsrv (ACME CA and DNS), the upstream
// forecast API the server's weather tool and deep /health call (the internet's part), and where alerts are delivered
// (an HTTP receiver and an SMTP server, for the alert drill). Uses the shared
// helpers' own start/stop. `startServices()` spawns it (or finds it running) and returns where things are;
// `stopServices()` ends it by PID.
import { randomBytes } from "node:crypto";
import { writeFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDaemon, waitFor } from "../test/support/proc.ts";
import { startRegistry } from "../test/support/registry.ts";
import { startPebble } from "../test/support/acme.ts";
import { startUpstreamStub } from "../test/support/upstream-stub.ts";
import { startAlertReceiver } from "../test/support/alert-receiver.ts";
import { startSmtpSink } from "../test/support/smtp-sink.ts";
import { readJson, writeJson, pidAlive, stopPid, ensureStateDir } from "./state.ts";

export interface ServicesInfo {
  pid: number;
  /** "127.0.0.1:PORT" */
  registry: string;
  acme: { directoryUrl: string; caCertPath: string; managementUrl: string; httpPort: number; rootPemPath: string };
  /** Base URL of the upstream forecast API stand-in (UPSTREAM_URL for the server). */
  upstreamUrl: string;
  /**
   * Where the droplet's Alertmanager delivers (the alert drill): an HTTP receiver (webhook, Slack, PagerDuty paths;
   * `GET <url>/__received` lists what arrived, SMTP messages included) and an SMTP server with AUTH PLAIN.
   */
  alerts: { receiverUrl: string; smtpPort: number; smtpUsername: string; smtpPassword: string };
}

const infoFile = (stateDir: string) => join(stateDir, "services.json");

/** Returns the running supervisor's info, starting it when none answers. */
export async function startServices(stateDir: string, acmeHttpPort: number): Promise<ServicesInfo> {
  ensureStateDir(stateDir);
  const known = readJson<ServicesInfo>(infoFile(stateDir));
  if (known && pidAlive(known.pid)) return known;
  rmSync(infoFile(stateDir), { force: true });
  const d = startDaemon(process.execPath, [fileURLToPath(import.meta.url), stateDir, String(acmeHttpPort)],
    join(stateDir, "services.log"), { cwd: process.cwd() });
  try {
    return await waitFor("the rehearsal services (registry, pebble) to start", () => {
      if (!pidAlive(d.pid)) throw new Error(`services supervisor exited:\n${d.log()}`);
      return readJson<ServicesInfo>(infoFile(stateDir));
    }, { timeoutMs: 60_000, intervalMs: 200 });
  } catch (e) {
    await d.stop();
    throw e;
  }
}

export async function stopServices(stateDir: string): Promise<void> {
  const known = readJson<ServicesInfo>(infoFile(stateDir));
  if (known) await stopPid(known.pid, 30_000);
  rmSync(infoFile(stateDir), { force: true });
}

async function supervise(stateDir: string, acmeHttpPort: number): Promise<void> {
  const registry = await startRegistry();
  const pebble = await startPebble({ httpPort: acmeHttpPort }).catch(async (e: unknown) => { await registry.stop(); throw e; });
  // Slow answers take 2.5 s: over the alert drill's 1 s latency SLA, under the server's 5 s upstream timeout.
  const upstream = await startUpstreamStub({ slowMs: 2500 });
  const smtpCreds = { username: "alerts", password: randomBytes(12).toString("hex") };
  const smtp = await startSmtpSink(smtpCreds);
  const receiver = await startAlertReceiver(() => ({ smtp: smtp.messages, smtpAuthFailures: smtp.authFailures }));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.all([receiver.stop(), smtp.stop()]).catch(() => undefined);
    await upstream.stop().catch(() => undefined);
    await pebble.stop().catch(() => undefined);
    await registry.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  const rootPemPath = join(stateDir, "acme-root.pem");
  writeFileSync(rootPemPath, await pebble.rootCaPem(), { mode: 0o644 });
  const info: ServicesInfo = {
    pid: process.pid, registry: registry.address,
    acme: { directoryUrl: pebble.directoryUrl, caCertPath: pebble.caCertPath, managementUrl: pebble.managementUrl,
      httpPort: pebble.httpPort, rootPemPath },
    upstreamUrl: upstream.url,
    alerts: { receiverUrl: receiver.url, smtpPort: smtp.port, smtpUsername: smtpCreds.username, smtpPassword: smtpCreds.password },
  };
  writeJson(infoFile(stateDir), info);
  // Stay alive until told to stop; the timer keeps the event loop busy.
  setInterval(() => { if (!existsSync(stateDir)) void stop(); }, 5_000);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [stateDir, port] = process.argv.slice(2);
  if (!stateDir || !port) { console.error("usage: node rehearsal/services.ts STATE_DIR ACME_HTTP_PORT"); process.exit(2); }
  supervise(stateDir, Number(port)).catch((e: unknown) => { console.error(e); process.exit(1); });
}
