// The optional smoke-test timer on the droplet (pure renderer): a systemd service + timer that run
// infra/monitoring/smoke-run.sh, and the remote scripts that install / remove them (infra/render/scripts/
// smoke-timer-{install,uninstall}.sh, rendered by renderScript with the paths and the file contents as inputs).
// The smoke CLI itself arrives as one bundled module (bundleSmokeCli) on the install script's stdin, after the token
// line; it runs with the `node` of a container image (the live server's by default), so the host needs nothing but
// Docker.
import { gzipSync } from "node:zlib";
import * as z from "zod";
import { appName, absPath, serverName } from "../../contract/values.ts";
import { parseArgs, InvalidArgsError, argIssue } from "../../contract/args-error.ts";
import { readPackageFile } from "../package-files.ts";
import { renderScript } from "../render/remote-script.ts";

export const smokeTimerSchema = z.object({
  /** The server's short name on the host (McpDeployment `app`): the live container is `<app>-<active slot>`. */
  app: appName,
  /** Public URL the smoke test checks, e.g. https://mcp.example.com. */
  url: z.url({ protocol: /^https?$/, error: "url must be an http(s) URL such as https://mcp.example.com" })
    .refine((u) => !/[%"'\\\s$`]/.test(u), "url must not contain %, quotes, backslashes, $, ` or spaces"),
  stateDir: absPath.optional(),
  unitDir: absPath.default("/etc/systemd/system"),
  /** How often the timer runs (systemd time span). */
  interval: z.string().regex(/^[1-9][0-9]*(s|min|h)$/, 'interval must be a systemd time span like "5min", "90s" or "1h"').default("5min"),
  minCertDays: z.number().int().min(0).max(90).default(7),
  /** node_exporter's textfile-collector directory to publish the metrics in (e.g. /var/lib/prometheus/node-exporter). */
  textfileDir: absPath.optional(),
  /** The install script reads a bearer token (first stdin line) and stores it as SMOKE_TOKEN in a 0600 env file. */
  withToken: z.boolean().default(false),
  /** One of several servers behind a gateway: its textfile series carry `server="<name>"` (smoke --metrics-server). */
  server: serverName.optional(),
  /**
   * A PEM bundle on the host the smoke test trusts besides Node's public roots (NODE_EXTRA_CA_CERTS, mounted read-only):
   * a private ACME CA's root (SelfHostedMcp passes `acme.caBundle`). Without it only publicly trusted certificates pass.
   */
  caBundle: absPath.optional(),
  /** Image whose `node` runs the smoke CLI; default: the image of the live slot's container. */
  runnerImage: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._\/:@-]*$/, "runnerImage must be an image reference such as node:24-bookworm-slim").optional(),
}).strict();

export type SmokeTimerOptions = z.input<typeof smokeTimerSchema>;

export interface SmokeTimer {
  unit: string;
  smokeDir: string;
  tokenFile?: string;
  service: string;
  timer: string;
  /** bash (renderScript "smoke-timer-install"; remoteCommand wraps it for SSH), run as root: reads
   *  smokeTimerStdin() (token line if withToken, then the bundle), writes the CLI, the run script and the units,
   *  enables the timer when systemd runs. */
  install: string;
  /** bash (renderScript "smoke-timer-uninstall"), run as root: disables the timer and removes what install wrote. */
  uninstall: string;
}

/** The script the service runs, installed as <smokeDir>/run-smoke.sh. */
const RUN_SCRIPT = "infra/monitoring/smoke-run.sh";

/** What the install script expects on stdin: the token line (when withToken), then the gzipped bundle in base64. */
export function smokeTimerStdin(bundle: string, token?: string): string {
  if (token !== undefined && (token === "" || /[\r\n]/.test(token))) throw new InvalidArgsError("McpSmokeTimer", [argIssue(["token"], "must be one non-empty line (an API key of the server)")]);
  return `${token !== undefined ? `${token}\n` : ""}${gzipSync(bundle).toString("base64")}\n`;
}

export function renderSmokeTimer(options: SmokeTimerOptions): SmokeTimer {
  const o = parseArgs("smoke timer", smokeTimerSchema, options);
  const stateDir = o.stateDir ?? `/var/lib/selfhosted-mcp/${o.app}`;
  const smokeDir = `${stateDir}/smoke`;
  const unit = `selfhosted-mcp-smoke-${o.app}`;
  const tokenFile = o.withToken ? `${stateDir}/smoke-token.env` : undefined;
  const env: Record<string, string> = {
    APP: o.app, STATE_DIR: stateDir, SMOKE_URL: o.url, SMOKE_DIR: smokeDir, METRICS_DIR: `${stateDir}/metrics`,
    MIN_CERT_DAYS: String(o.minCertDays), ...(o.textfileDir ? { TEXTFILE_DIR: o.textfileDir } : {}),
    ...(o.runnerImage ? { RUNNER_IMAGE: o.runnerImage } : {}), ...(o.server ? { SMOKE_SERVER: o.server } : {}),
    ...(tokenFile ? { TOKEN_ENV_FILE: tokenFile } : {}), ...(o.caBundle ? { CA_BUNDLE: o.caBundle } : {}),
  };
  const service = [
    "[Unit]",
    `Description=selfhosted-mcp smoke test of ${o.app} (${o.url})`,
    "Requires=docker.service",
    "After=docker.service network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    ...Object.entries(env).map(([k, v]) => `Environment=${k}=${v}`),
    `ExecStart=/bin/bash ${smokeDir}/run-smoke.sh`,
    `SyslogIdentifier=${unit}`,
    "TimeoutStartSec=180",
    "",
  ].join("\n");
  const timer = [
    "[Unit]",
    `Description=Run the selfhosted-mcp smoke test of ${o.app} every ${o.interval}`,
    "",
    "[Timer]",
    "OnBootSec=2min",
    `OnUnitActiveSec=${o.interval}`,
    "RandomizedDelaySec=30s",
    "AccuracySec=30s",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");

  // The remote scripts (infra/render/scripts/smoke-timer-*.sh) get paths and file contents as inputs, never the token.
  const where = { UNIT: unit, UNIT_DIR: o.unitDir, SMOKE_DIR: smokeDir, TOKEN_FILE: tokenFile ?? "" };
  const base64 = (text: string) => Buffer.from(text).toString("base64");
  const install = renderScript("smoke-timer-install", {
    ...where, RUN_SMOKE_B64: base64(readPackageFile(RUN_SCRIPT)), SERVICE_B64: base64(service), TIMER_B64: base64(timer),
  });
  const uninstall = renderScript("smoke-timer-uninstall", where);
  return { unit, smokeDir, ...(tokenFile ? { tokenFile } : {}), service, timer, install, uninstall };
}
