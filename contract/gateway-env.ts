// The gateway's per-upstream environment names (docs/gateway.md, "Configuration"): what the gateway reads and
// SelfHostedMcp writes into its env file. Imports nothing of the project (contract/ is the bottom layer).

/** `UPSTREAM_<NAME>_<SUFFIX>`: the name upper-cased, `-` → `_` (one-to-one: server names have no `_`). */
export const upstreamVar = (name: string, suffix: "URL" | "SOCKET" | "TOKEN") => `UPSTREAM_${name.toUpperCase().replaceAll("-", "_")}_${suffix}`;
