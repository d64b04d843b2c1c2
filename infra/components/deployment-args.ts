// McpDeployment's argument rules (zod), like host-args.ts for McpHost: McpDeployment checks its args with
// deploymentArgsSchema before it registers anything and throws InvalidArgsError ("McpDeployment <arg>: ...") naming
// each bad one. The plan options are the renderer's rules (deploymentPlanObject, infra/render/deployment-plan.ts);
// added here are the component's own arguments. Pulumi inputs are checked when they are plain values; an Output
// (unknown at preview) is checked by the renderer when it resolves.
import * as z from "zod";
import { parseArgs } from "../../contract/args-error.ts";
import { contractEnv, resolveRunSpec } from "../../contract/run-contract.ts";
import { digestRef, ENV_NAME_PATTERN, singleLine } from "../../contract/values.ts";
import { deploymentPlanObject, checkDeploymentPlan } from "../render/deployment-plan.ts";
import type { McpDeploymentArgs } from "./deployment.ts";

/** The names the run contract sets per slot: they win over the env file, so a value in env/secretEnv would be lost. */
export const SLOT_ENV = Object.keys(contractEnv(resolveRunSpec({
  image: "x", name: "x", envFile: "/x", port: 1, metricsPort: 2, volume: "x", socketDir: "/x",
})));

/**
 * `rule` when the input is a plain value; an Output passes (its value is unknown until the deployment). Optional,
 * unless `required` says what to pass.
 */
function ifPlain(rule: z.ZodType, required?: string) {
  return z.unknown().optional().superRefine((v, ctx) => {
    if (v === undefined && required) ctx.addIssue({ code: "custom", message: `is required (${required})` });
    if (v === undefined || (typeof v === "object" && v !== null && !Array.isArray(v) && !isPlainObject(v))) return;
    const r = rule.safeParse(v);
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: "custom", path: i.path, message: i.message });
  });
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Env names: upper snake case, not one the run contract sets per slot. */
const envNames = z.record(z.string(), z.unknown()).superRefine((o, ctx) => {
  for (const k of Object.keys(o)) {
    if (!ENV_NAME_PATTERN.test(k)) ctx.addIssue({ code: "custom", path: [k], message: "env names must be UPPER_SNAKE_CASE" });
    else if (SLOT_ENV.includes(k)) ctx.addIssue({ code: "custom", path: [k], message: `is set per slot by the run contract (${SLOT_ENV.join(", ")}); remove it` });
    const v = o[k];
    if (typeof v === "string" && !singleLine.safeParse(v).success) ctx.addIssue({ code: "custom", path: [k], message: "must be a single line (docker env files cannot hold line breaks)" });
  }
});

export const deploymentArgsSchema = deploymentPlanObject.omit({ image: true, hostId: true }).extend({
  connection: z.custom((v) => v !== undefined, "is required (the SSH connection, e.g. McpHost.connection)"),
  image: ifPlain(digestRef, "an image pinned by digest, e.g. McpImage.digest"),
  pullConfig: z.custom((v) => v !== undefined, "is required (docker config.json with pull credentials, e.g. McpImage.pullConfig)"),
  env: envNames.optional(),
  secretEnv: ifPlain(envNames),
  hostReady: z.unknown().optional(),
  hostId: ifPlain(deploymentPlanObject.shape.hostId.unwrap()),
  host: z.unknown().optional(),
  publish: z.function().optional(),
}).superRefine(checkDeploymentPlan);

/** Checks McpDeployment's args; throws InvalidArgsError ("McpDeployment <arg>: ...") naming each bad one. */
export function validateDeploymentArgs(a: McpDeploymentArgs): void {
  parseArgs("McpDeployment", deploymentArgsSchema, a);
}
