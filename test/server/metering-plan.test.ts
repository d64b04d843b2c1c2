// The plan gate against the real server: API keys mapped to plans (API_KEY_PLANS) and OAuth tokens carrying a plan
// claim. Free → the expensive inputs are clamped, the result says so in words for the model, and the ledger bills what
// was delivered; paid → untouched; a plan lookup that fails (the token's claim is no known plan) → fails open (paid),
// logged and counted. Plus the gate's pure parts with a plan source that throws.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { freePort } from "../support/proc.ts";
import { call } from "./mcp-client.ts";
import { startIssuer, type Issuer } from "./jwks.ts";
import { metric, taggedClient, waitForRows } from "./metering-support.ts";
import { apiKeyId } from "../../server/src/metering/credential-id.ts";
import { applyLimits, ConfigPlanSource, type PlanSource } from "../../server/src/metering/plan-gate.ts";
import { Metering } from "../../server/src/metering/metering.ts";
import { createMeterMetrics } from "../../server/src/metering/metrics.ts";
import { createLogger } from "../../server/src/logger.ts";
import { Registry } from "prom-client";

const FREE_KEY = "free-plan-key-0123456789abcdef";
const PAID_KEY = "paid-plan-key-0123456789abcdef";

const days = (r: CallToolResult) => (r.structuredContent as { days: unknown[] }).days.length;
const notice = (r: CallToolResult) => r.content.slice(1).map((c) => (c.type === "text" ? c.text : "")).join("");

let stub: UpstreamStub;
before(async () => { stub = await startUpstreamStub(); });
after(async () => { await stub?.stop(); });

describe("API keys: plans from API_KEY_PLANS", () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({
      AUTH_MODE: "api-key", API_KEYS: `${FREE_KEY},${PAID_KEY}`, UPSTREAM_URL: stub.url,
      API_KEY_PLANS: `${apiKeyId(FREE_KEY)}=free`, // the paid key is unlisted: PLAN_DEFAULT (paid)
    });
  });
  after(async () => { await server?.stop(); });

  test("free plan: forecast days and search results clamped, the result says so, the ledger bills what was delivered", async () => {
    const c = await taggedClient(server.mcpUrl, FREE_KEY);
    try {
      c.tag("free-forecast");
      const r = await call(c.client, "get_forecast", { latitude: 1, longitude: 2, days: 10 });
      assert.equal(r.isError, undefined);
      assert.equal(days(r), 3, "clamped to the free plan's 3 days");
      assert.match(notice(r), /Plan limit: .*"free" plan.*days was reduced from 10 to 3.*upgrading to the paid plan/);
      const [row] = await waitForRows(server.dataDir, "free-forecast");
      assert.equal(row!.units, 3, "billed for the 3 days delivered, not the 10 asked");
      c.tag("free-search");
      const s = await call(c.client, "search_notes", { query: "x", limit: 50 });
      assert.match(notice(s), /limit was reduced from 50 to 5/);
      c.tag("free-small");
      const small = await call(c.client, "get_forecast", { latitude: 1, longitude: 2, days: 2 });
      assert.equal(days(small), 2);
      assert.equal(small.content.length, 1, "within the limit: no notice");
    } finally { await c.client.close(); }
    assert.equal(await metric(server.metricsPort, /^mcp_plan_clamped_calls_total\{tool="get_forecast"\}/), 1);
  });

  test("paid plan: nothing clamped, no notice", async () => {
    const c = await taggedClient(server.mcpUrl, PAID_KEY);
    try {
      const r = await call(c.client, "get_forecast", { latitude: 1, longitude: 2, days: 10 });
      assert.equal(days(r), 10);
      assert.equal(r.content.length, 1);
    } finally { await c.client.close(); }
  });
});

describe("OAuth: plan from the token's claim", () => {
  let server: RunningServer;
  let issuer: Issuer;
  before(async () => {
    const port = await freePort();
    issuer = await startIssuer(`http://127.0.0.1:${port}/mcp`);
    server = await startServer({ PORT: String(port), AUTH_MODE: "oauth", OAUTH_ISSUER: issuer.issuer, OAUTH_JWKS_URL: issuer.jwksUrl, UPSTREAM_URL: stub.url });
  });
  after(async () => { await server?.stop(); await issuer?.stop(); });

  const forecastAs = async (claims: Record<string, unknown>, tag: string) => {
    const c = await taggedClient(server.mcpUrl, await issuer.sign({ sub: `user-${tag}`, extra: claims }));
    c.tag(tag);
    try { return await call(c.client, "get_forecast", { latitude: 1, longitude: 2, days: 10 }); } finally { await c.client.close(); }
  };

  test("plan claim free → clamped; paid → not; the ledger names issuer and subject", async () => {
    assert.equal(days(await forecastAs({ plan: "free" }, "oauth-free")), 3);
    assert.equal(days(await forecastAs({ plan: "paid" }, "oauth-paid")), 10);
    const [row] = await waitForRows(server.dataDir, "oauth-free");
    assert.equal(row!.credential, `oauth:${issuer.issuer}#user-oauth-free`);
  });

  test("a plan lookup that fails (claim is no known plan) fails open: treated as paid, logged, counted", async () => {
    const r = await forecastAs({ plan: "platinum" }, "oauth-bad-plan");
    assert.equal(r.isError, undefined);
    assert.equal(days(r), 10, "fail open: not clamped");
    const log = await server.waitForLog((e) => e.event === "plan_lookup_failed");
    assert.equal(log.level, "warn");
    assert.match(String((log.err as { message: string }).message), /"platinum", not one of free, paid/);
    assert.equal(await metric(server.metricsPort, /^mcp_plan_lookup_failures_total /), 1);
  });
});

test("gate with a plan source that throws: fails open (paid), and the pure clamp leaves paid calls alone", () => {
  const registry = new Registry();
  const metrics = createMeterMetrics(registry);
  const throwing: PlanSource = { planOf() { throw new Error("plan service unreachable"); } };
  const m = new Metering({ meter: undefined, plans: throwing, authMode: "none", logger: createLogger("silent"), metrics });
  const billing = { units: 1, planLimits: { days: { free: 3 } } };
  const extra = {} as Parameters<Metering["gate"]>[3];
  assert.deepEqual(m.gate("get_forecast", billing, { days: 10 }, extra), { args: { days: 10 } });
  assert.deepEqual(applyLimits("t", { days: { free: 3 } }, "paid", { days: 10 }), { args: { days: 10 } });
  assert.equal(new ConfigPlanSource({ keyPlans: new Map(), claim: "plan", defaultPlan: "free" }).planOf({ id: "anonymous", kind: "none" }), "free", "PLAN_DEFAULT applies");
});
