// The host-ready command: one remote script, run in place (never replaced), again whenever an input changes — a new
// droplet (HOST_ID), a resize (SWAP_MB), another connection limit. host-ready.sh waits for cloud-init, checks the
// tools and sizes the swap; host-limits.sh sets nginx's connection budget and the per-address connection limit
// (nginx/connlimit.ts). Both live here rather than in the user-data: a user-data change REPLACES the droplet
// (ForceNew, see cloud-init.ts), so only what can never change belongs there. Pure: no Pulumi.
import { remoteCommand, renderScript, type ScriptInputs } from "./remote-script.ts";
import { renderConnlimitScript, renderConnlimitUnit, CONNLIMIT_UNIT, DEFAULT_CONNLIMIT_SCRIPT_PATH, type ConnlimitOptionsInput } from "../../nginx/index.ts";

/**
 * nginx's connection budget. Debian/Ubuntu ship `worker_connections 768` (one worker per core: 768 on the 1-vCPU
 * droplet) and systemd's soft limit of 1024 open files. A proxied request holds two connections (client +
 * upstream), and the kernel's limit lets one address hold up to `perAddress` (128): 4096 leaves room for many
 * clients at once; 8192 files cover two per connection (nginx docs: worker_connections, worker_rlimit_nofile).
 */
export const NGINX_WORKER_CONNECTIONS = 4096;
export const NGINX_WORKER_RLIMIT_NOFILE = 8192;

export interface HostReadyOptions {
  hostId: string;
  /** Bound on `cloud-init status --wait` (seconds). */
  cloudInitTimeoutSeconds: number;
  requiredCommands: string[];
  /** Swap file size in MB (0: none) and its path. */
  swapMb: number;
  swapFile: string;
  /** Per-address connection limit in front of nginx (renderConnlimitScript options; default 128 per address on 80/443). */
  connectionLimit?: ConnlimitOptionsInput;
  /** The host's nginx.conf (default /etc/nginx/nginx.conf). */
  nginxConf?: string;
  /** Where the connlimit script and unit go (defaults: /usr/local/sbin, /etc/systemd/system). */
  connlimitScript?: string;
  unitDir?: string;
}

/** The inputs of host-limits.sh (exported for its tests, which run it on its own). */
export function hostLimitsInputs(o: Omit<HostReadyOptions, "hostId" | "cloudInitTimeoutSeconds" | "requiredCommands" | "swapMb" | "swapFile">): ScriptInputs {
  const b64 = (t: string) => Buffer.from(t).toString("base64");
  const script = o.connlimitScript ?? DEFAULT_CONNLIMIT_SCRIPT_PATH;
  return {
    NGINX_CONF: o.nginxConf ?? "/etc/nginx/nginx.conf",
    WORKER_CONNECTIONS: NGINX_WORKER_CONNECTIONS, WORKER_RLIMIT_NOFILE: NGINX_WORKER_RLIMIT_NOFILE,
    CONNLIMIT_SCRIPT: script, CONNLIMIT_SCRIPT_B64: b64(renderConnlimitScript(o.connectionLimit ?? {})),
    CONNLIMIT_UNIT, CONNLIMIT_UNIT_FILE: `${o.unitDir ?? "/etc/systemd/system"}/${CONNLIMIT_UNIT}.service`,
    CONNLIMIT_UNIT_B64: b64(renderConnlimitUnit(script)),
  };
}

/** The host-ready command string (POSIX sh wrapper running host-ready.sh, then host-limits.sh, as root). */
export function renderHostReady(o: HostReadyOptions): string {
  return remoteCommand(renderScript(["host-ready", "host-limits"], {
    HOST_ID: o.hostId, CLOUD_INIT_TIMEOUT_SECONDS: o.cloudInitTimeoutSeconds, REQUIRED_COMMANDS: o.requiredCommands.join(" "),
    SWAP_MB: o.swapMb, SWAP_FILE: o.swapFile, ...hostLimitsInputs(o),
  }));
}
