// Public API of the nginx renderer: the site config, the per-server upstream include file (blue/green switch),
// and the host scripts around the certificate lifecycle (certbot issuance, deploy hook, systemd renewal timer).
export { renderNginxConfig, TLS_CIPHERS, ACME_CHALLENGE_PATH } from "./site.ts";
export { renderUpstreamInclude, upstreamIncludePath, type UpstreamIncludeOptions } from "./upstream.ts";
export {
  siteOptionsSchema, listenAddressSchema, publicHealthPath, ACME_DIRECTORIES, DEFAULT_UPSTREAM_INCLUDE_DIR, DEFAULT_ACME_WEBROOT,
  DEFAULT_CERTBOT_CONFIG_DIR, type SiteOptionsInput, type SiteOptions,
} from "./options.ts";
export {
  renderCertbotIssueScript, renderDeployHook, renderRenewalUnits, renewCommand, acmeDirectoryUrl,
  DEFAULT_DEPLOY_HOOK_PATH, RENEWAL_UNIT,
  type CertbotIssueOptions, type DeployHookOptions, type RenewalTimerOptions,
} from "./certbot.ts";
export {
  renderConnlimitScript, renderConnlimitUnit, CONNLIMIT_CHAIN, CONNLIMIT_UNIT, DEFAULT_CONNLIMIT_SCRIPT_PATH,
  type ConnlimitOptionsInput,
} from "./connlimit.ts";
