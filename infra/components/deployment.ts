// McpDeployment: puts one MCP server on a prepared host over SSH. Resource graph (each depends on the previous):
//   <name>-prepare (Command)  ->  <name>-copy-<file> (CopyToRemote, one per staged file)  ->  <name>-deploy (Command)
// The scripts and files come from renderDeploymentPlan (pure); secrets only reach the env file and the registry
// credentials, both secret Outputs. The deploy command's triggers are content hashes: an unchanged stack runs nothing.
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import {
  renderDeploymentPlan, renderEnvFile, PLAIN_FILES, SECRET_FILES, type DeploymentPlan, type DeploymentPlanOptions,
  type StagedFile,
} from "../render/deployment-plan.ts";
import type { Connection } from "./host.ts";

export interface McpDeploymentArgs extends Omit<DeploymentPlanOptions, "image"> {
  /** SSH connection to the host (McpHost.connection, or your own). */
  connection: pulumi.Input<Connection>;
  /** Image pinned by digest (McpImage.digest, or your own). */
  image: pulumi.Input<string>;
  /** docker config.json with pull credentials for the image's registry (McpImage.pullConfig). Secret. */
  pullConfig: pulumi.Input<string>;
  /** Non-secret environment of the server. */
  env?: Record<string, pulumi.Input<string>>;
  /** Secret environment (API keys, upstream tokens...): only ever written to the env file (mode 0600). */
  secretEnv?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Anything that must be ready before the first SSH command (e.g. McpHost.ready). */
  hostReady?: pulumi.Input<pulumi.Resource>;
}

/** Staged files whose content depends on the image (the rest is rendered without it). */
const IMAGE_FILES: readonly string[] = ["run-spec.sh"];

const sha256 = (parts: string[]) => createHash("sha256").update(parts.join("\0")).digest("hex");

export class McpDeployment extends pulumi.ComponentResource {
  readonly prepare: command.remote.Command;
  readonly copies: Record<StagedFile, command.remote.CopyToRemote>;
  readonly deploy: command.remote.Command;
  /** The rendered plan (scripts + non-secret files); never contains secrets. */
  readonly plan: pulumi.Output<DeploymentPlan>;
  /** Hash of everything non-secret the deploy depends on (image, scripts, files). */
  readonly contentHash: pulumi.Output<string>;

  constructor(name: string, args: McpDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    const { connection, image, pullConfig, env = {}, secretEnv = {}, hostReady, ...planOptions } = args;
    // Everything but the run spec and the deploy script is independent of the image: render it now (this also
    // validates the options before anything registers), so a new image changes only what really depends on it.
    const base = renderDeploymentPlan({ ...planOptions, image: `validate@sha256:${"0".repeat(64)}` });
    super("selfhosted-mcp:index:McpDeployment", name, {}, opts);
    this.plan = pulumi.output(image).apply((img) => renderDeploymentPlan({ ...planOptions, image: img }));
    const plan = this.plan;
    const fileText = (f: (typeof PLAIN_FILES)[number]) => (IMAGE_FILES.includes(f) ? plan.files[f] : pulumi.output(base.files[f]));

    const envText = pulumi.secret(pulumi.all([pulumi.output(env), pulumi.output(secretEnv)])
      .apply(([plain, secret]) => renderEnvFile({ ...plain, ...secret } as Record<string, string>)));
    const pullText = pulumi.secret(pullConfig);
    const secretText: Record<(typeof SECRET_FILES)[number], pulumi.Output<string>> = { env: envText, "docker-config.json": pullText };

    this.prepare = new command.remote.Command(`${name}-prepare`, {
      connection,
      create: base.prepare.create,
      delete: base.prepare.delete,
      addPreviousOutputInEnv: false,
    }, { parent: this, ...(hostReady ? { dependsOn: [hostReady] } : {}) });

    const copy = (file: StagedFile, text: pulumi.Output<string>) => new command.remote.CopyToRemote(`${name}-copy-${file}`, {
      connection,
      source: text.apply((t) => new pulumi.asset.StringAsset(t)),
      remotePath: base.remotePaths[file],
    }, { parent: this, dependsOn: [this.prepare] });
    const copies: Partial<Record<StagedFile, command.remote.CopyToRemote>> = {};
    for (const f of PLAIN_FILES) copies[f] = copy(f, fileText(f));
    for (const f of SECRET_FILES) copies[f] = copy(f, secretText[f]);
    this.copies = copies as Record<StagedFile, command.remote.CopyToRemote>;

    this.contentHash = plan.apply((p) => sha256([p.deploy.create, ...PLAIN_FILES.map((f) => p.files[f])]));
    const secretHash = pulumi.secret(pulumi.all([envText, pullText]).apply((parts) => sha256(parts)));
    this.deploy = new command.remote.Command(`${name}-deploy`, {
      connection,
      create: plan.deploy.create,
      update: plan.deploy.create,
      delete: base.deploy.delete,
      triggers: [this.contentHash, secretHash],
      addPreviousOutputInEnv: false,
    }, { parent: this, dependsOn: Object.values(this.copies) });

    this.registerOutputs({ contentHash: this.contentHash });
  }
}
