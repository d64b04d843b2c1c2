#!/usr/bin/env node
// `selfhosted-mcp smoke <url>` (also `npm run smoke -- <url>`): runs the smoke test, prints a readable report or
// JSON (--json), optionally writes a Prometheus textfile (--metrics-file). Exit 0 = all checks passed,
// 1 = a check failed, 2 = bad usage. `selfhosted-mcp usage …`: usage totals from the ledger (usage.ts).
import { parseArgs } from "node:util";
import { runSmoke } from "./run.ts";
import { formatReport } from "./report.ts";
import { writeSmokeMetrics, SMOKE_SERVER_LABEL } from "./metrics-file.ts";
import { usageMain, UsageError as UsageArgError, USAGE_HELP } from "./usage.ts";

const USAGE = `usage: selfhosted-mcp smoke <url> [options]

  <url>                  server base URL (https://mcp.example.com) or its MCP endpoint (…/mcp)
  --token <token>        bearer token for /mcp (or env SMOKE_TOKEN)
  --json                 print the report as JSON
  --health-url <url>     health endpoint (default: <base>/health)
  --timeout-ms <ms>      per-step timeout (default 20000)
  --min-cert-days <n>    fail when the TLS certificate expires sooner (default 7)
  --metrics-file <path>  also write a Prometheus textfile (node_exporter textfile collector), e.g.
                         /var/lib/prometheus/node-exporter/selfhosted-mcp-smoke.prom
  --metrics-server <name>  label every textfile series server="<name>" (one of several servers behind a gateway)
`;

class UsageError extends Error {}

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name}: "${v}" is not a whole number ≥ 0`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      token: { type: "string" }, json: { type: "boolean" }, "health-url": { type: "string" }, "timeout-ms": { type: "string" },
      "min-cert-days": { type: "string" }, "metrics-file": { type: "string" },
      "metrics-server": { type: "string" }, help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) { process.stdout.write(USAGE); return 0; }
  const args = positionals[0] === "smoke" ? positionals.slice(1) : positionals;
  if (args.length !== 1) throw new UsageError(args.length ? `expected one URL, got ${args.length}: ${args.join(" ")}` : "missing <url>");
  const server = values["metrics-server"];
  if (server !== undefined && !SMOKE_SERVER_LABEL.test(server)) throw new UsageError(`--metrics-server: "${server}" is not a server name (${SMOKE_SERVER_LABEL.source})`);
  const report = await runSmoke({
    url: args[0]!,
    token: values.token ?? (process.env.SMOKE_TOKEN || undefined),
    healthUrl: values["health-url"],
    timeoutMs: positiveInt("timeout-ms", values["timeout-ms"], 20_000),
    minCertDays: positiveInt("min-cert-days", values["min-cert-days"], 7),
  });
  if (values["metrics-file"]) await writeSmokeMetrics(values["metrics-file"], report, server);
  process.stdout.write(values.json ? JSON.stringify(report) + "\n" : formatReport(report));
  return report.ok ? 0 : 1;
}

const argv = process.argv.slice(2);
if (argv[0] === "usage") {
  usageMain(argv.slice(1)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    const bad = e instanceof UsageArgError || (e as { code?: string })?.code?.startsWith("ERR_PARSE_ARGS");
    process.stderr.write(`selfhosted-mcp usage: ${(e as Error).message ?? String(e)}\n${bad ? `\n${USAGE_HELP}` : ""}`);
    process.exitCode = bad ? 2 : 1;
  });
} else main(argv).then((code) => { process.exitCode = code; }, (e: unknown) => {
  const usage = e instanceof UsageError || (e as { code?: string })?.code?.startsWith("ERR_PARSE_ARGS");
  process.stderr.write(`selfhosted-mcp smoke: ${(e as Error).message ?? String(e)}\n${usage ? `\n${USAGE}` : ""}`);
  process.exitCode = 2;
});
