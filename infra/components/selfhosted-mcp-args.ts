// SelfHostedMcp's argument rules (zod), one per argument: SelfHostedMcp checks its args with selfHostedMcpArgsSchema
// before it registers anything, and the example stack builds its config schema from these fields
// (examples/stack/config.ts), so a stack value and a component argument meet the same rule. Host arguments are
// McpHost's (host-args.ts); nginx's own (listen addresses, sizes) come from nginx/options.ts. Defaults:
// infra/defaults.ts.
import * as z from "zod";
import { absPath, domain, appName, ENV_NAME_PATTERN, singleLine } from "../../contract/values.ts";
import { listenAddressSchema } from "../../nginx/index.ts";
import { drainSecondsSchema, healthCheckIntervalSchema } from "../render/deployment-plan.ts";
import { parseArgs } from "../../contract/args-error.ts";
import { HOST_FIELDS, hostArgsObject, inZone, tcpPort } from "./host-args.ts";
import { gatewaySchema, oauthIssues, oauthSchema, serverSchema, serversIssues } from "./servers-args.ts";
import type { SelfHostedMcpArgs } from "./selfhosted-mcp.ts";

/**
 * Environment names SelfHostedMcp (and the run contract under it) sets from its own arguments, plus
 * UPSTREAM_API_KEY, which the example stack sets from its upstreamApiKey secret. A value in `env` or `secrets`
 * would silently lose to them, so it is refused.
 */
export const MANAGED_ENV = ["PORT", "HOST", "METRICS_PORT", "METRICS_HOST", "PUBLIC_URL", "AUTH_MODE", "API_KEYS", "API_KEYS_FILE", "DATA_DIR",
  "LISTEN_SOCKET", "UPSTREAM_API_KEY"];

/** The rule of each SelfHostedMcp argument that is a plain value. */
export const MCP_FIELDS = {
  domain,
  app: appName,
  port: tcpPort,
  metricsPort: tcpPort,
  healthPath: z.string().regex(/^\/[A-Za-z0-9._~/-]*$/, "must be an absolute URL path such as /health"),
  healthTimeoutSeconds: z.number().int().min(5, "must be 5 to 900 seconds").max(900, "must be 5 to 900 seconds"),
  drainSeconds: drainSecondsSchema.unwrap(),
  healthCheckIntervalSeconds: healthCheckIntervalSchema,
  authMode: z.enum(["none", "api-key", "oauth"], { error: "must be none, api-key or oauth" }),
  env: z.record(z.string(), singleLine).superRefine((o, ctx) => {
    const bad = Object.keys(o).filter((k) => !ENV_NAME_PATTERN.test(k));
    if (bad.length) ctx.addIssue({ code: "custom", message: `${bad.join(", ")}: env names must be UPPER_SNAKE_CASE` });
    const managed = Object.keys(o).filter((k) => MANAGED_ENV.includes(k));
    if (managed.length) ctx.addIssue({ code: "custom", message: `${managed.join(", ")}: set by the components from their own arguments (auth, domain, ports, ...); remove from env` });
  }),
  rateLimitPerSecond: z.number().int().min(1, "must be at least 1 request per second").max(100000),
  rateLimitBurst: z.number().int().min(0, "must be 0 or more").max(100000),
  maxBodySize: z.string().regex(/^[1-9][0-9]{0,6}[kKmM]?$/, "must be an nginx size such as 1m or 512k"),
  listenAddresses: z.array(listenAddressSchema),
  acmeEmail: z.email("must be an e-mail address for the ACME account"),
  acmeServer: z.url({ protocol: /^https$/, error: "must be an https ACME directory URL" }),
  acmeCaBundle: absPath,
  certbotConfigDir: absPath,
} as const;

const F = MCP_FIELDS;
const rateLimit = z.union([z.literal(false), z.object({ perSecond: F.rateLimitPerSecond, burst: F.rateLimitBurst.optional() })]);
const server = serverSchema({ ...F, rateLimit });
export const selfHostedMcpArgsSchema = z.object({
  domain: F.domain, region: HOST_FIELDS.region.optional(), dropletImage: HOST_FIELDS.dropletImage.optional(), dnsZone: domain.optional(),
  app: F.app.optional(), port: F.port.optional(), metricsPort: F.metricsPort.optional(), healthPath: F.healthPath.optional(),
  healthTimeoutSeconds: F.healthTimeoutSeconds.optional(), drainSeconds: F.drainSeconds.optional(),
  healthCheckIntervalSeconds: F.healthCheckIntervalSeconds.optional(),
  env: z.record(z.string(), z.unknown()).optional(),
  auth: z.object({ mode: F.authMode, oauth: oauthSchema.optional() }).loose().optional(),
  rateLimit: rateLimit.optional(),
  servers: z.array(server).optional(), gateway: gatewaySchema.optional(),
  maxBodySize: F.maxBodySize.optional(), listenAddresses: F.listenAddresses.optional(),
  resources: z.object({ memoryMb: HOST_FIELDS.memoryMb.optional(), cpus: HOST_FIELDS.cpus.optional() }).optional(),
  acme: z.object({ email: F.acmeEmail, server: F.acmeServer.optional(), caBundle: F.acmeCaBundle.optional(), certbotConfigDir: F.certbotConfigDir.optional() }),
  ...hostArgsObject.pick({ size: true, resizeDisk: true, swapMb: true, sshPublicKey: true, sshKeys: true, sshAgentSocket: true, sshUser: true,
    sshPort: true, adminCidrs: true, allowSshFromAnywhere: true, reservedIp: true }).shape,
}).loose().superRefine((a, ctx) => {
  const envIssues = (env: Record<string, unknown> | undefined, at: (string | number)[]) => {
    const plain = Object.fromEntries(Object.entries(env ?? {}).filter(([, v]) => typeof v === "string"));
    const r = F.env.safeParse(plain);
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ ...i, path: [...at, "env", ...i.path] } as never);
  };
  envIssues(a.env, []);
  a.servers?.forEach((s, i) => envIssues(s.env, ["servers", i]));
  serversIssues(a, (path, message) => ctx.addIssue({ code: "custom", path, message }));
  oauthIssues(a, (path, message) => ctx.addIssue({ code: "custom", path, message }));
  if (a.dnsZone && !inZone(a.domain, a.dnsZone)) ctx.addIssue({ code: "custom", path: ["dnsZone"], message: `domain ${a.domain} is not inside zone ${a.dnsZone}` });
});

/** Checks SelfHostedMcp's plain arguments; throws InvalidArgsError ("SelfHostedMcp <arg>: ...") naming each bad one. */
export function validateSelfHostedMcpArgs(a: SelfHostedMcpArgs): void {
  parseArgs("SelfHostedMcp", selfHostedMcpArgsSchema, a);
}
