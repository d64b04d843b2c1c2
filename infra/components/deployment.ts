// McpDeployment: puts one MCP server on a prepared host over SSH with three remote Commands:
//   <name>-site         lifecycle: create prepares the state directory, delete tears the site down (never replaced)
//   <name>-deploy       create = update = the blue/green deploy; every file (secrets too) arrives on its stdin
//   <name>-certificate  issues the certificate once the domain points at the host, then serves TLS (only with a site:
//                       `site: false` deploys a server another deployment's site routes to, see deployment-plan.ts)
//
// ENGINE RULES THIS DESIGN RELIES ON (read from the sources, pinned versions):
// - @pulumi/command 1.2.1's SDK registers every remote Command and CopyToRemote with
//   `replaceOnChanges: ["triggers[*]"]` (node_modules/@pulumi/command/remote/command.js), and the provider marks
//   `triggers` replace-on-change (provider/pkg/provider/common/inputs.go): a changed trigger REPLACES the resource —
//   the new one's create, then the old one's `delete` (pulumi-command issue 189: triggers always replace). So no
//   Command here has triggers, and the only `delete` that does anything (teardown) sits on the site command, whose
//   inputs change only with the host (an in-place update that re-runs its harmless create).
// - Any other input change is an in-place Update, which runs `update` (else `create`)
//   (provider/pkg/provider/remote/commandController.go). The deploy script is both, and it never removes the site.
// - CopyToRemote's Check rejects an unknown `source` at preview ("either asset or archive must be set",
//   copyController.go) and its Update copies only when the asset hash or remotePath changed — a replaced droplet
//   would never get its files. So nothing is copied: the files travel on the deploy command's stdin (secret), which
//   may be unknown at preview (image digest, registry credentials), and are sent in full on every run.
// - deletedWith: when the host itself is deleted in the same operation, the engine skips the site's delete (no SSH
//   to a host that is going away; `pulumi destroy` never waits on it).
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import {
  renderDeploymentPlan, renderEnvFile, renderBundle, type DeploymentPlan, type SitelessPlan, type DeploymentPlanOptions,
} from "../render/deployment-plan.ts";
import { hostIdentity, type Connection } from "./host.ts";
import { UPGRADE_FROM_TRIGGERS } from "./upgrades.ts";
import { validateDeploymentArgs } from "./deployment-args.ts";

export interface McpDeploymentArgs extends Omit<DeploymentPlanOptions, "image" | "hostId"> {
  /** SSH connection to the host (McpHost.connection, or your own). */
  connection: pulumi.Input<Connection>;
  /** Image pinned by digest (McpImage.digest, or your own). May be unknown at preview. */
  image: pulumi.Input<string>;
  /** docker config.json with pull credentials for the image's registry (McpImage.pullConfig). Secret. */
  pullConfig: pulumi.Input<string>;
  /** Non-secret environment of the server. */
  env?: Record<string, pulumi.Input<string>>;
  /** Secret environment (API keys, upstream tokens...): only ever written to the env file (mode 0600). */
  secretEnv?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Anything that must be ready before the first SSH command (e.g. McpHost.ready). */
  hostReady?: pulumi.Input<pulumi.Resource>;
  /**
   * Identity of the host (McpHost.dropletId): every command re-runs on a new host, even at the same address.
   * Default: the connection's host address.
   */
  hostId?: pulumi.Input<string>;
  /** The host resource (McpHost.droplet): when it is deleted too, the site's teardown is skipped (deletedWith). */
  host?: pulumi.Resource;
  /**
   * Registers what must happen between the deploy and the certificate — e.g. McpHost.publish: the reserved IP and
   * DNS records move to the host only once it serves — and returns those resources. Default: nothing.
   */
  publish?: (deployed: command.remote.Command) => pulumi.Resource[];
  /**
   * Resources the deploy command runs after, e.g. the deploys of the servers a site's `routes` name (their upstream
   * includes must exist before nginx checks a site that includes them), or the previous server's deploy, so only
   * one server's two slots overlap at a time (the droplet size counts on it: droplet-size.ts).
   */
  deployAfter?: pulumi.Resource[];
}

export class McpDeployment extends pulumi.ComponentResource {
  readonly site: command.remote.Command;
  readonly deploy: command.remote.Command;
  /** Absent with `site: false` (the site's owner has the certificate). */
  readonly certificate?: command.remote.Command;
  /** Resources `publish` registered (reserved IP, DNS records), in order. */
  readonly published: pulumi.Resource[];
  /** The rendered plan (scripts + non-secret files); never contains secrets. */
  readonly plan: pulumi.Output<DeploymentPlan | SitelessPlan>;

  constructor(name: string, args: McpDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    validateDeploymentArgs(args);
    const { connection, image, pullConfig, env = {}, secretEnv = {}, hostReady, hostId, host, publish, deployAfter = [], ...planOptions } = args;
    // The plan without the image and host (they only fill in names and pins): the site's delete is rendered from it.
    const base = renderDeploymentPlan({ ...planOptions, image: `validate@sha256:${"0".repeat(64)}` });
    super("selfhosted-mcp:index:McpDeployment", name, {}, opts);
    const identity = hostIdentity(hostId, connection);
    this.plan = pulumi.all([image, identity]).apply(([img, id]) => renderDeploymentPlan({ ...planOptions, image: img, hostId: id }));
    const plan = this.plan;
    const parent = { parent: this };

    this.site = new command.remote.Command(`${name}-site`, {
      connection, create: plan.site.create, delete: base.site.delete, addPreviousOutputInEnv: false,
    }, { ...parent, ...(hostReady ? { dependsOn: [hostReady] } : {}), ...(host ? { deletedWith: host } : {}) });

    const envText = pulumi.all([pulumi.output(env), pulumi.output(secretEnv)])
      .apply(([plain, secret]) => renderEnvFile({ ...plain, ...secret } as Record<string, string>));
    const bundle = pulumi.secret(pulumi.all([plan, envText, pullConfig])
      .apply(([p, e, pull]) => renderBundle({ ...p.files, env: e, "docker-config.json": pull }, p.staged)));
    this.deploy = new command.remote.Command(`${name}-deploy`, {
      connection, create: plan.deploy, update: plan.deploy, stdin: bundle, addPreviousOutputInEnv: false,
    }, { ...parent, ...UPGRADE_FROM_TRIGGERS, dependsOn: [this.site, ...deployAfter] });

    this.published = publish ? publish(this.deploy) : [];
    if (base.certificate !== undefined) {
      const certificate = plan.apply((p) => p.certificate!);
      this.certificate = new command.remote.Command(`${name}-certificate`, {
        connection, create: certificate, update: certificate, addPreviousOutputInEnv: false,
      }, { ...parent, dependsOn: [this.deploy, ...this.published] });
    }

    this.registerOutputs({});
  }
}
