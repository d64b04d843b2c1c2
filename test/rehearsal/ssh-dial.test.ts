// The rehearsal dials a remote Command's connection the way @pulumi/command 1.2.1 does (rehearsal/ssh-dial.ts, from
// provider/pkg/provider/remote/connection.go): each dial bounded by perDialTimeout, dialErrorLimit + 1 dials in all,
// then "after N failed attempts: …". Real OpenSSH against loopback listeners; no droplet needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sshRun } from "../../rehearsal/provider.ts";
import { withDialRetry, isDialFailure, dialBounds, DialError, DIAL_DEFAULTS } from "../../rehearsal/ssh-dial.ts";
import { freePort } from "../support/proc.ts";

const stateDir = mkdtempSync(join(tmpdir(), "ssh-dial-"));
test.after(() => rmSync(stateDir, { recursive: true, force: true }));

test("a host that accepts TCP but never answers (frozen, or a firewall that lets the SYN through): perDialTimeout per dial, dialErrorLimit + 1 dials, then DialError", async () => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => { sockets.push(s); });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const port = (silent.address() as { port: number }).port;
  try {
    const t0 = Date.now();
    const err = await sshRun({ host: "127.0.0.1", port, user: "deploy", dialErrorLimit: 2, perDialTimeout: 2 }, "true", {}, undefined, stateDir)
      .then(() => undefined, (e: unknown) => e);
    const ms = Date.now() - t0;
    assert.ok(err instanceof DialError, String(err));
    assert.match(err.message, /^after 2 failed attempts: .*banner exchange.*\(dialErrorLimit 2, perDialTimeout 2 s/);
    assert.equal(sockets.length, 3, "three dials");
    assert.ok(ms >= 3 * 2_000 && ms < 3 * 2_000 + 6_000, `bounded by the dials' timeouts and the backoff: ${ms} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test("a refused port fails fast on every dial; the message is ssh's own", async () => {
  const port = await freePort();
  const err = await sshRun({ host: "127.0.0.1", port, user: "deploy", dialErrorLimit: 1, perDialTimeout: 5 }, "true", {}, undefined, stateDir)
    .then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof DialError, String(err));
  assert.match(err.message, /^after 1 failed attempts: ssh: connect to host 127\.0\.0\.1 port \d+: Connection refused/);
});

test("withDialRetry: retries only the connection phase, with the provider's backoff (0.15 s ×1.5); a command's own exit is final", async () => {
  const refused = { code: 255, stdout: "", stderr: "ssh: connect to host 127.0.0.1 port 1: Connection refused\n" };
  let calls = 0;
  const at: number[] = [];
  const r = await withDialRetry({ dialErrorLimit: 3, perDialTimeout: 1 }, async () => {
    at.push(Date.now());
    return ++calls < 3 ? refused : { code: 0, stdout: "ok", stderr: "" };
  });
  assert.equal(r.stdout, "ok");
  assert.equal(calls, 3);
  assert.ok(at[1]! - at[0]! >= 150 && at[2]! - at[1]! >= 225, `delays ${at[1]! - at[0]!} / ${at[2]! - at[1]!} ms`);
  // The remote command ran and exited 255 itself (no ssh connection message): not a dial failure.
  assert.equal(isDialFailure({ code: 255, stdout: "", stderr: "my script failed\n" }), false);
  assert.equal(isDialFailure({ code: 1, stdout: "", stderr: "Permission denied (publickey).\n" }), false, "only ssh's own exit code 255");
  assert.equal(isDialFailure({ code: 255, stdout: "", stderr: "deploy@127.0.0.1: Permission denied (publickey).\n" }), true, "authentication is part of ssh.Dial");
  let once = 0;
  const own = await withDialRetry({ dialErrorLimit: 5, perDialTimeout: 1 }, async () => { once++; return { code: 255, stdout: "", stderr: "my script failed\n" }; });
  assert.equal(own.code, 255);
  assert.equal(once, 1, "a command's own failure is not retried");
});

test("dialBounds: the provider's defaults (10 dials, 15 s); an unbounded dial (-1) is refused", () => {
  assert.deepEqual(dialBounds({ host: "h" }), DIAL_DEFAULTS);
  assert.deepEqual(DIAL_DEFAULTS, { dialErrorLimit: 10, perDialTimeout: 15 });
  assert.deepEqual(dialBounds({ dialErrorLimit: 6, perDialTimeout: 10 }), { dialErrorLimit: 6, perDialTimeout: 10 });
  assert.throws(() => dialBounds({ dialErrorLimit: -1 }), /bounded dial/);
});
