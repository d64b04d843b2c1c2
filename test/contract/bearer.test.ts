import { test } from "node:test";
import assert from "node:assert/strict";
import { bearerToken, isB64Token } from "../../contract/bearer.ts";

test("bearerToken: exactly `Bearer <b64token>`, scheme case-insensitive (RFC 6750 §2.1)", () => {
  assert.equal(bearerToken("Bearer abc.DEF-_~+/9=="), "abc.DEF-_~+/9==");
  assert.equal(bearerToken("bearer abc"), "abc");
  assert.equal(bearerToken("BEARER abc"), "abc");
  for (const bad of [undefined, "", "Bearer", "Bearer ", "Bearer  abc", "Bearer abc x", "Bearer abc ", " Bearer abc",
    "Basic abc", "Bearerabc", "Bearer a=b", "Bearer a\tb", "Bearer ab\n", "Bearer é"]) {
    assert.equal(bearerToken(bad), undefined, JSON.stringify(bad));
  }
});

test("isB64Token: only b64token characters, padding only at the end", () => {
  assert.ok(isB64Token("k".repeat(32)));
  assert.ok(isB64Token("a-b_c.d~e+f/g=="));
  for (const bad of ["", "a b", "a,b", "=a", "a=b", "ключ"]) assert.equal(isB64Token(bad), false, bad);
});
