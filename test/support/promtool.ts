// `promtool test rules` on a rendered rules file: writes the rules and a test file (rule unit tests,
// https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/) to a temp directory and runs them.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { stringify } from "yaml";
import { run } from "./proc.ts";

export type Alert = { exp_labels: Record<string, string>; exp_annotations: Record<string, string> };
export type Case = { eval_time: string; alertname: string; exp_alerts: Alert[] };
export type Series = { series: string; values: string };
export type RuleTest = { input_series: Series[]; alert_rule_test: Case[] };
export const at = (eval_time: string, alertname: string, ...exp_alerts: Alert[]): Case => ({ eval_time, alertname, exp_alerts });

// Created when a test file imports this module, so the cleanup hook is the file's (a hook added inside a test would
// run when that test ends).
const dir = mkdtempSync(join(tmpdir(), "promtool-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the tests (interval and evaluation_interval 1m) against `rules`; the process result. */
export async function promtoolTest(rules: string, tests: RuleTest[]) {
  const ruleFile = join(dir, `rules-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(ruleFile, rules);
  const testFile = `${ruleFile}.test.yml`;
  writeFileSync(testFile, stringify({ rule_files: [ruleFile], evaluation_interval: "1m", tests: tests.map((t) => ({ interval: "1m", ...t })) }));
  return run("promtool", ["test", "rules", testFile], { timeoutMs: 60_000 });
}

/** promtoolTest, asserting that every case passes (promtool's output in the message). */
export async function assertPromtool(rules: string, tests: RuleTest[]): Promise<void> {
  const r = await promtoolTest(rules, tests);
  assert.equal(r.code, 0, `promtool test rules failed:\n${r.stdout}\n${r.stderr}`);
}
