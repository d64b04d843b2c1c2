// McpSmokeTimer: installs the smoke-test timer (renderSmokeTimer) on a host over SSH with one remote Command.
// The bundled smoke CLI and the bearer token (if any) travel on the command's stdin, which is secret — the token is
// never in the script or the state's plain inputs. No triggers (they would REPLACE the command, running the old
// one's delete — the uninstall — after the new install; see components/deployment.ts): a changed script, bundle,
// token or host is an in-place update that re-runs the install. Unchanged inputs run nothing.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { remoteCommand, onHost } from "../render/remote-script.ts";
import { hostIdentity, type Connection } from "../components/host.ts";
import { UPGRADE_FROM_TRIGGERS } from "../components/upgrades.ts";
import { renderSmokeTimer, smokeTimerStdin, type SmokeTimerOptions } from "./smoke-timer.ts";
import { bundleSmokeCli } from "./smoke-bundle.ts";
import { validateSmokeTimerArgs } from "./monitoring-args.ts";

export interface McpSmokeTimerArgs extends Omit<SmokeTimerOptions, "withToken"> {
  /** SSH connection to the host (McpHost.connection). */
  connection: pulumi.Input<Connection>;
  /** Bearer token for /mcp (an API key of the server); stored on the host as a 0600 env file. */
  token?: pulumi.Input<string>;
  /** Install after these (e.g. the McpDeployment, so the live slot exists). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** Identity of the host (McpHost.dropletId): a new host gets the timer again. Default: the connection's host. */
  hostId?: pulumi.Input<string>;
}

export class McpSmokeTimer extends pulumi.ComponentResource {
  readonly unit: string;
  readonly install: command.remote.Command;

  constructor(name: string, args: McpSmokeTimerArgs, opts?: pulumi.ComponentResourceOptions) {
    validateSmokeTimerArgs(args);
    const { connection, token, dependsOn, hostId, ...options } = args;
    const t = renderSmokeTimer({ ...options, withToken: token !== undefined });
    super("selfhosted-mcp:index:McpSmokeTimer", name, {}, opts);
    this.unit = t.unit;
    const identity = hostIdentity(hostId, connection);
    const create = identity.apply((id) => onHost(id, remoteCommand(t.install)));
    const bundle = bundleSmokeCli();
    this.install = new command.remote.Command(`${name}-install`, {
      connection, create, update: create, delete: remoteCommand(t.uninstall),
      stdin: pulumi.secret(pulumi.output(token).apply((tk) => smokeTimerStdin(bundle, tk))),
      addPreviousOutputInEnv: false,
    }, { parent: this, ...UPGRADE_FROM_TRIGGERS, ...(dependsOn ? { dependsOn } : {}) });
    this.registerOutputs({ unit: this.unit });
  }
}
