// Property-based fuzzing of POST /mcp with fast-check: arbitrary bytes, truncated and corrupted JSON, wrong JSON-RPC
// shapes, invalid UTF-8, huge and deeply nested values, and a wrongly typed value for every parameter of every tool
// (schemas read from tools/list). Every answer must be a complete, well-formed HTTP 4xx or a JSON-RPC error /
// isError result (202 only for bodies that hold no request, as the transport spec says); the process must keep
// answering /livez and its RSS must stay bounded. Run counts are fixed, so the test is bounded in time.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { startServer, type RunningServer } from "../support/server.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";
import { memory } from "../../bench/processes.ts";
import { rawPost, type RawOutcome } from "./raw-http.ts";

const MAX_BODY = 65_536;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const params = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true });
// A tight V8 heap cap turns a leak into an out-of-memory crash that the /livez checks catch, instead of letting it
// hide in V8's lazy heap growth (on a host with lots of RAM the heap grows to hundreds of MB before collecting).
const HEAP_CAP_MB = 128;
const RSS_LIMIT_MB = 300;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface ToolSchema { name: string; inputSchema: { properties?: Record<string, PropSchema>; required?: string[] } }
interface PropSchema { type?: string; minimum?: number; maximum?: number; minLength?: number; maxLength?: number; pattern?: string; format?: string; maxItems?: number; items?: PropSchema }

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isRpcError = (m: unknown) => isObj(m) && m.jsonrpc === "2.0" && isObj(m.error) && Number.isInteger(m.error.code) && typeof m.error.message === "string";
const isErrorResult = (m: unknown) => isObj(m) && m.jsonrpc === "2.0" && isObj(m.result) && m.result.isError === true && Array.isArray(m.result.content);

/** Does the body (as the server decodes it) contain a JSON-RPC request, i.e. something that must be answered? */
function holdsRequest(sent: Buffer): boolean {
  let v: unknown;
  try { v = JSON.parse(sent.toString("utf8")); } catch { return false; }
  return (Array.isArray(v) ? v : [v]).some((m) => isObj(m) && "method" in m && (typeof m.id === "string" || typeof m.id === "number"));
}

/** The one assertion every fuzz case makes. Returns the parsed JSON-RPC messages of a 200 answer. */
function assertWellFormed(sent: Buffer, out: RawOutcome): unknown[] {
  const what = () => `request ${JSON.stringify(sent.toString("utf8").slice(0, 300))}`;
  assert.equal(out.kind, "response", `no response (${out.kind === "no-response" ? out.code : ""}) for ${what()}`);
  if (out.kind !== "response") return [];
  const { status, body, complete, headers } = out.res;
  assert.ok(complete, `truncated response for ${what()}`);
  assert.ok(status < 500, `HTTP ${status} ${body.toString().slice(0, 200)} for ${what()}`);
  if (status === 202) {
    assert.equal(body.length, 0, "202 has no body");
    assert.ok(!holdsRequest(sent), `a request was accepted without an answer: ${what()}`);
    return [];
  }
  assert.match(String(headers["content-type"]), /^application\/json/, `content-type for ${what()}`);
  let j: unknown;
  assert.doesNotThrow(() => { j = JSON.parse(body.toString("utf8")); }, `answer is JSON for ${what()}`);
  if (status >= 400) {
    assert.ok(isRpcError(j), `HTTP ${status} body is a JSON-RPC error: ${body.toString().slice(0, 200)} for ${what()}`);
    return [];
  }
  assert.equal(status, 200, `status for ${what()}`);
  const msgs = Array.isArray(j) ? j : [j];
  for (const m of msgs) assert.ok(isRpcError(m) || isErrorResult(m), `200 answer is an error or isError result: ${JSON.stringify(m).slice(0, 300)} for ${what()}`);
  return msgs;
}

const rpc = (method: Json, extra: Record<string, Json> = {}) => ({ jsonrpc: "2.0", id: 1, method, ...extra });
/** A tools/call that can only fail (not a UUID): every mutation of it must fail too. */
const BASE = rpc("tools/call", { params: { name: "get_note", arguments: { id: "not-a-uuid" } } });
const KNOWN_METHODS = new Set(["initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list",
  "resources/read", "prompts/list", "prompts/get", "completion/complete", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"]);

const nonObject = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue(), { maxLength: 3 }));
const nonString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue(), { maxLength: 3 }), fc.object({ maxDepth: 2 }));

/** Values of every JSON type except `type` (and for integers, also fractions). */
function wrongType(type: string | undefined): fc.Arbitrary<unknown> {
  const all: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.oneof(fc.string(), fc.constantFrom("1", "true", "[]", "")),
    number: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    boolean: fc.boolean(),
    null: fc.constant(null),
    array: fc.array(fc.jsonValue(), { maxLength: 4 }),
    object: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 4 }),
  };
  const excluded = type === "integer" ? ["number"] : [type ?? ""];
  const others = Object.entries(all).filter(([k]) => !excluded.includes(k)).map(([, a]) => a);
  if (type === "integer") others.push(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)));
  return fc.oneof(...others);
}

/** Valid values for a property, from its JSON Schema (enough for these tools' schemas). */
function validValue(p: PropSchema): fc.Arbitrary<unknown> {
  switch (p.type) {
    case "number": return fc.double({ min: p.minimum ?? -1e6, max: p.maximum ?? 1e6, noNaN: true });
    case "integer": return fc.integer({ min: p.minimum ?? -1e6, max: p.maximum ?? 1e6 });
    case "boolean": return fc.boolean();
    case "array": return fc.array(validValue(p.items ?? { type: "string" }), { maxLength: p.maxItems ?? 5 });
    case "string":
      if (p.format === "uuid") return fc.uuid();
      if (p.pattern) return fc.stringMatching(new RegExp(p.pattern));
      return fc.string({ minLength: Math.max(p.minLength ?? 0, 1) + 1, maxLength: Math.min(p.maxLength ?? 50, 50) })
        .map((s) => s.trim() || "x");
    default: return fc.jsonValue();
  }
}

describe("fuzzing POST /mcp with generated bad input", { timeout: 300_000 }, () => {
  let server: RunningServer, stub: UpstreamStub, tools: ToolSchema[], rssBefore: number;
  const send = (body: Buffer | string) => rawPost({ port: server.port, body, timeoutMs: 20_000 });
  const check = async (body: Buffer | string) => {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
    return assertWellFormed(buf, await send(buf));
  };

  before(async () => {
    console.log(`# fast-check seed ${SEED} (set FUZZ_SEED to replay)`);
    stub = await startUpstreamStub();
    server = await startServer({ UPSTREAM_URL: stub.url, MAX_BODY_BYTES: String(MAX_BODY), LOG_LEVEL: "warn", NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MB}` });
    const out = await send(JSON.stringify(rpc("tools/list")));
    assert.equal(out.kind, "response");
    tools = (JSON.parse(out.kind === "response" ? out.res.body.toString() : "{}") as { result: { tools: ToolSchema[] } }).result.tools;
    assert.ok(tools.length >= 4, "tools listed");
    rssBefore = memory(server.pid).rssKb / 1024;
  });

  after(async () => {
    await server?.stop();
    await stub?.stop();
  });

  const alive = async () => {
    const r = await fetch(`${server.url}/livez`, { signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 200, "server still answers /livez");
  };

  it("arbitrary bytes (mostly invalid UTF-8 and invalid JSON)", async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.tuple(fc.constantFrom('{"jsonrpc":"2.0","id":1,', "[", '{"method":'), fc.uint8Array({ maxLength: 256 }))
        .map(([p, b]) => Buffer.concat([Buffer.from(p), b])),
    ), async (bytes) => { await check(Buffer.from(bytes)); }), params(150));
    await alive();
  });

  it("truncated and corrupted JSON → 400 parse error", async () => {
    const full = JSON.stringify(BASE);
    await fc.assert(fc.asyncProperty(fc.nat({ max: full.length - 1 }), async (n) => {
      const out = await send(full.slice(0, n));
      assertWellFormed(Buffer.from(full.slice(0, n)), out);
      assert.ok(out.kind === "response" && out.res.status === 400, `prefix of ${n} chars → 400`);
    }), params(60));
    await fc.assert(fc.asyncProperty(fc.nat({ max: full.length - 1 }), fc.constantFrom(..."{}[]\":,\\ \u0000\n'xtn0-."), async (i, ch) => {
      const body = full.slice(0, i) + ch + full.slice(i + 1);
      await check(body);
    }), params(100));
    await alive();
  });

  it("wrong JSON-RPC shapes (and arbitrary JSON values) → JSON-RPC errors, never a result", async () => {
    const mutation = fc.oneof(
      fc.record({ jsonrpc: fc.oneof(fc.constantFrom("1.0", "2", "", "2.0 "), nonString) }),
      fc.record({ id: fc.oneof(fc.constant(null), fc.boolean(), fc.object({ maxDepth: 1 }), fc.array(fc.integer(), { maxLength: 2 })) }),
      fc.record({ method: fc.oneof(nonString, fc.string().filter((s) => !KNOWN_METHODS.has(s))) }),
      fc.record({ params: fc.oneof(nonObject,
        fc.record({ name: nonString }),
        fc.record({ name: fc.string().filter((s) => !["get_note", "save_note", "search_notes", "get_forecast"].includes(s)), arguments: fc.object({ maxDepth: 2 }) }),
        fc.record({ name: fc.constantFrom("get_note", "save_note", "search_notes", "get_forecast"), arguments: nonObject })) }),
    );
    await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), async (muts, batch) => {
      const msg = Object.assign({}, BASE, ...muts) as Record<string, unknown>;
      await check(JSON.stringify(batch ? [msg] : msg));
    }), params(150));
    await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (v) => { await check(JSON.stringify(v)); }), params(100));
    await alive();
  });

  it("invalid UTF-8 byte sequences anywhere in a request", async () => {
    const full = Buffer.from(JSON.stringify(BASE));
    const bad = fc.constantFrom([0xff], [0xfe, 0xff], [0xc3], [0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]);
    await fc.assert(fc.asyncProperty(fc.nat({ max: full.length }), bad, async (i, bytes) => {
      const sent = Buffer.concat([full.subarray(0, i), Buffer.from(bytes), full.subarray(i)]);
      const out = await send(sent);
      assertWellFormed(sent, out);
      // Malformed UTF-8 is refused as a parse error, never decoded to U+FFFD and acted on (or stored).
      assert.ok(out.kind === "response" && out.res.status === 400, `invalid UTF-8 at ${i} → 400`);
      assert.equal((JSON.parse(out.res.body.toString()) as { error: { code: number } }).error.code, -32700);
    }), params(120));
    await alive();
  });

  it("huge and deeply nested values → error results or 413, bounded answer time", async () => {
    const nested = (depth: number, open: string, close: string, leaf: string) => open.repeat(depth) + leaf + close.repeat(depth);
    const value = fc.oneof(
      fc.integer({ min: 100, max: 30_000 }).map((d) => nested(d, "[", "]", "")),
      fc.integer({ min: 100, max: 9_000 }).map((d) => nested(d, '{"a":', "}", "1")),
      fc.integer({ min: 1_000, max: 60_000 }).map((n) => JSON.stringify("x".repeat(n))),
      fc.integer({ min: 10, max: 30_000 }).map((n) => "9".repeat(n)),
      fc.constantFrom("1e400", "-1e400", "-0", "1e-400", "123456789012345678901234567890"),
      fc.integer({ min: 100, max: 4_000 }).map((n) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(",")}}`),
    );
    const where = fc.constantFrom("id", "title", "latitude", "query", "params", "_meta");
    await fc.assert(fc.asyncProperty(value, where, async (v, w) => {
      const body = w === "params" ? `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${v}}`
        : w === "_meta" ? `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_note","arguments":{"id":"nope"},"_meta":{"x":${v}}}}`
        : `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${{ id: "get_note", title: "save_note", latitude: "get_forecast", query: "search_notes" }[w]}","arguments":{"${w}":${v}}}}`;
      const t0 = Date.now();
      const out = await send(body);
      assertWellFormed(Buffer.from(body), out);
      if (Buffer.byteLength(body) > MAX_BODY) assert.ok(out.kind === "response" && out.res.status === 413, `over the limit → 413 (${Buffer.byteLength(body)} bytes)`);
      assert.ok(Date.now() - t0 < 10_000, `answered in ${Date.now() - t0} ms`);
    }), params(60));
    await alive();
  });

  it("a wrongly typed value for every parameter of every tool → isError naming the parameter", async () => {
    let cases = 0;
    for (const tool of tools) {
      const props = tool.inputSchema.properties ?? {};
      for (const [name, schema] of Object.entries(props)) {
        const others = Object.fromEntries(Object.entries(props).filter(([k]) => k !== name).map(([k, p]) => [k, validValue(p)]));
        await fc.assert(fc.asyncProperty(fc.record(others), wrongType(schema.type), async (args, bad) => {
          const body = JSON.stringify(rpc("tools/call", { params: { name: tool.name, arguments: { ...args, [name]: bad } as Json } }));
          const [m] = await check(body);
          assert.ok(isErrorResult(m), `${tool.name}.${name}=${JSON.stringify(bad)} → isError result, got ${JSON.stringify(m)}`);
          const text = ((m as { result: { content: Array<{ text?: string }> } }).result.content[0]?.text) ?? "";
          assert.match(text, new RegExp(`\\b${name}\\b`), `the error names ${name}: ${text}`);
          cases++;
        }), params(15));
      }
    }
    assert.ok(cases >= 15 * 8, `${cases} cases over ${tools.length} tools`);
    await alive();
  });

  it("memory stays bounded and the process never exited", async () => {
    await alive();
    const rssAfter = memory(server.pid).rssKb / 1024;
    console.log(`# RSS before ${rssBefore.toFixed(1)} MB, after ${rssAfter.toFixed(1)} MB`);
    assert.ok(rssAfter < RSS_LIMIT_MB, `RSS ${rssAfter.toFixed(1)} MB after fuzzing (limit ${RSS_LIMIT_MB} MB, heap capped at ${HEAP_CAP_MB} MB)`);
    const fatal = server.logEntries().filter((e) => e.level === "fatal" || e.msg === "request failed");
    assert.deepEqual(fatal, [], "no fatal log line and no 500 'request failed'");
  });
});

describe("fuzzing credentials with AUTH_MODE=api-key", { timeout: 120_000 }, () => {
  const KEY = "fuzz-key-0123456789abcdef0123456789abcdef";
  let server: RunningServer;
  before(async () => { server = await startServer({ AUTH_MODE: "api-key", API_KEYS: KEY, LOG_LEVEL: "warn" }); });
  after(async () => { await server?.stop(); });

  it("any wrong Authorization header → 401 with an OAuth error body and WWW-Authenticate, never 5xx, key never echoed", async () => {
    const header = fc.oneof(
      fc.string({ unit: "grapheme-ascii", maxLength: 200 }),
      fc.string({ unit: "grapheme-ascii", maxLength: 80 }).map((t) => `Bearer ${t}`),
      fc.constantFrom("Bearer", "Bearer ", `Bearer ${KEY.slice(0, -1)}`, `Bearer ${KEY}x`, `bearer  ${KEY.toUpperCase()}`, `Basic ${Buffer.from(`u:${KEY}`).toString("base64")}`),
    ).filter((h) => h.trim() !== `Bearer ${KEY}` && h.trim() !== `bearer ${KEY}`);
    await fc.assert(fc.asyncProperty(header, async (h) => {
      const out = await rawPost({ port: server.port, body: JSON.stringify(BASE), headers: { authorization: h }, timeoutMs: 20_000 });
      assert.equal(out.kind, "response");
      if (out.kind !== "response") return;
      assert.ok(out.res.complete);
      assert.equal(out.res.status, 401, `${JSON.stringify(h)} → ${out.res.status} ${out.res.body.toString().slice(0, 200)}`);
      assert.match(String(out.res.headers["www-authenticate"]), /^Bearer /);
      const j = JSON.parse(out.res.body.toString()) as { error?: unknown };
      assert.equal(typeof j.error, "string", "OAuth error body");
      assert.ok(!out.res.body.toString().includes(KEY.slice(10)), "no part of the key in the answer");
    }), params(150));
    const ok = await rawPost({ port: server.port, body: JSON.stringify(BASE), headers: { authorization: `Bearer ${KEY}` } });
    assert.ok(ok.kind === "response" && ok.res.status === 200, "the right key still works");
  });
});
