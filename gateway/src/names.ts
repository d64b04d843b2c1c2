// The gateway's naming rule for tools and prompts (docs/gateway.md, "Names"). Pure.
//
// A tool `t` of upstream `s` is listed as `s__t`. Upstream names are `[a-z][a-z0-9-]{0,19}` (no `_`), so the first
// `__` always ends the upstream name: two upstreams can never produce the same name, and a name maps back to exactly
// one upstream whatever its tool names contain.
//
// The name must also be usable by clients. MCP 2025-11-25, server/tools "Tool Names": names SHOULD be 1-128
// characters of A-Z a-z 0-9 _ - . (SEP-986). The model APIs behind MCP clients are narrower: Anthropic's tool names
// match ^[a-zA-Z0-9_-]{1,128}$ (no dot) and OpenAI's function names stop at 64 characters. So a gateway name uses only
// A-Z a-z 0-9 _ - and is at most TOOL_NAME_MAX characters (default 64, at most 128). When `s__t` breaks either rule,
// the name becomes `s__<head>-<hash>`: <head> is t with every other character replaced by `_`, cut so the whole fits,
// and <hash> the first 8 hex digits of SHA-256(t), so distinct long names stay distinct and the mapping is the same on
// every start. Should a shortened name still equal another of the same upstream (only names built to collide can), the
// one listed later by the upstream is hidden and logged (event "name_collision"); names are never silently merged.
import { createHash } from "node:crypto";

/** Upstream names: a lowercase letter, then up to 19 lowercase letters, digits or `-` (the rule SelfHostedMcp's servers follow too). */
export { SERVER_NAME_SOURCE } from "../../contract/values.ts";
/** The spec's upper bound on tool names (MCP 2025-11-25, server/tools "Tool Names"). */
export const TOOL_NAME_MAX_LIMIT = 128;
export const SEPARATOR = "__";
const HASH_HEX = 8;
const CLIENT_SAFE = /^[A-Za-z0-9_-]+$/;

/** The gateway name of `name` (a tool or prompt) of upstream `server`, at most `max` characters. */
export function gatewayName(server: string, name: string, max: number): string {
  const plain = `${server}${SEPARATOR}${name}`;
  if (plain.length <= max && CLIENT_SAFE.test(name)) return plain;
  const hash = createHash("sha256").update(name, "utf8").digest("hex").slice(0, HASH_HEX);
  const room = max - server.length - SEPARATOR.length - 1 - HASH_HEX;
  const head = name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, Math.max(0, room));
  return `${server}${SEPARATOR}${head}-${hash}`;
}

/** The upstream a gateway name belongs to (the part before the first `__`), or undefined. */
export function upstreamOf(gatewayName: string): string | undefined {
  const i = gatewayName.indexOf(SEPARATOR);
  return i > 0 ? gatewayName.slice(0, i) : undefined;
}

export interface NameTable<T> {
  /** gateway name → the upstream's own name and item, in the upstream's order. */
  byName: Map<string, { original: string; item: T }>;
  /** Upstream names hidden because their gateway name was taken (logged by the caller). */
  hidden: Array<{ original: string; name: string }>;
}

/** Names every item of one upstream's list; the first item wins a taken name. */
export function nameTable<T extends { name: string }>(server: string, items: readonly T[], max: number): NameTable<T> {
  const byName = new Map<string, { original: string; item: T }>();
  const hidden: NameTable<T>["hidden"] = [];
  for (const item of items) {
    const name = gatewayName(server, item.name, max);
    if (byName.has(name)) hidden.push({ original: item.name, name });
    else byName.set(name, { original: item.name, item });
  }
  return { byName, hidden };
}
