// Everything McpDeployment puts on the host, rendered from plain values: the files the deploy command receives on
// its stdin (renderBundle), and the command strings of its three remote commands (site lifecycle, deploy,
// certificate). Pure (no Pulumi), so the tests and the rehearsal can render and run exactly what `pulumi up` would.
import * as z from "zod";
import { dirname } from "node:path";
import { dockerRunCommand, SOCKET_NAME, type RunSpec } from "../../contract/run-contract.ts";
import { appName, digestRef, domain, absPath } from "../../contract/values.ts";
import { parseArgs } from "../../contract/args-error.ts";
import {
  renderNginxConfig, renderUpstreamInclude, upstreamIncludePath, renderCertbotIssueScript, renderDeployHook,
  DEFAULT_UPSTREAM_INCLUDE_DIR, DEFAULT_ACME_WEBROOT, DEFAULT_CERTBOT_CONFIG_DIR, DEFAULT_DEPLOY_HOOK_PATH,
  type SiteOptionsInput,
} from "../../nginx/index.ts";
import { remoteScript } from "./remote-script.ts";
import { CONTAINER_RESOURCES } from "./droplet-size.ts";
import { DEFAULTS } from "../defaults.ts";

type Limits = NonNullable<SiteOptionsInput["servers"][number]["limits"]>;
const routeSchema = z.object({
  /** The other deployment's app name: its upstream include `<name>.upstream.conf` and public path `/<name>/mcp`. */
  name: appName,
  healthPath: z.string().startsWith("/").default("/health"),
  limits: z.custom<Limits>().optional(),
});
const bindSchema = z.object({ source: absPath, target: absPath });

/** How long nginx reuses one upstream connection (keepalive_time/keepalive_timeout): a slot switch reaches cached connections within it. */
export const UPSTREAM_REUSE_SECONDS = 1;

/**
 * Seconds the old slot keeps running after the switch, then SIGTERM (the server drains what it still has). At least
 * UPSTREAM_REUSE_SECONDS + 1: nginx stops reusing its cached connections to the old slot within that time.
 */
/** Docker's health probe interval, seconds (1 s to 1 h). */
export const healthCheckIntervalSchema = z.number().int().min(1, "must be 1 to 3600 seconds").max(3600, "must be 1 to 3600 seconds");

export const drainSecondsSchema = z.number().int().min(UPSTREAM_REUSE_SECONDS + 1,
  `must be at least ${UPSTREAM_REUSE_SECONDS + 1}: nginx reuses a cached connection to the old slot for up to ${UPSTREAM_REUSE_SECONDS} s after a switch`)
  .max(300).default(5);


/** The options without their cross-option rules (McpDeployment's args schema extends it: deployment-args.ts). */
export const deploymentPlanObject = z.object({
  /** Short name of this server on the host: containers `<app>-blue|green`, volume `<app>-data`, nginx names. */
  app: appName,
  domain,
  /** Image pinned by digest (repo@sha256:...): what the host pulls and runs. */
  image: digestRef,
  /** Blue slot ports; the green slot uses port+1 and metricsPort+1. */
  port: z.number().int().min(1).max(65534),
  metricsPort: z.number().int().min(1).max(65534),
  /** The container's limits (ContainerResources; the run contract renders them as --memory / --cpus). */
  memoryMb: CONTAINER_RESOURCES.memoryMb.default(DEFAULTS.memoryMb),
  cpus: CONTAINER_RESOURCES.cpus.default(DEFAULTS.cpus),
  healthPath: z.string().startsWith("/").default("/health"),
  healthTimeoutSeconds: z.number().int().min(5).max(900).default(90),
  drainSeconds: drainSecondsSchema,
  /**
   * Seconds between Docker's health probes of each container (the image's HEALTHCHECK, `docker run
   * --health-interval`; the run contract's healthInterval, default 30). Docker's status is for `docker ps` only:
   * the deploy gates a slot on its own probe (healthPath, healthTimeoutSeconds).
   */
  healthCheckIntervalSeconds: healthCheckIntervalSchema.optional(),
  acmeEmail: z.email("acmeEmail must be an e-mail address"),
  /** ACME directory URL; Let's Encrypt production when absent. */
  acmeServer: z.string().url().optional(),
  /** CA bundle on the host certbot trusts for the ACME server's own TLS (a private CA such as pebble). */
  acmeCaBundle: absPath.optional(),
  certbotConfigDir: absPath.default(DEFAULT_CERTBOT_CONFIG_DIR),
  certbotPath: absPath.default("/usr/bin/certbot"),
  /** Per-server nginx limits (rate, burst, body size, timeouts); nginx renderer defaults when absent. */
  limits: z.custom<Limits>().optional(),
  /** Extra nginx site options (listen addresses, ports, HSTS, ...), passed through to renderNginxConfig. */
  nginx: z.custom<Partial<Omit<SiteOptionsInput, "domain" | "phase" | "servers">>>().optional(),
  /**
   * Whether this deployment owns the domain's nginx site and certificate (default true). false: it installs only its
   * upstream include (`<app>.upstream.conf`, the live slot) and serves through a site another deployment owns — the
   * servers behind SelfHostedMcp's gateway; that deployment lists them in `routes`.
   */
  site: z.boolean().default(true),
  /** Other deployments (site: false) this site also routes to, at `/<name>/mcp` and `/<name><healthPath>`; this one then serves `/mcp`. */
  routes: z.array(routeSchema).default([]),
  /** Host directories mounted read-only into both slots (the run contract's readOnlyDirs), e.g. the routes' socket directories. */
  readOnlyDirs: z.array(bindSchema).default([]),
  stateDir: absPath.optional(),
  /** Where the slots' socket directories and the `live.sock` symlink live; default `<parent of stateDir>/<app>.sockets`. */
  socketDir: absPath.optional(),
  siteFile: absPath.optional(),
  nginxPidFile: absPath.default("/run/nginx.pid"),
  deployHookPath: absPath.default(DEFAULT_DEPLOY_HOOK_PATH),
  /**
   * Identity of the host (e.g. the droplet id). It is an input of every remote command, so a new host — same
   * address or not — gets the state directory, every file and the certificate again (CopyToRemote-style "copy only
   * when the content changed" would leave a replaced droplet without them).
   */
  hostId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "hostId must be 1-128 letters, digits or . _ : -").default("host"),
});

/** The rules across options: the nginx keep-alive is the deployment's, and the slots' ports do not clash. */
export function checkDeploymentPlan(o: Pick<z.output<typeof deploymentPlanObject>, "limits" | "port" | "metricsPort" | "site" | "routes">, ctx: z.RefinementCtx): void {
  if (o.limits?.keepaliveTimeSeconds !== undefined) {
    ctx.addIssue({ code: "custom", path: ["limits", "keepaliveTimeSeconds"], message: `must be left unset: the deployment sets it to ${UPSTREAM_REUSE_SECONDS} s, so cached upstream connections follow a slot switch before the old slot stops` });
  }
  if (!o.site && o.routes.length > 0) ctx.addIssue({ code: "custom", path: ["routes"], message: "routes need a site: a deployment with site false serves through another one's" });
  const used = [o.port, o.port + 1, o.metricsPort, o.metricsPort + 1];
  if (new Set(used).size !== used.length) {
    ctx.addIssue({ code: "custom", path: ["metricsPort"], message: `port ${o.port} and metricsPort ${o.metricsPort} clash: the green slot uses port+1 and metricsPort+1, keep them at least 2 apart` });
  }
}

export const DeploymentPlanSchema = deploymentPlanObject.superRefine(checkDeploymentPlan);
export type DeploymentPlanOptions = z.input<typeof DeploymentPlanSchema>;

/** Names of the non-secret files the deploy command receives (the secret ones: env, docker-config.json). */
export const PLAIN_FILES = ["run-spec.sh", "nginx-http.conf", "nginx-tls.conf", "upstream.conf",
  "issue-certificate.sh", "certbot-deploy-hook"] as const;
export const SECRET_FILES = ["env", "docker-config.json"] as const;
export type StagedFile = (typeof PLAIN_FILES)[number] | (typeof SECRET_FILES)[number];
/** The non-secret files of a deployment without a site (site: false): no nginx site, no certificate. */
export const SITELESS_FILES = ["run-spec.sh", "upstream.conf"] as const satisfies readonly StagedFile[];

/** Where a deployment keeps its state on the host unless `stateDir` says otherwise: `<root>/<app>`. */
export const STATE_ROOT = "/var/lib/selfhosted-mcp";
/** The default socket directory of `app` (slots' sockets and `live.sock`), beside its state directory. */
export const defaultSocketDir = (app: string) => `${STATE_ROOT}/${app}.sockets`;

export const SLOTS = ["blue", "green"] as const;
export type Slot = (typeof SLOTS)[number];

export interface DeploymentPlan {
  stateDir: string;
  envFile: string;
  siteFile: string;
  upstreamFile: string;
  /** Holds `blue/` and `green/` (each slot's socket) and `live.sock`, the symlink nginx connects through. */
  socketDir: string;
  volume: string;
  containers: Record<Slot, string>;
  /** Contents of the non-secret files (the deploy command receives them with the secret ones, renderBundle). */
  files: Record<(typeof PLAIN_FILES)[number], string>;
  /** The names the deploy command's bundle holds (renderBundle's `names`): plain files, then SECRET_FILES. */
  staged: StagedFile[];
  /**
   * The site's lifecycle command, never replaced: create prepares the state directory (idempotent, re-run when the
   * host changes); delete tears the server down. Its strings depend on names and paths only, never on the image.
   */
  site: { create: string; delete: string };
  /** The deploy command (its create and its update): reads renderBundle() on stdin, then the blue/green switch. */
  deploy: string;
  /** The certificate command: issues the certificate when it is missing, then serves the TLS site. Idempotent. */
  certificate: string;
}

/** The plan of a deployment without a site (`site: false`): its run spec and upstream include, no certificate. */
export type SitelessPlan = Omit<DeploymentPlan, "files" | "certificate"> & {
  files: Record<(typeof SITELESS_FILES)[number], string>;
  certificate?: undefined;
};


export function slotPortsOf(o: { port: number; metricsPort: number }): Record<Slot, { port: number; metricsPort: number }> {
  return { blue: { port: o.port, metricsPort: o.metricsPort }, green: { port: o.port + 1, metricsPort: o.metricsPort + 1 } };
}

/** Options of a deployment that owns its site (`site` absent or true): its plan is a DeploymentPlan. */
export type SiteDeploymentOptions = DeploymentPlanOptions & { site?: true };

export function renderDeploymentPlan(options: SiteDeploymentOptions): DeploymentPlan;
export function renderDeploymentPlan(options: DeploymentPlanOptions & { site: false }): SitelessPlan;
export function renderDeploymentPlan(options: DeploymentPlanOptions): DeploymentPlan | SitelessPlan;
export function renderDeploymentPlan(options: DeploymentPlanOptions): DeploymentPlan | SitelessPlan {
  const o = parseArgs("McpDeployment", DeploymentPlanSchema, options);
  const stateDir = o.stateDir ?? `${STATE_ROOT}/${o.app}`;
  const envFile = `${stateDir}/env`;
  const siteFile = o.siteFile ?? `/etc/nginx/conf.d/selfhosted-mcp-${o.app}.conf`;
  const upstreamDir = o.nginx?.upstreamIncludeDir ?? DEFAULT_UPSTREAM_INCLUDE_DIR;
  const upstreamFile = upstreamIncludePath(o.app, upstreamDir);
  const acmeWebroot = o.nginx?.acmeWebroot ?? DEFAULT_ACME_WEBROOT;
  const socketDir = o.socketDir ?? `${dirname(stateDir)}/${o.app}.sockets`;
  const volume = `${o.app}-data`;
  const containers = { blue: `${o.app}-blue`, green: `${o.app}-green` };
  const ports = slotPortsOf(o);

  const runSpec = (slot: Slot): RunSpec => ({
    image: o.image, name: containers[slot], envFile, port: ports[slot].port, metricsPort: ports[slot].metricsPort, volume,
    socketDir: `${socketDir}/${slot}`,
    memoryMb: o.memoryMb, cpus: o.cpus,
    ...(o.healthCheckIntervalSeconds ? { healthInterval: `${o.healthCheckIntervalSeconds}s` } : {}),
    labels: { "io.selfhosted-mcp.app": o.app, "io.selfhosted-mcp.slot": slot },
    ...(o.readOnlyDirs.length ? { readOnlyDirs: o.readOnlyDirs } : {}),
  });
  const site = (phase: "http-only" | "tls") => renderNginxConfig({
    ...o.nginx, domain: o.domain, phase, certbotConfigDir: o.certbotConfigDir, upstreamIncludeDir: upstreamDir,
    servers: [
      { name: o.app, ...(o.routes.length ? { path: "/mcp" } : {}), healthPath: o.healthPath, limits: { ...o.limits, keepaliveTimeSeconds: UPSTREAM_REUSE_SECONDS } },
      ...o.routes.map((r) => ({ name: r.name, healthPath: r.healthPath, limits: { ...r.limits, keepaliveTimeSeconds: UPSTREAM_REUSE_SECONDS } })),
    ],
  });
  const runSpecFile = [
    "# shellcheck shell=bash",
    `# selfhosted-mcp run spec for ${o.app}: one function per slot, rendered from the run contract.`,
    ...SLOTS.map((slot) => `run_slot_${slot}() {\n  ${dockerRunCommand(runSpec(slot))}\n}`),
    "",
  ].join("\n");
  const upstreamConf = renderUpstreamInclude({ socket: `${socketDir}/live.sock`, comment: `${o.app}: live.sock -> blue/ or green/${SOCKET_NAME}` });
  const files: DeploymentPlan["files"] | SitelessPlan["files"] = !o.site ? { "run-spec.sh": runSpecFile, "upstream.conf": upstreamConf } : {
    "run-spec.sh": runSpecFile,
    "nginx-http.conf": site("http-only"),
    "nginx-tls.conf": site("tls"),
    "upstream.conf": upstreamConf,
    "issue-certificate.sh": renderCertbotIssueScript({
      domain: o.domain, email: o.acmeEmail, certbotConfigDir: o.certbotConfigDir, certbotPath: o.certbotPath, acmeWebroot,
      deployHookPath: o.deployHookPath, ...(o.acmeServer ? { acmeServer: o.acmeServer } : {}),
    }),
    // `nginx -s reload` works with and without systemd (it signals the master from its pid file).
    "certbot-deploy-hook": renderDeployHook({ reloadCommand: ["nginx", "-s", "reload"] }),
  };
  // Without a site the deploy touches only its upstream include (SITE_FILE empty: docs/infra.md, "Several servers").
  const nginxFiles = { SITE_FILE: o.site ? siteFile : "", UPSTREAM_FILE: upstreamFile, NGINX_PID_FILE: o.nginxPidFile };
  const staged: StagedFile[] = [...(o.site ? PLAIN_FILES : SITELESS_FILES), ...SECRET_FILES];
  const slotInputs = { BLUE_CONTAINER: containers.blue, GREEN_CONTAINER: containers.green, SOCKET_DIR: socketDir };
  const certFile = `${o.certbotConfigDir}/live/${o.domain}/fullchain.pem`;
  const hostId = { HOST_ID: o.hostId };
  return {
    stateDir, envFile, siteFile, upstreamFile, socketDir, volume, containers, files, staged,
    site: {
      create: remoteScript("prepare", { ...hostId, STATE_DIR: stateDir, UPSTREAM_DIR: upstreamDir, ACME_WEBROOT: acmeWebroot }),
      delete: remoteScript("teardown", { STATE_DIR: stateDir, ...nginxFiles, ...slotInputs, VOLUME: volume }),
    },
    deploy: remoteScript("deploy", {
      ...hostId, APP: o.app, IMAGE: o.image, STATE_DIR: stateDir, ENV_FILE: envFile, ...nginxFiles, CERT_FILE: certFile,
      DEPLOY_HOOK_PATH: o.deployHookPath, STAGED_FILES: staged.join(" "),
      HEALTH_PATH: o.healthPath, HEALTH_TIMEOUT_SECONDS: o.healthTimeoutSeconds, DRAIN_SECONDS: o.drainSeconds,
      PULL_ATTEMPTS: 3, LOG_LINES: 50, ...slotInputs, SOCKET_NAME,
    }),
    ...(o.site ? {
      certificate: remoteScript("certificate", {
        ...hostId, DOMAIN: o.domain, STATE_DIR: stateDir, SITE_FILE: siteFile, NGINX_PID_FILE: o.nginxPidFile, CERT_FILE: certFile, ACME_CA_BUNDLE: o.acmeCaBundle ?? "",
      }),
    } : {}),
  } as DeploymentPlan | SitelessPlan;
}

/** Largest bundle the deploy command accepts on stdin (bytes): far above the rendered files (tens of KB). */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;

/**
 * The deploy command's stdin: one line `<name> <base64 of the content>` per staged file (`names`: the plan's `staged`,
 * default PLAIN_FILES then SECRET_FILES), then `end <count>`. The deploy script refuses a bundle that is incomplete or
 * lists another name.
 */
export function renderBundle(files: Partial<Record<StagedFile, string>>, names: readonly StagedFile[] = [...PLAIN_FILES, ...SECRET_FILES]): string {
  const lines = names.map((n) => {
    if (typeof files[n] !== "string") throw new Error(`deploy bundle: ${n} is missing`);
    return `${n} ${Buffer.from(files[n]).toString("base64")}`;
  });
  const text = [...lines, `end ${names.length}`, ""].join("\n");
  if (text.length > MAX_BUNDLE_BYTES) throw new Error(`deploy bundle: ${text.length} bytes is over the ${MAX_BUNDLE_BYTES}-byte limit`);
  return text;
}

/** docker --env-file format: KEY=value per line, taken literally (no quotes, no expansion, no newlines). */
export function renderEnvFile(env: Record<string, string>): string {
  const lines = Object.keys(env).sort().map((k) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`env name ${JSON.stringify(k)} is not a valid variable name`);
    if (/[\r\n\0]/.test(env[k]!)) throw new Error(`env ${k}: value must be a single line (docker env files cannot hold newlines)`);
    return `${k}=${env[k]}`;
  });
  return "# selfhosted-mcp env file (secrets; mode 0600 on the host)\n" + lines.join("\n") + "\n";
}
