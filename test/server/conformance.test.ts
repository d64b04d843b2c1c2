// The official MCP conformance suite's generic server scenarios against the real server, in both session modes.
// Results are read from the suite's checks.json and asserted check by check (some scenarios can pass vacuously).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { startServer, type RunningServer } from "../support/server.ts";
import { run } from "../support/proc.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "node_modules", ".bin");
// Node 24 first on PATH: the suite needs Node >= 22 and the machine's own node may be older.
const PATH = `${BIN}:${dirname(process.execPath)}:${process.env.PATH}`;

interface Check { id: string; status: string; errorMessage?: string; details?: Record<string, unknown> }

async function scenario(server: RunningServer, name: string): Promise<Check[]> {
  const out = mkdtempSync(join(tmpdir(), "conformance-"));
  try {
    const r = await run(join(BIN, "conformance"), ["server", "--url", server.mcpUrl, "--scenario", name, "-o", out], { env: { ...process.env, PATH }, timeoutMs: 90_000 });
    const dirs = readdirSync(out);
    assert.equal(dirs.length, 1, `conformance wrote one result directory\n${r.stdout}\n${r.stderr}`);
    const checks = JSON.parse(readFileSync(join(out, dirs[0]!, "checks.json"), "utf8")) as Check[];
    assert.equal(r.code, 0, `${name} exit code\n${r.stdout}\n${r.stderr}`);
    return checks;
  } finally { rmSync(out, { recursive: true, force: true }); }
}

function assertAllPass(checks: Check[], ids: string[]) {
  assert.deepEqual(checks.map((c) => c.id).sort(), [...ids].sort(), "the expected checks ran");
  for (const c of checks) assert.equal(c.status, "SUCCESS", `${c.id}: ${c.errorMessage ?? ""} ${JSON.stringify(c.details ?? {})}`);
}

for (const mode of ["stateless", "stateful"] as const) {
  test(`conformance (${mode}): server-initialize, ping, tools-list, dns-rebinding-protection`, { timeout: 240_000 }, async () => {
    const server = await startServer({ MCP_SESSIONS: mode });
    after(() => server.stop());

    assertAllPass(await scenario(server, "server-initialize"), ["server-initialize"]);
    assertAllPass(await scenario(server, "ping"), ["ping"]);

    const tools = await scenario(server, "tools-list");
    assertAllPass(tools, ["tools-list"]);
    assert.deepEqual((tools[0]!.details!.tools as string[]).sort(), ["get_forecast", "get_note", "save_note", "search_notes"], "not vacuous: our four tools were listed");

    const dns = await scenario(server, "dns-rebinding-protection");
    assertAllPass(dns, ["localhost-host-rebinding-rejected", "localhost-host-valid-accepted"]);
    const byId = Object.fromEntries(dns.map((c) => [c.id, c.details?.statusCode]));
    assert.equal(byId["localhost-host-rebinding-rejected"], 403, "rejected by our Host/Origin guard");
    assert.equal(byId["localhost-host-valid-accepted"], 200);
  });
}
