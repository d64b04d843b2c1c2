// The gateway's per-upstream environment names (docs/gateway.md, "Configuration"): what the gateway reads and
// SelfHostedMcp writes into its env file. Imports nothing of the project (contract/ is the bottom layer).

/** `UPSTREAM_<NAME>_<SUFFIX>`: the name upper-cased, `-` → `_` (one-to-one: server names have no `_`). */
export const upstreamVar = (name: string, suffix: "URL" | "SOCKET" | "TOKEN" | "SCOPE") => `UPSTREAM_${name.toUpperCase().replaceAll("-", "_")}_${suffix}`;

/**
 * The OAuth scope that lets a token use upstream `name` unless UPSTREAM_<NAME>_SCOPE names another: `mcp:server:<name>`.
 * A scope-token of RFC 6749 §3.3 (`%x21 / %x23-5B / %x5D-7E`: server names are lowercase letters, digits and `-`),
 * namespaced with `:` like the MCP specification's own examples (`mcp:tools`), and never equal to the reference
 * server's `mcp:tools`, so a server's scope and the gateway's per-server scopes cannot be confused.
 */
export const defaultUpstreamScope = (name: string) => `mcp:server:${name}`;

/** RFC 6749 §3.3 scope-token: one or more of %x21 / %x23-5B / %x5D-7E (printable ASCII but space, `"` and `\`). */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
