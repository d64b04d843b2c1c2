// Human-readable report of a smoke run: one line per check, failures first in the summary, naming tool and field.
import type { SmokeReport } from "./run.ts";

const MARK = { pass: "PASS", fail: "FAIL", skip: "SKIP" } as const;

export function formatReport(r: SmokeReport): string {
  const lines = [`smoke test of ${r.target} (${r.mcpUrl})`];
  for (const c of r.checks) {
    const name = c.tool ? `tool ${c.tool}` : c.check;
    const took = c.durationMs !== undefined ? ` [${c.durationMs} ms]` : "";
    lines.push(`  ${MARK[c.status]}  ${name.padEnd(24)} ${c.message}${took}`);
  }
  const failed = r.checks.filter((c) => c.status === "fail");
  lines.push(failed.length
    ? `FAILED: ${failed.length} of ${r.checks.length} checks failed (${failed.map((c) => (c.tool ? `tool ${c.tool}` : c.check)).join(", ")}) in ${r.durationMs} ms`
    : `OK: ${r.checks.filter((c) => c.status === "pass").length} checks passed, ${r.checks.filter((c) => c.status === "skip").length} skipped, in ${r.durationMs} ms`);
  return lines.join("\n") + "\n";
}
