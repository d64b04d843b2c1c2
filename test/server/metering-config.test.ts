// Metering configuration through loadConfig: defaults, and a message naming the variable and the fix for bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig, ConfigError } from "../../server/src/config.ts";
import { apiKeyId } from "../../server/src/metering/credential-id.ts";

const KEY = "k".repeat(32);

test("defaults: ledger on, no webhook, no key plans, claim `plan`, default plan paid", () => {
  const m = loadConfig({ API_KEYS: KEY }).metering;
  assert.deepEqual({ ...m, keyPlans: [...m.keyPlans] }, { mode: "ledger", webhook: undefined, keyPlans: [], planClaim: "plan", defaultPlan: "paid" });
});

test("webhook settings and key plans are parsed", () => {
  const m = loadConfig({
    API_KEYS: KEY, METER: "webhook", METER_WEBHOOK_URL: "https://billing.example.test/usage", METER_WEBHOOK_SECRET: "s".repeat(16),
    METER_WEBHOOK_BATCH: "10", API_KEY_PLANS: `${apiKeyId(KEY)}=free`,
  }).metering;
  assert.deepEqual(m.webhook, { url: "https://billing.example.test/usage", secret: "s".repeat(16), batchSize: 10, timeoutMs: 5000, backoffMs: 1000, maxBackoffMs: 300_000 });
  assert.equal(m.keyPlans.get(apiKeyId(KEY)), "free");
});

test("bad metering input names the variable and the fix", () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ METER: "stripe" }, /^METER: invalid value "stripe": must be one of "ledger", "webhook", "off"/],
    [{ METER: "webhook" }, /^METER_WEBHOOK_URL: required when METER=webhook/],
    [{ METER_WEBHOOK_URL: "https://x.test/u" }, /^METER_WEBHOOK_URL: set, but METER=ledger/],
    [{ METER: "webhook", METER_WEBHOOK_URL: "https://x.test/u", METER_WEBHOOK_SECRET: "short" }, /^METER_WEBHOOK_SECRET: invalid value: must be at least 16/],
    [{ METER_WEBHOOK_BATCH: "5000" }, /^METER_WEBHOOK_BATCH: .*from 1 to 1000/],
    [{ METER_WEBHOOK_BACKOFF_MS: "5000", METER_WEBHOOK_MAX_BACKOFF_MS: "100" }, /^METER_WEBHOOK_MAX_BACKOFF_MS: must be at least METER_WEBHOOK_BACKOFF_MS/],
    [{ API_KEY_PLANS: "my-key=free" }, /^API_KEY_PLANS: "my-key=free" is not key:<16 hex digits>=<plan> .*sha256sum/],
    [{ API_KEY_PLANS: `${apiKeyId(KEY)}=gold` }, /^API_KEY_PLANS: key:[0-9a-f]{16}: plan "gold" is not one of free, paid/],
    [{ API_KEY_PLANS: "key:0000000000000000=free" }, /^API_KEY_PLANS: key:0000000000000000 matches none of the configured API keys/],
    [{ PLAN_DEFAULT: "gold" }, /^PLAN_DEFAULT: invalid value "gold": must be "free" or "paid"/],
  ];
  for (const [env, msg] of cases) assert.throws(() => loadConfig({ API_KEYS: KEY, ...env }), (e: Error) => e instanceof ConfigError && msg.test(e.message), JSON.stringify(env));
  assert.throws(() => loadConfig({ AUTH_MODE: "none", API_KEY_PLANS: "key:0000000000000000=free" }), /API_KEY_PLANS: only applies with AUTH_MODE=api-key/);
});
