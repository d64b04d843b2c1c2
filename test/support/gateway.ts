// Starts the gateway (gateway/src/main.ts) as a real child process, like startServer does the reference server (same
// clean environment, free ports, captured JSON logs, bounded waits), in front of the given upstreams.
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { McpError } from "@modelcontextprotocol/sdk/types.js";
import { startServer, type RunningServer, type StartOptions } from "./server.ts";
import { LOG_FLUSH_MS } from "../../server/src/logger.ts";

export const GATEWAY_MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "gateway", "src", "main.ts");

/** `upstreams`: name → MCP endpoint URL (UPSTREAMS and UPSTREAM_<NAME>_URL); `env` adds or overrides variables. */
export function startGateway(upstreams: Record<string, string>, env: Record<string, string> = {}, opts: StartOptions = {}): Promise<RunningServer> {
  const vars: Record<string, string> = { UPSTREAMS: Object.keys(upstreams).join(",") };
  for (const [name, url] of Object.entries(upstreams)) vars[`UPSTREAM_${name.toUpperCase().replaceAll("-", "_")}_URL`] = url;
  return startServer({ ...vars, ...env }, { ...opts, main: GATEWAY_MAIN });
}

/**
 * Asserts that `client` cannot call `<name>__search_notes` of the reference server `upstream` (named `name` behind the
 * gateway): -32602, the very answer a name of no upstream gets, and the upstream logs no call.
 */
export async function assertCallRefusedLikeUnknown(client: Client, name: string, upstream: RunningServer): Promise<void> {
  // The server gathers tool_call lines and writes them at least every LOG_FLUSH_MS (server/src/logger.ts): count
  // them once no line of an earlier call is still on its way, and again after as long.
  const calls = () => upstream.logEntries().filter((e) => e.event === "tool_call").length;
  const settled = () => settledValue(calls, LOG_FLUSH_MS * 4);
  const seen = await settled();
  const refused = await client.callTool({ name: `${name}__search_notes`, arguments: { query: "x" } }).then(() => undefined, (e: McpError) => e);
  const unknown = await client.callTool({ name: "nosuch__search_notes", arguments: { query: "x" } }).then(() => undefined, (e: McpError) => e);
  assert.equal(refused?.code, -32602);
  assert.equal(refused?.message.replace(`${name}__`, "X"), unknown?.message.replace("nosuch__", "X"), "same answer as for a name that does not exist");
  assert.equal(await settled(), seen, `${name} was never called`);
}

/** `read()` once it has not changed for `quietMs` (polled every 50 ms; at most 10 s, then its last value). */
async function settledValue(read: () => number, quietMs: number): Promise<number> {
  let value = read();
  let since = Date.now();
  for (const end = Date.now() + 10_000; Date.now() < end && Date.now() - since < quietMs;) {
    await new Promise((r) => setTimeout(r, 50));
    const now = read();
    if (now !== value) { value = now; since = Date.now(); }
  }
  return value;
}
