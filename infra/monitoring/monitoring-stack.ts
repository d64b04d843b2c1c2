// McpMonitoringStack: Prometheus + Alertmanager + node_exporter on the droplet (renderMonitoringPlan), over SSH.
// Two remote Commands, shaped by @pulumi/command 1.2.1's diff rules (provider/pkg/provider/remote/command.go:
// `connection` and `triggers` are replaceOnChanges; a change of create/update/delete/stdin is an in-place Update that
// runs `update`; a replace runs the OLD resource's `delete` after the new `create`):
//   <name>-teardown  create: a no-op; delete: the uninstall script. Its inputs depend only on paths, so it is never
//                    replaced by a config change and its delete runs only when the stack is really removed.
//   <name>-install   create = update = the install script; no triggers, no delete: a changed rule, threshold, receiver
//                    or secret is an in-place update (validate, then reload/restart); Prometheus data survives.
// The Alertmanager config (receivers' secrets) is the install command's stdin, a secret Output. Nothing here uses
// CopyToRemote, so no preview-unknown value can reach a copy source.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { remoteCommand } from "../render/remote-script.ts";
import type { Connection } from "../components/host.ts";
import { renderMonitoringPlan, monitoringStdin } from "./monitoring-plan.ts";
import { requiredSecrets, MonitoringOptionsError, type MonitoringOptions, type MonitoringSecrets } from "./stack-options.ts";

export interface McpMonitoringStackArgs extends MonitoringOptions {
  /** SSH connection to the host (McpHost.connection). */
  connection: pulumi.Input<Connection>;
  /** Secrets of the configured receivers (see requiredSecrets): only ever on the install command's stdin. */
  secrets?: { [K in keyof MonitoringSecrets]?: pulumi.Input<string> };
  /** Install after these (e.g. McpHost.ready). Scrape targets are static, so it does not wait for a deploy. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class McpMonitoringStack extends pulumi.ComponentResource {
  readonly install: command.remote.Command;
  readonly teardown: command.remote.Command;
  /** Loopback URLs on the droplet (reach them with `ssh -L`). Not secret. */
  readonly urls: { prometheus: string; alertmanager: string; nodeExporter: string };
  /** node_exporter's textfile directory: give it to McpSmokeTimer as `textfileDir`. */
  readonly textfileDir: string;

  constructor(name: string, args: McpMonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    const { connection, secrets = {}, dependsOn, ...options } = args;
    // Validation first: a bad option or a receiver without its secret fails before any resource registers.
    const plan = renderMonitoringPlan(options);
    const missing = requiredSecrets(plan.options).filter((k) => secrets[k] === undefined);
    if (missing.length) throw new MonitoringOptionsError(`monitoring: missing secrets for the configured receivers: ${missing.join(", ")}`);
    super("selfhosted-mcp:index:McpMonitoringStack", name, {}, opts);
    this.urls = plan.urls;
    this.textfileDir = plan.options.textfileDir;

    // An SSH no-op; the delete is what matters. Only a changed connection (a new droplet) replaces it.
    this.teardown = new command.remote.Command(`${name}-teardown`, {
      connection, create: remoteCommand("true"), delete: plan.uninstall, addPreviousOutputInEnv: false,
    }, { parent: this, ...(dependsOn ? { dependsOn } : {}) });

    const keys = Object.keys(secrets) as (keyof MonitoringSecrets)[];
    const stdin = pulumi.secret(pulumi.all(keys.map((k) => pulumi.output(secrets[k]!)))
      .apply((values) => monitoringStdin(plan.options, Object.fromEntries(keys.map((k, i) => [k, values[i]])) as MonitoringSecrets)));
    this.install = new command.remote.Command(`${name}-install`, {
      connection, create: plan.install, update: plan.install, stdin, addPreviousOutputInEnv: false,
    }, { parent: this, dependsOn: [this.teardown] });

    this.registerOutputs({ urls: this.urls, textfileDir: this.textfileDir });
  }
}
