// `selfhosted-mcp usage` on a real ledger: the real server bills calls of two API keys, then the CLI (the package's
// entry, smoke/cli.ts, as a child process) prints per-credential, per-tool totals
//  - from the ledger file (`--file`), as JSON and as a table, for a period with and without the calls;
//  - over SSH (`--ssh`) from a loopback sshd, the way it reads a droplet: the ledger sits on the `<app>-data` docker
//    volume of a running container (the local Node base image), and the query runs in it through `docker exec`.
// Plus the bad-usage answers (exit 2, the option named).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { startServer } from "../support/server.ts";
import { startUpstreamStub } from "../support/upstream-stub.ts";
import { freePort, run, runOk, startDaemon, waitFor, type Daemon } from "../support/proc.ts";
import { ensureBaseImage } from "../support/base-image.ts";
import { call } from "./mcp-client.ts";
import { taggedClient } from "./metering-support.ts";
import { apiKeyId } from "../../server/src/metering/credential-id.ts";
import { LEDGER_FILE } from "../../contract/usage-ledger.ts";
import { usageMain, UsageError } from "../../smoke/usage.ts";

const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "smoke", "cli.ts");
const KEY_A = "usage-cli-key-a-0123456789abcdef";
const KEY_B = "usage-cli-key-b-0123456789abcdef";
const EXPECTED = [
  { credential: apiKeyId(KEY_A), tool: "get_forecast", calls: 2, units: 5 },
  { credential: apiKeyId(KEY_A), tool: "save_note", calls: 1, units: 1 },
  { credential: apiKeyId(KEY_B), tool: "search_notes", calls: 1, units: 1 },
].sort((a, b) => (a.credential + a.tool).localeCompare(b.credential + b.tool));

let dataDir: string;
before(async () => {
  const stub = await startUpstreamStub();
  const server = await startServer({ AUTH_MODE: "api-key", API_KEYS: `${KEY_A},${KEY_B}`, UPSTREAM_URL: stub.url }, { keepDataDir: true });
  dataDir = server.dataDir;
  try {
    const a = await taggedClient(server.mcpUrl, KEY_A);
    await call(a.client, "get_forecast", { latitude: 1, longitude: 1, days: 2 });
    await call(a.client, "get_forecast", { latitude: 1, longitude: 1, days: 3 });
    await call(a.client, "save_note", { request_id: `cli-${randomUUID()}`, title: "t", body: "b" });
    await a.client.close();
    const b = await taggedClient(server.mcpUrl, KEY_B);
    await call(b.client, "search_notes", { query: "t" });
    await call(b.client, "get_note", { id: randomUUID() }); // not metered (and an error)
    await b.client.close();
  } finally {
    assert.deepEqual(await server.stop(), { code: 0, signal: null }); // closes the ledger: the file is complete
    await stub.stop();
  }
});
after(() => { if (dataDir) rmSync(dataDir, { recursive: true, force: true }); });

const cli = (...args: string[]) => run(process.execPath, [CLI, "usage", ...args], { timeoutMs: 90_000 });
const totals = (stdout: string) => (JSON.parse(stdout) as { totals: Array<Record<string, unknown>> }).totals.map(({ credential, tool, calls, units }) => ({ credential, tool, calls, units }));

test("--file: per-credential, per-tool totals as JSON and as a table; a period without calls is empty", async () => {
  const file = join(dataDir, LEDGER_FILE);
  const json = await cli("--file", file, "--json");
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(totals(json.stdout), EXPECTED);
  const table = await cli("--file", file);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`${apiKeyId(KEY_A)}\\s+get_forecast\\s+2\\s+5\\n`));
  assert.match(table.stdout, /TOTAL\s+4\s+7\n/);
  assert.doesNotMatch(table.stdout, /get_note/);
  const old = await cli("--file", file, "--since", "2020-01-01", "--until", "2020-02-01", "--json");
  assert.deepEqual(totals(old.stdout), []);
});

test("bad usage: the option named (in process), exit 2 from the CLI; an unreadable ledger: exit 1", async () => {
  for (const [args, msg] of [
    [["--since", "2024-01-01", "--until", "2025-06-01", "--file", "x"], /longer than 366 days/],
    [["--since", "yesterday", "--file", "x"], /--since: "yesterday" is not a date/],
    [["--file", "x", "--ssh", "root@h"], /exactly one of --file/],
    [["--ssh=-oProxyCommand=x"], /--ssh: .* is not user@host/],
    [["--ssh", "h", "--app", "Bad_App"], /--app: "Bad_App"/],
  ] as const) {
    await assert.rejects(usageMain([...args], () => {}), (e: Error) => e instanceof UsageError && msg.test(e.message), args.join(" "));
  }
  const bad = await cli("--since", "yesterday", "--file", "x");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--since: "yesterday" is not a date[\s\S]*usage: selfhosted-mcp usage/);
  const missing = await cli("--file", "/nonexistent/usage.sqlite");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot open ledger/);
});

test("--ssh: reads the ledger in the running container on the <app>-data volume through a loopback sshd", { timeout: 240_000 }, async () => {
  const image = await ensureBaseImage();
  const app = `meter${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), "usage-ssh-"));
  let sshd: Daemon | undefined;
  try {
    await runOk("docker", ["volume", "create", `${app}-data`]);
    await runOk("docker", ["run", "--detach", "--name", `${app}-blue`, "--network", "none", "--mount", `type=volume,source=${app}-data,target=/data`, "--entrypoint", "sleep", image, "300"]);
    await runOk("docker", ["cp", join(dataDir, LEDGER_FILE), `${app}-blue:/data/${LEDGER_FILE}`]);
    // A private sshd on loopback (LOCAL-INFRA.md recipe), key login only.
    await runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "hostkey")]);
    await runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "userkey")]);
    await runOk("cp", [join(dir, "userkey.pub"), join(dir, "authorized_keys")]);
    const port = await freePort();
    writeFileSync(join(dir, "sshd_config"), [
      "ListenAddress 127.0.0.1", `Port ${port}`, `HostKey ${join(dir, "hostkey")}`, `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PasswordAuthentication no", "KbdInteractiveAuthentication no", "StrictModes no", `PidFile ${join(dir, "sshd.pid")}`, "",
    ].join("\n"));
    await runOk("mkdir", ["-p", "/run/sshd"]);
    sshd = startDaemon("/usr/sbin/sshd", ["-D", "-f", join(dir, "sshd_config"), "-E", join(dir, "sshd.log")], join(dir, "sshd.out"));
    await waitFor("sshd", async () => (await run("ssh-keyscan", ["-p", String(port), "127.0.0.1"], { timeoutMs: 5000 })).stdout.includes("ssh-ed25519"), { timeoutMs: 15_000, intervalMs: 200 });
    const r = await cli("--ssh", "root@127.0.0.1", "--ssh-port", String(port), "--identity", join(dir, "userkey"), "--known-hosts", join(dir, "known_hosts"), "--app", app, "--json");
    assert.equal(r.code, 0, `${r.stderr}\n${sshd.log()}`);
    assert.deepEqual(totals(r.stdout), EXPECTED);
    const wrongApp = await cli("--ssh", "root@127.0.0.1", "--ssh-port", String(port), "--identity", join(dir, "userkey"), "--known-hosts", join(dir, "known_hosts"), "--app", "nosuchapp");
    assert.equal(wrongApp.code, 1);
    assert.match(wrongApp.stderr, /no running container mounts volume nosuchapp-data/);
  } finally {
    await sshd?.stop();
    await run("docker", ["rm", "--force", `${app}-blue`]);
    await run("docker", ["volume", "rm", `${app}-data`]);
    rmSync(dir, { recursive: true, force: true });
  }
});
