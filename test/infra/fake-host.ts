// The host stand-in the deploy-script tests run against: tiny bash scripts for docker, nginx, certbot, curl, … with
// their state under $STUB, a temp root removed after the file's tests, and the plan options of a host rooted there.
import { after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, mkdirSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderDeploymentPlan, renderBundle, renderEnvFile, type DeploymentPlanOptions, type SiteDeploymentOptions } from "../../infra/render/deployment-plan.ts";
import { renderDockerConfig } from "../../infra/render/docker-config.ts";
import { run } from "../support/proc.ts";

export const root = mkdtempSync(join(tmpdir(), "infra-scripts-"));
const hosts: Host[] = [];
after(() => {
  // The stub nginx masters the scripts started (by the PID each wrote), then the temp tree.
  for (const h of hosts) {
    try { process.kill(Number(readFileSync(`${h.dir}/nginx.pid`, "utf8")), "SIGTERM"); } catch { /* never started or gone */ }
  }
  rmSync(root, { recursive: true, force: true });
});
export const DIGEST = (c: string) => `127.0.0.1:5000/mcp@sha256:${c.repeat(64)}`;

/** The bash script inside a wrapped command (between the heredoc lines). */
export function inner(command: string): string {
  const lines = command.split("\n");
  const start = lines.findIndex((l) => l.startsWith("cat >\"$f\" <<'"));
  const end = lines.lastIndexOf("SELFHOSTED_MCP_SCRIPT_EOF");
  assert.ok(start > 0 && end > start, "wrapper has a heredoc");
  return lines.slice(start + 1, end).join("\n") + "\n";
}

export function planOptions(dir: string, over: Partial<SiteDeploymentOptions> = {}): SiteDeploymentOptions {
  return {
    app: "mcp", domain: "mcp.example.test", image: DIGEST("a"), port: 18000, metricsPort: 19090,
    acmeEmail: "ops@example.test", acmeServer: "https://127.0.0.1:14000/dir",
    healthTimeoutSeconds: 5, drainSeconds: 2,
    stateDir: `${dir}/lib/selfhosted-mcp/mcp`, siteFile: `${dir}/nginx/conf.d/site.conf`, hostId: "424242",
    nginxPidFile: `${dir}/nginx.pid`, certbotConfigDir: `${dir}/letsencrypt`, certbotPath: `${dir}/bin/certbot`,
    deployHookPath: `${dir}/hook`, nginx: { upstreamIncludeDir: `${dir}/nginx/upstreams`, acmeWebroot: `${dir}/webroot` },
    ...over,
  };
}

// --- stand-ins for the host's programs: tiny bash scripts with their state under $STUB ---
const STUBS: Record<string, string> = {
  docker: `#!/bin/bash
set -eu
echo "docker $*" >>"$STUB/calls"
c="$STUB/containers"; mkdir -p "$c"
case "$1" in
  pull) [ -z "\${STUB_PULL_FAIL:-}" ] ;;
  run) shift; name=""; sock=""
       while [ $# -gt 1 ]; do case "$1" in --name) name=$2; shift ;;
         --mount) case "$2" in *target=/run/selfhosted-mcp) sock=$(echo "$2" | sed -E 's#.*source=([^,]*),.*#\\1#')/mcp.sock ;; esac; shift ;;
         esac; shift; done
       # like the server: listen on LISTEN_SOCKET (a real socket file in the mounted slot directory)
       [ -n "\${STUB_NO_SOCKET:-}" ] || python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
       echo "$sock $1" >"$c/$name"; echo "container-id-$name" ;;
  inspect) case "$2 \${3:-}" in
             "-f {{.Image}}") [ -f "$c/$4" ] && { d=$(cut -d' ' -f2 "$c/$4"); d=\${d##*sha256:}; echo "image-of-\${d:0:1}"; } ;;
             -f*) [ -f "$c/$4" ] && echo true || echo false ;;
             *) [ -f "$c/$2" ] ;;
           esac ;;
  image) case "$2" in
           inspect) d=\${5##*sha256:}; echo "image-of-\${d:0:1}" ;;
           ls) printf 'image-of-a\nimage-of-b\nimage-of-old-build\n' ;;
           rm) ;;
         esac ;;
  logs) echo "boom: the new container log line for \${@: -1}" ;;
  stop) [ -f "$c/$2" ] ;;
  rm) rm -f "$c/$3" ;;
  *) echo "unexpected docker $*" >&2; exit 2 ;;
esac
`,
  curl: `#!/bin/bash
echo "curl $*" >>"$STUB/calls"
[ -z "\${STUB_UNHEALTHY:-}" ] || exit 22
while [ $# -gt 0 ]; do case "$1" in --unix-socket) sock=$2; shift ;; esac; shift; done
grep -qs "^\${sock:-none} " "$STUB"/containers/*
`,
  nginx: `#!/bin/bash
echo "nginx $*" >>"$STUB/calls"
case "$*" in
  "-t -q") [ -z "\${STUB_NGINX_BAD:-}" ] || ! grep -qs "ssl_certificate" "$STUB_SITE" ;;
  # A stand-in master: a reload (SIGHUP) starts a new child, as nginx starts new workers once the new configuration
  # is live (lib.sh's nginx_reload waits for that); SIGTERM ends it and its children; it lives at most 120 s.
  "-s reload") kill -HUP "$(cat "$STUB_PID")" ;;
  "") ( trap 'sleep 120 & ' HUP; trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM
        sleep 120 & w=$!; while kill -0 "$w" 2>/dev/null; do wait "$w"; done ) </dev/null >/dev/null 2>&1 &
      echo $! >"$STUB_PID" ;;
esac
`,
  certbot: `#!/bin/bash
echo "certbot $*" >>"$STUB/calls"
while [ $# -gt 0 ]; do case "$1" in --config-dir) cfg=$2 ;; --cert-name) name=$2 ;; esac; shift; done
mkdir -p "$cfg/live/$name" && echo CERT >"$cfg/live/$name/fullchain.pem"
`,
};

export interface Host { dir: string; env: NodeJS.ProcessEnv; calls(): string; reset(): void }
export function fakeHost(): Host {
  const dir = mkdtempSync(join(root, "host-"));
  mkdirSync(join(dir, "bin"));
  for (const [name, text] of Object.entries(STUBS)) { writeFileSync(join(dir, "bin", name), text); chmodSync(join(dir, "bin", name), 0o755); }
  const env = { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, STUB: dir, STUB_PID: `${dir}/nginx.pid`, STUB_SITE: `${dir}/nginx/conf.d/site.conf` };
  const host: Host = { dir, env, calls: () => (existsSync(`${dir}/calls`) ? readFileSync(`${dir}/calls`, "utf8") : ""), reset: () => rmSync(`${dir}/calls`, { force: true }) };
  hosts.push(host);
  return host;
}

export const sh = (command: string, env: NodeJS.ProcessEnv, input = "") => run("sh", ["-c", command], { env, timeoutMs: 60_000, input });

/** What McpDeployment's deploy command does: its script, with every file (secrets too) in the bundle on stdin. */
export function deploy(host: Host, options: DeploymentPlanOptions, env: Record<string, string>, extraEnv: NodeJS.ProcessEnv = {}) {
  const plan = renderDeploymentPlan(options);
  const bundle = renderBundle({ ...plan.files, env: renderEnvFile(env), "docker-config.json": renderDockerConfig("127.0.0.1:5000") }, plan.staged);
  return sh(plan.deploy, { ...host.env, ...extraEnv }, bundle);
}
