// `selfhosted-mcp/smoke`: the smoke test as a library (the CLI, smoke/cli.ts, is `npx selfhosted-mcp smoke <url>`).
export { runSmoke, type SmokeOptions, type SmokeReport, type CheckResult } from "./run.ts";
export { formatReport } from "./report.ts";
