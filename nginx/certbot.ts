// Host scripts around the certificate lifecycle: certbot webroot issuance, the deploy hook (`nginx -t`, then a
// graceful reload) and a systemd timer + service for renewal. All rendered here; all pass shellcheck.
import * as z from "zod";
import {
  ACME_DIRECTORIES, DEFAULT_ACME_WEBROOT, DEFAULT_CERTBOT_CONFIG_DIR, parseOptions, absPath, domain as fqdn,
} from "./options.ts";
import { shellCommand, shellQuote } from "../contract/shell.ts";

export const DEFAULT_DEPLOY_HOOK_PATH = "/usr/local/sbin/selfhosted-mcp-certbot-deploy-hook";
/** systemd unit base name: `${RENEWAL_UNIT}.service` and `${RENEWAL_UNIT}.timer`. */
export const RENEWAL_UNIT = "selfhosted-mcp-cert-renew";

const argv = z.array(z.string().min(1)).min(1, "must be a non-empty argv array");

const certbotSchema = z.object({
  /** Certbot executable (absolute: systemd needs it). */
  certbotPath: absPath.default("/usr/bin/certbot"),
  certbotConfigDir: absPath.default(DEFAULT_CERTBOT_CONFIG_DIR),
  certbotWorkDir: absPath.default("/var/lib/letsencrypt"),
  certbotLogsDir: absPath.default("/var/log/letsencrypt"),
  /** Script certbot runs after each issuance/renewal (render it with renderDeployHook). */
  deployHookPath: absPath.default(DEFAULT_DEPLOY_HOOK_PATH),
}).strict();

const issueSchema = certbotSchema.extend({
  domain: fqdn,
  extraDomains: z.array(fqdn).default([]),
  /** Account e-mail; without one the account is registered without an address. */
  email: z.email("must be an e-mail address").optional(),
  /** "production" (Let's Encrypt, default), "staging" (Let's Encrypt staging) or any ACME directory URL. */
  acmeServer: z.string().refine((v) => v === "production" || v === "staging" || /^https?:\/\/[^\s'"]+$/.test(v) && URL.canParse(v),
    'must be "production", "staging" or an ACME directory URL such as https://ca.example/directory').default("production"),
  acmeWebroot: absPath.default(DEFAULT_ACME_WEBROOT),
  certName: z.string().regex(/^[A-Za-z0-9._-]{1,253}$/, "must be a certbot certificate name").optional(),
  keyType: z.enum(["ecdsa", "rsa"], { error: 'must be "ecdsa" or "rsa"' }).default("ecdsa"),
}).strict();

const hookSchema = z.object({
  /** Validates the configuration; the reload is skipped when it fails. */
  testCommand: argv.default(["nginx", "-t", "-q"]),
  /** Graceful reload (no restart, open connections finish). */
  reloadCommand: argv.default(["systemctl", "reload", "nginx"]),
}).strict();

const timerSchema = certbotSchema.extend({
  /** systemd OnCalendar= expression; Let's Encrypt recommends checking twice a day. */
  onCalendar: z.string().regex(/^[A-Za-z0-9*,./:~ -]+$/, "must be a systemd calendar expression such as \"*-*-* 00/12:00:00\"")
    .default("*-*-* 00/12:00:00"),
  randomizedDelaySeconds: z.number().int().min(0).max(86_400).default(3600),
}).strict();

export type CertbotIssueOptions = z.input<typeof issueSchema>;
export type DeployHookOptions = z.input<typeof hookSchema>;
export type RenewalTimerOptions = z.input<typeof timerSchema>;

function dirArgs(o: z.output<typeof certbotSchema>): string[] {
  return ["--config-dir", o.certbotConfigDir, "--work-dir", o.certbotWorkDir, "--logs-dir", o.certbotLogsDir];
}

/** Resolves "production" / "staging" to Let's Encrypt's directory URLs; other values are URLs already. */
export function acmeDirectoryUrl(server: "production" | "staging" | string): string {
  return server === "production" || server === "staging" ? ACME_DIRECTORIES[server] : server;
}

/** Issuance script: idempotent (keeps a certificate that is not due), HTTP-01 via the nginx-served webroot. */
export function renderCertbotIssueScript(options: CertbotIssueOptions): string {
  const o = parseOptions(issueSchema, options, "certbot issuance");
  const lines = [
    [o.certbotPath, "certonly", "--non-interactive", "--agree-tos", "--no-eff-email"],
    o.email ? ["--email", o.email] : ["--register-unsafely-without-email"],
    ["--server", acmeDirectoryUrl(o.acmeServer)],
    ["--webroot", "--webroot-path", o.acmeWebroot],
    ["--cert-name", o.certName ?? o.domain, ...[o.domain, ...o.extraDomains].flatMap((d) => ["-d", d])],
    ["--key-type", o.keyType, "--keep-until-expiring", "--deploy-hook", o.deployHookPath],
    dirArgs(o),
  ];
  return [
    "#!/bin/sh",
    `# Managed by selfhosted-mcp: obtain the TLS certificate for ${o.domain} (ACME HTTP-01, webroot served by nginx).`,
    "# Safe to re-run: certbot keeps a certificate that is not yet due for renewal.",
    "set -eu",
    "# nginx's workers (another user) must read the challenge files: whatever umask the caller runs under.",
    "umask 022",
    `mkdir -p ${shellQuote(`${o.acmeWebroot}/.well-known/acme-challenge`)}`,
    `chmod 0755 ${shellQuote(o.acmeWebroot)} ${shellQuote(`${o.acmeWebroot}/.well-known`)} ${shellQuote(`${o.acmeWebroot}/.well-known/acme-challenge`)}`,
    `exec ${lines.map(shellCommand).join(" \\\n  ")}`,
    "",
  ].join("\n");
}

/** Deploy hook: certbot runs it after each successful issuance or renewal. */
export function renderDeployHook(options: DeployHookOptions = {}): string {
  const o = parseOptions(hookSchema, options, "deploy hook");
  return [
    "#!/bin/sh",
    "# Managed by selfhosted-mcp: certbot deploy hook. Validate nginx's configuration, then reload it gracefully",
    "# so new connections get the renewed certificate (no restart: open streams finish on the old workers).",
    "set -eu",
    `if ! ${shellCommand(o.testCommand)}; then`,
    `  echo "selfhosted-mcp deploy hook: nginx config test failed; not reloading (lineage: \${RENEWED_LINEAGE:-unknown})" >&2`,
    "  exit 1",
    "fi",
    shellCommand(o.reloadCommand),
    `echo "selfhosted-mcp deploy hook: nginx reloaded for \${RENEWED_DOMAINS:-unknown}"`,
    "",
  ].join("\n");
}

/** The `certbot renew` argv that the renewal service runs. */
export function renewCommand(options: z.input<typeof certbotSchema> = {}): string[] {
  const o = parseOptions(certbotSchema, options, "certbot renewal");
  return [o.certbotPath, "renew", "--quiet", "--no-random-sleep-on-renew", "--deploy-hook", o.deployHookPath, ...dirArgs(o)];
}

/** systemd service + timer running `certbot renew` twice a day (randomized) with the deploy hook. */
export function renderRenewalUnits(options: RenewalTimerOptions = {}): { service: string; timer: string } {
  const { onCalendar, randomizedDelaySeconds, ...certbot } = parseOptions(timerSchema, options, "renewal timer");
  const service = [
    "# Managed by selfhosted-mcp",
    "[Unit]",
    "Description=Renew selfhosted-mcp TLS certificates (certbot, deploy hook reloads nginx)",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${shellCommand(renewCommand(certbot))}`,
    "PrivateTmp=true",
    "",
  ].join("\n");
  const timer = [
    "# Managed by selfhosted-mcp",
    "[Unit]",
    `Description=Check selfhosted-mcp TLS certificates for renewal (${onCalendar})`,
    "",
    "[Timer]",
    `OnCalendar=${onCalendar}`,
    `RandomizedDelaySec=${randomizedDelaySeconds}`,
    "Persistent=true",
    `Unit=${RENEWAL_UNIT}.service`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
  return { service, timer };
}
