// What the server, infra, nginx and the smoke CLI agree on (docs/contract.md): package subpath
// `selfhosted-mcp/contract`. Everything a contract module exports is public by design; this module imports nothing
// of the project but contract/ itself.
export * from "./run-contract.ts";
export * from "./image-build.ts";
export * from "./shell.ts";
export * from "./list.ts";
export * from "./api-keys.ts";
export * from "./bearer.ts";
export * from "./values.ts";
export * from "./smoke-example.ts";
export * from "./smoke-metrics.ts";
export * from "./usage-ledger.ts";
export * from "./gateway-env.ts";
export * from "./args-error.ts";
