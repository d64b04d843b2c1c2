// Field-population rules of the smoke test (pure) and validation of the `_meta` declaration format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { valuesAt, checkField, checkItems, isPopulated } from "../../smoke/population.ts";
import { smokeExampleOf, SMOKE_META_KEY } from "../../smoke/examples.ts";

const forecast = { timezone: "GMT", days: [{ t: 1 }, { t: null }, { t: 3 }, {}, { t: 0 }] };

test("paths step into arrays with [] and count a missing parent as one missing value", () => {
  assert.deepEqual(valuesAt(forecast, "days[].t"), [1, null, 3, undefined, 0]);
  assert.deepEqual(valuesAt(forecast, "timezone"), ["GMT"]);
  assert.deepEqual(valuesAt({ daily_data: {} }, "days[].t"), [undefined]);
  assert.deepEqual(valuesAt({ a: [{ b: [{ c: 1 }, { c: 2 }] }, { b: [] }] }, "a[].b[].c"), [1, 2]);
});

test("populated means not missing, null, blank or empty; 0 and false count", () => {
  assert.deepEqual([0, false, "x", [1], {}].map(isPopulated), [true, true, true, true, true]);
  assert.deepEqual([undefined, null, "", "  ", []].map(isPopulated), [false, false, false, false, false]);
});

test("thresholds: share of populated values against minPopulated (default 100 %)", () => {
  assert.deepEqual(checkField(forecast, { field: "days[].t", minPopulated: 0.6 }), { field: "days[].t", total: 5, populated: 3, required: 0.6, ok: true });
  assert.equal(checkField(forecast, { field: "days[].t", minPopulated: 0.61 }).ok, false);
  assert.equal(checkField(forecast, { field: "days[].t" }).ok, false);
  assert.equal(checkField({ daily_data: {} }, { field: "days[].t", minPopulated: 0.1 }).ok, false, "renamed parent fails");
  assert.equal(checkField({ days: [] }, { field: "days[].t" }).ok, true, "no entries is minItems' business");
});

test("minItems needs an array of at least n entries", () => {
  assert.deepEqual(checkItems(forecast, "days", 5), { field: "days", min: 5, found: 5, ok: true });
  assert.equal(checkItems(forecast, "days", 6).ok, false);
  assert.deepEqual(checkItems({}, "days", 1), { field: "days", min: 1, found: -1, ok: false });
});

test("_meta declarations are validated and a bad one is reported by key", () => {
  assert.deepEqual(smokeExampleOf(undefined), { kind: "none" });
  assert.deepEqual(smokeExampleOf({ other: 1 }), { kind: "none" });
  const ok = smokeExampleOf({ [SMOKE_META_KEY]: { arguments: { q: 1 }, fields: [{ field: "a[].b", minPopulated: 0.9 }] } });
  assert.equal(ok.kind, "declared");
  const bad = smokeExampleOf({ [SMOKE_META_KEY]: { fields: [{ field: "a[].b", minPopulated: 90 }] } });
  assert.equal(bad.kind, "invalid");
  assert.match((bad as { error: string }).error, /_meta\["selfhosted-mcp\/smoke"\] is invalid: fields\.0\.minPopulated/);
  const typo = smokeExampleOf({ [SMOKE_META_KEY]: { argument: {} } });
  assert.match((typo as { error: string }).error, /argument/);
});
