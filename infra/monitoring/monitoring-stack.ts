// McpMonitoringStack: Prometheus + Alertmanager + node_exporter on the droplet (renderMonitoringPlan), over SSH.
// Two remote Commands without triggers, shaped by the engine rules McpDeployment's are (components/deployment.ts
// states them with their sources: a changed input other than `triggers` is an in-place update; a replace would run the
// OLD resource's `delete` after the new `create`):
//   <name>-teardown  create: a no-op marked with the host id; delete: the uninstall script. Its delete never changes
//                    (paths only); a new droplet changes its create and connection, which is an update on the new
//                    host (no delete runs). deletedWith the droplet: when the droplet goes too, no SSH to a gone host.
//   <name>-install   create = update = the install script marked with the host id; no delete: a changed rule,
//                    threshold, receiver or secret is an in-place update (validate, then reload/restart); a replaced
//                    droplet — even one at the same address — gets the install again. Prometheus data survives.
// The Alertmanager config (receivers' secrets) is the install command's stdin, a secret Output. Nothing here uses
// CopyToRemote, so no preview-unknown value can reach a copy source.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { remoteCommand, onHost } from "../render/remote-script.ts";
import { hostIdentity, type Connection } from "../components/host.ts";
import { renderMonitoringPlan, monitoringStdin, type MonitoringPlan } from "./monitoring-plan.ts";
import { type MonitoringOptions, type MonitoringSecrets } from "./stack-options.ts";
import { validateMonitoringStackArgs } from "./monitoring-args.ts";

export interface McpMonitoringStackArgs extends MonitoringOptions {
  /** SSH connection to the host (McpHost.connection). */
  connection: pulumi.Input<Connection>;
  /** Secrets of the configured receivers (see requiredSecrets): only ever on the install command's stdin. */
  secrets?: { [K in keyof MonitoringSecrets]?: pulumi.Input<string> };
  /** Install after these (e.g. McpHost.ready). Scrape targets are static, so it does not wait for a deploy. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** Identity of the host (McpHost.dropletId): a new host gets the stack again. Default: the connection's host. */
  hostId?: pulumi.Input<string>;
  /** The host resource (McpHost.droplet): when it is deleted too, the uninstall is skipped (deletedWith). */
  host?: pulumi.Resource;
}

/**
 * The stack's plan from its options, after checking them and that every configured receiver has its secret (values
 * may be unknown Outputs; only presence is checked). Throws InvalidArgsError ("McpMonitoringStack <arg>: ...") naming
 * the option or the missing secret. SelfHostedMcp calls it before it registers anything.
 */
export function planMonitoringStack(options: MonitoringOptions, secrets: McpMonitoringStackArgs["secrets"] = {}): MonitoringPlan {
  validateMonitoringStackArgs({ ...options, secrets });
  return renderMonitoringPlan(options);
}

export class McpMonitoringStack extends pulumi.ComponentResource {
  readonly install: command.remote.Command;
  readonly teardown: command.remote.Command;
  /** Loopback URLs on the droplet (reach them with `ssh -L`). Not secret. */
  readonly urls: { prometheus: string; alertmanager: string; nodeExporter: string };
  /** node_exporter's textfile directory: give it to McpSmokeTimer as `textfileDir`. */
  readonly textfileDir: string;

  constructor(name: string, args: McpMonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    const { connection, secrets = {}, dependsOn, hostId, host, ...options } = args;
    // Validation first: a bad option or a receiver without its secret fails before any resource registers.
    validateMonitoringStackArgs(args);
    const plan = renderMonitoringPlan(options);
    super("selfhosted-mcp:index:McpMonitoringStack", name, {}, opts);
    this.urls = plan.urls;
    this.textfileDir = plan.options.textfileDir;

    const identity = hostIdentity(hostId, connection);
    // An SSH no-op (marked with the host, so a new droplet updates it); the delete is what matters.
    this.teardown = new command.remote.Command(`${name}-teardown`, {
      connection, create: identity.apply((id) => onHost(id, remoteCommand("true"))), delete: plan.uninstall, addPreviousOutputInEnv: false,
    }, { parent: this, ...(dependsOn ? { dependsOn } : {}), ...(host ? { deletedWith: host } : {}) });

    const keys = Object.keys(secrets) as (keyof MonitoringSecrets)[];
    const stdin = pulumi.secret(pulumi.all(keys.map((k) => pulumi.output(secrets[k]!)))
      .apply((values) => monitoringStdin(plan.options, Object.fromEntries(keys.map((k, i) => [k, values[i]])) as MonitoringSecrets)));
    const install = identity.apply((id) => onHost(id, plan.install));
    this.install = new command.remote.Command(`${name}-install`, {
      connection, create: install, update: install, stdin, addPreviousOutputInEnv: false,
    }, { parent: this, dependsOn: [this.teardown] });

    this.registerOutputs({ urls: this.urls, textfileDir: this.textfileDir });
  }
}
