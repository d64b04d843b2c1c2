// Starts the gateway (gateway/src/main.ts) as a real child process, like startServer does the reference server (same
// clean environment, free ports, captured JSON logs, bounded waits), in front of the given upstreams.
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { McpError } from "@modelcontextprotocol/sdk/types.js";
import { startServer, type RunningServer, type StartOptions } from "./server.ts";

export const GATEWAY_MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "gateway", "src", "main.ts");

/** `upstreams`: name → MCP endpoint URL (UPSTREAMS and UPSTREAM_<NAME>_URL); `env` adds or overrides variables. */
export function startGateway(upstreams: Record<string, string>, env: Record<string, string> = {}, opts: StartOptions = {}): Promise<RunningServer> {
  const vars: Record<string, string> = { UPSTREAMS: Object.keys(upstreams).join(",") };
  for (const [name, url] of Object.entries(upstreams)) vars[`UPSTREAM_${name.toUpperCase().replaceAll("-", "_")}_URL`] = url;
  return startServer({ ...vars, ...env }, { ...opts, main: GATEWAY_MAIN });
}

/**
 * Asserts that `client` cannot call `<name>__search_notes` of the reference server `upstream` (named `name` behind the
 * gateway): -32602, the very answer a name of no upstream gets, and the upstream counted no call.
 */
export async function assertCallRefusedLikeUnknown(client: Client, name: string, upstream: RunningServer): Promise<void> {
  // The upstream's mcp_tool_calls_total, not its tool_call log lines: the counter moves before a call's answer is
  // sent, so it holds every earlier call by now (log lines are written in batches, server/src/logger.ts).
  const seen = await toolCallsCounted(upstream);
  const refused = await client.callTool({ name: `${name}__search_notes`, arguments: { query: "x" } }).then(() => undefined, (e: McpError) => e);
  const unknown = await client.callTool({ name: "nosuch__search_notes", arguments: { query: "x" } }).then(() => undefined, (e: McpError) => e);
  assert.equal(refused?.code, -32602);
  assert.equal(refused?.message.replace(`${name}__`, "X"), unknown?.message.replace("nosuch__", "X"), "same answer as for a name that does not exist");
  assert.equal(await toolCallsCounted(upstream), seen, `${name} was never called`);
}

/** The sum of a reference server's mcp_tool_calls_total over every tool and status (its /metrics, Prometheus text). */
async function toolCallsCounted(server: RunningServer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return [...text.matchAll(/^mcp_tool_calls_total(?:\{[^}]*\})? (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}
