// Starts the gateway (gateway/src/main.ts) as a real child process, like startServer does the reference server (same
// clean environment, free ports, captured JSON logs, bounded waits), in front of the given upstreams.
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, type RunningServer, type StartOptions } from "./server.ts";

export const GATEWAY_MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "gateway", "src", "main.ts");

/** `upstreams`: name → MCP endpoint URL (UPSTREAMS and UPSTREAM_<NAME>_URL); `env` adds or overrides variables. */
export function startGateway(upstreams: Record<string, string>, env: Record<string, string> = {}, opts: StartOptions = {}): Promise<RunningServer> {
  const vars: Record<string, string> = { UPSTREAMS: Object.keys(upstreams).join(",") };
  for (const [name, url] of Object.entries(upstreams)) vars[`UPSTREAM_${name.toUpperCase().replaceAll("-", "_")}_URL`] = url;
  return startServer({ ...vars, ...env }, { ...opts, main: GATEWAY_MAIN });
}
