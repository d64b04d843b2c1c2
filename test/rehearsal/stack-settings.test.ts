// `npm run rehearse -- --config KEY=VALUE` (rehearsal/stack-settings.ts): parsed, refused for the keys the rehearsal
// owns, kept per instance across runs (like `pulumi config set` in Pulumi.<stack>.yaml), KEY= removes one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSettings, applySettings, SettingError } from "../../rehearsal/stack-settings.ts";
import { run } from "../support/proc.ts";
import { withServerEnv } from "../../rehearsal/rehearsal.ts";

test("parseSettings: KEY=VALUE (the value may hold '=' and JSON), KEY= unsets; a malformed pair or a rehearsal-owned key is refused by name", () => {
  assert.deepEqual(parseSettings(["dropletSize=s-2vcpu-4gb", "rateLimitPerSecond=9", "servers=[{\"name\":\"a=b\"}]", "swapMb="]),
    { dropletSize: "s-2vcpu-4gb", rateLimitPerSecond: "9", servers: "[{\"name\":\"a=b\"}]", swapMb: undefined });
  assert.throws(() => parseSettings(["dropletSize"]), (e: unknown) => e instanceof SettingError && /expected KEY=VALUE/.test(e.message));
  assert.throws(() => parseSettings(["selfhosted-mcp:dropletSize=x"]), /expected KEY=VALUE/);
  assert.throws(() => parseSettings(["domain=example.com"]), /--config domain: the rehearsal sets domain itself/);
  assert.throws(() => parseSettings(["env={}"]), /--config env/);
});

test("applySettings: kept in the state dir (0600) across runs; a later change overrides, KEY= removes", () => {
  const dir = mkdtempSync(join(tmpdir(), "settings-"));
  try {
    assert.deepEqual(applySettings(dir, { dropletSize: "s-2vcpu-4gb", rateLimitPerSecond: "9" }), { dropletSize: "s-2vcpu-4gb", rateLimitPerSecond: "9" });
    assert.equal(statSync(join(dir, "stack-config.json")).mode & 0o777, 0o600);
    assert.deepEqual(applySettings(dir, {}), { dropletSize: "s-2vcpu-4gb", rateLimitPerSecond: "9" }, "a run without --config keeps them");
    assert.deepEqual(applySettings(dir, { dropletSize: undefined, rateLimitPerSecond: "7" }), { rateLimitPerSecond: "7" });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("the CLI refuses a rehearsal-owned key before it starts anything, naming the key", async () => {
  const dir = mkdtempSync(join(tmpdir(), "settings-cli-"));
  try {
    const r = await run(process.execPath, ["rehearsal/rehearse.ts", "--state-dir", join(dir, "state"), "--config", "sshPort=22"], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /--config sshPort: the rehearsal sets sshPort itself/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("withServerEnv: each server of `servers` gets the upstream stand-in under its own prefix; its own env wins; bad JSON passes through", () => {
  const envOf = (name: string) => ({ UPSTREAM_URL: `http://127.0.0.1:1/${name}`, SEARCH_TIMEOUT_MS: "30000" });
  const out = JSON.parse(withServerEnv(JSON.stringify([{ name: "alpha" }, { name: "beta", memoryMb: 384, env: { SEARCH_TIMEOUT_MS: "5" } }]), envOf));
  assert.deepEqual(out, [
    { name: "alpha", env: { UPSTREAM_URL: "http://127.0.0.1:1/alpha", SEARCH_TIMEOUT_MS: "30000" } },
    { name: "beta", memoryMb: 384, env: { UPSTREAM_URL: "http://127.0.0.1:1/beta", SEARCH_TIMEOUT_MS: "5" } },
  ]);
  // The program's config check reports these, naming the key: the rehearsal does not hide them.
  for (const bad of ["not json", "{\"name\":\"a\"}", "[1]"]) assert.equal(withServerEnv(bad, envOf), bad);
});
