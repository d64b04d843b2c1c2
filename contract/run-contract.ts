// The ONE definition of how the server container runs: every `docker run` flag lives here. The image tests and
// the deployment scripts (blue/green slots on the droplet) both render their command from dockerRunArgs().
import * as z from "zod";
import { shellCommand } from "./shell.ts";
import { parseArgs } from "./args-error.ts";

const dockerName = (what: string) => z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/,
  `${what} must be 1-128 characters of letters, digits, "_", "." or "-", starting with a letter or digit`);
/** Absolute path safe inside `--mount` (no commas or `=` that would add mount options). */
const mountPath = (what: string) => z.string().regex(/^\/[A-Za-z0-9._/-]*$/, `${what} must be an absolute path of letters, digits, . _ - /`);
const tcpPort = z.number().int().min(1).max(65535);
const size = z.string().regex(/^[1-9][0-9]*[bkmg]$/, 'must be a size like "512m" or "1g"');
const duration = z.string().regex(/^[1-9][0-9]*(ms|s|m)$/, 'must be a duration like "500ms", "2s" or "1m"');

export const runSpecSchema = z.object({
  /** Image reference; deployments pass an immutable `name@sha256:...`. */
  image: z.string().regex(/^[a-zA-Z0-9][^\s]*$/, "image must be an image reference such as registry/name@sha256:... (no spaces, no leading '-')"),
  /** Container name, unique per slot (e.g. `mcp-weather-blue`). */
  name: dockerName("name"),
  /** Path on the host of the env file (mode 0600) holding configuration and secrets; read by the docker CLI. */
  envFile: z.string().startsWith("/", "envFile must be an absolute path on the host"),
  /** Loopback port for /mcp, /health, /livez (nginx proxies to it). Per slot. */
  port: tcpPort,
  /** Loopback port for /metrics. Per slot. */
  metricsPort: tcpPort,
  /** Address the server binds; with host networking this must stay loopback. */
  host: z.enum(["127.0.0.1", "::1"]).default("127.0.0.1"),
  /**
   * Host directory (per slot) bind-mounted at /run/selfhosted-mcp: the server listens on the unix socket
   * LISTEN_SOCKET=/run/selfhosted-mcp/mcp.sock in it, which nginx reaches through the deployment's live symlink.
   */
  socketDir: mountPath("socketDir").optional(),
  /** Named volume holding the SQLite data, mounted at dataDir; shared by the slots of one server. */
  volume: dockerName("volume"),
  dataDir: mountPath("dataDir").default("/data"),
  /** Host files (e.g. API keys) bind-mounted read-only, for servers that read secrets from files (API_KEYS_FILE). */
  secretFiles: z.array(z.object({ source: mountPath("secretFiles[].source"), target: mountPath("secretFiles[].target") }).strict())
    .default([]),
  /**
   * Host directories bind-mounted read-only, e.g. the servers' socket directories a gateway connects through (a
   * read-only mount is checked by mnt_want_write, which connect(2) on a unix socket does not call: net/unix/af_unix.c
   * unix_find_bsd checks only path_permission(MAY_WRITE) on the socket file).
   */
  readOnlyDirs: z.array(z.object({ source: mountPath("readOnlyDirs[].source"), target: mountPath("readOnlyDirs[].target") }).strict())
    .default([]),
  labels: z.record(z.string(), z.string()).default({}).superRefine((labels, ctx) => {
    for (const key of Object.keys(labels)) {
      if (!/^[a-z0-9][a-z0-9._-]*$/.test(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: "label keys must be lower-case reverse-DNS style, e.g. io.example.slot" });
      }
    }
  }),
  /** Memory limit in MB, swap included (`--memory` = `--memory-swap`: no swap); docker's minimum is 6 MB. */
  memoryMb: z.number().int("must be a whole number of MB").min(6, "must be at least 6 (docker's minimum, MB)").max(1_048_576).default(512),
  /** CPU limit in CPUs (`--cpus`), e.g. 0.5 or 1. */
  cpus: z.number().positive("must be a positive number of CPUs such as 0.5 or 1").max(1024).default(1),
  pidsLimit: z.number().int().min(16).max(65536).default(256),
  tmpfsSize: size.default("64m"),
  /** Seconds docker waits after SIGTERM before SIGKILL; the server drains within SHUTDOWN_TIMEOUT_MS (< this). */
  stopTimeoutSeconds: z.number().int().min(1).max(600).default(30),
  restart: z.enum(["unless-stopped", "no"]).default("unless-stopped"),
  logMaxSize: size.default("10m"),
  logMaxFiles: z.number().int().min(1).max(100).default(3),
  /**
   * Health probe schedule (the probe is the image's HEALTHCHECK, contract/livez-probe.sh: a `docker exec` of bash,
   * ~3 ms of CPU in the container plus the runtime's exec). Default 30 s, Docker's own: the status is for `docker ps`
   * and operators; nothing in the deploy reads it (deploy.sh gates a slot on its own probe of the slot's socket).
   * Docker reports `healthy` only after the first probe, one interval after start. On Docker >= 25 set
   * healthStartInterval (e.g. "1s") to probe fast during healthStartPeriod and keep a slow steady interval.
   */
  healthInterval: duration.default("30s"),
  healthStartInterval: duration.optional(),
  healthTimeout: duration.default("3s"),
  healthRetries: z.number().int().min(1).max(20).default(3),
  healthStartPeriod: duration.default("30s"),
}).strict().refine((s) => s.port !== s.metricsPort, { message: "metricsPort must differ from port", path: ["metricsPort"] });

/** What callers write; defaults are filled in by dockerRunArgs. */
export type RunSpec = z.input<typeof runSpecSchema>;
/** The spec with every default applied. */
export type ResolvedRunSpec = z.output<typeof runSpecSchema>;

/** Where the socket directory is mounted in the container, and the socket the server creates there. */
export const CONTAINER_SOCKET_DIR = "/run/selfhosted-mcp";
export const SOCKET_NAME = "mcp.sock";

/** Validates a spec; throws InvalidArgsError ("RunSpec <key>: ...") naming each offending key. */
export function resolveRunSpec(spec: RunSpec): ResolvedRunSpec {
  return parseArgs("RunSpec", runSpecSchema, spec);
}

/**
 * Environment the contract sets per container (after --env-file, so these win). The env file must not set them:
 * they are what differs between the blue and green slots.
 */
export function contractEnv(s: ResolvedRunSpec): Record<string, string> {
  return {
    HOST: s.host, PORT: String(s.port), METRICS_HOST: s.host, METRICS_PORT: String(s.metricsPort), DATA_DIR: s.dataDir,
    ...(s.socketDir ? { LISTEN_SOCKET: `${CONTAINER_SOCKET_DIR}/${SOCKET_NAME}` } : {}),
  };
}

/** The arguments after `docker` that start the container detached: `["run", "--detach", ..., image]`. */
export function dockerRunArgs(spec: RunSpec): string[] {
  const s = resolveRunSpec(spec);
  const args = [
    "run", "--detach", "--name", s.name,
    "--network", "host",
    "--read-only", "--tmpfs", `/tmp:rw,noexec,nosuid,nodev,size=${s.tmpfsSize}`,
    "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
    "--memory", `${s.memoryMb}m`, "--memory-swap", `${s.memoryMb}m`, "--cpus", String(s.cpus), "--pids-limit", String(s.pidsLimit),
    "--restart", s.restart, "--stop-timeout", String(s.stopTimeoutSeconds),
    "--mount", `type=volume,source=${s.volume},target=${s.dataDir}`,
    "--env-file", s.envFile,
  ];
  if (s.socketDir) args.push("--mount", `type=bind,source=${s.socketDir},target=${CONTAINER_SOCKET_DIR}`);
  for (const f of [...s.secretFiles, ...s.readOnlyDirs]) args.push("--mount", `type=bind,source=${f.source},target=${f.target},readonly`);
  for (const [k, v] of Object.entries(contractEnv(s))) args.push("--env", `${k}=${v}`);
  args.push(
    "--log-driver", "json-file", "--log-opt", `max-size=${s.logMaxSize}`, "--log-opt", `max-file=${s.logMaxFiles}`,
    "--health-interval", s.healthInterval, "--health-timeout", s.healthTimeout,
    "--health-retries", String(s.healthRetries), "--health-start-period", s.healthStartPeriod,
  );
  if (s.healthStartInterval) args.push("--health-start-interval", s.healthStartInterval);
  for (const [k, v] of Object.entries(s.labels).sort(([a], [b]) => a.localeCompare(b))) args.push("--label", `${k}=${v}`);
  args.push(s.image);
  return args;
}

/** The complete `docker run ...` line for a remote script. */
export function dockerRunCommand(spec: RunSpec): string {
  return shellCommand(["docker", ...dockerRunArgs(spec)]);
}
