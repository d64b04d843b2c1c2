// server/src/origin.ts's Host memo (issue 18): allowed Host header values are remembered so the hot path skips the
// URL parse, the memo is bounded (the header is the client's), and a memo never changes an answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Request, Response } from "express";
import { originGuard, ALLOWED_HOST_MEMO_MAX } from "../../server/src/origin.ts";

function check(guard: ReturnType<typeof originGuard>, headers: Record<string, string>): number {
  let status = 0;
  const res = { status(s: number) { status = s; return { json: () => undefined }; } } as unknown as Response;
  guard({ headers } as Request, res, () => { status = 200; });
  return status;
}

test("Host memo: many spellings of an allowed host pass, beyond the memo's bound; a foreign host never does", () => {
  const guard = originGuard(["mcp.example.com"], ["https://app.example.com"]);
  const spellings = Array.from({ length: ALLOWED_HOST_MEMO_MAX * 3 }, (_, i) => `MCP.example.com:${i + 1}`);
  for (let round = 0; round < 2; round++) { // the second round answers from the memo (or, past its bound, parses again)
    for (const host of spellings) assert.equal(check(guard, { host }), 200, host);
    assert.equal(check(guard, { host: "evil.example.com" }), 403);
    assert.equal(check(guard, { host: "mcp.example.com.evil.example" }), 403);
    assert.equal(check(guard, { host: "mcp.example.com@evil.example" }), 403);
    assert.equal(check(guard, {}), 403);
    assert.equal(check(guard, { host: "mcp.example.com", origin: "https://evil.example" }), 403, "a memoised Host does not skip the Origin check");
    assert.equal(check(guard, { host: "mcp.example.com", origin: "https://app.example.com" }), 200);
  }
});
