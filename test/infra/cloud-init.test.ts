// The rendered cloud-config is checked by cloud-init itself (`cloud-init schema`), and is secret-free (its stability across stacks: triggers.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { renderCloudInit, HOST_PACKAGES } from "../../infra/render/cloud-init.ts";
import { run } from "../support/proc.ts";
import { SSH_PUBLIC_KEY as KEY } from "./fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "cloud-init-test-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function schema(text: string) {
  const file = join(dir, `ud-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return run("cloud-init", ["schema", "--config-file", file], { timeoutMs: 60_000 });
}

test("cloud-init schema accepts the rendered config", async () => {
  const r = await schema(renderCloudInit({ user: "deploy", sshAuthorizedKeys: [KEY], sshPort: 22 }));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Valid cloud-config/);
});

test("cloud-init schema is a real check: it rejects a broken document", async () => {
  const broken = renderCloudInit({ user: "deploy", sshAuthorizedKeys: [KEY] }).replace("ssh_pwauth: false", "ssh_pwauth: [1, 2]");
  const r = await schema(broken);
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stdout + r.stderr, /ssh_pwauth/);
});

test("content: packages, deploy user, SSH hardening (room for agent keys), upgrades; no swap (it follows the size)", () => {
  const text = renderCloudInit({ user: "ops", sshAuthorizedKeys: [KEY], sshPort: 2222 });
  assert.ok(text.startsWith("#cloud-config\n"));
  const doc = parse(text);
  for (const p of ["docker.io", "nginx", "certbot", "unattended-upgrades"]) assert.ok(doc.packages.includes(p), p);
  assert.deepEqual(doc.packages, HOST_PACKAGES);
  const user = doc.users[0];
  assert.equal(user.name, "ops");
  assert.deepEqual(user.groups, ["docker", "sudo"]);
  assert.equal(user.lock_passwd, true);
  assert.deepEqual(user.ssh_authorized_keys, [KEY]);
  assert.equal(doc.disable_root, true);
  assert.equal(doc.ssh_pwauth, false);
  const sshd = doc.write_files.find((f: { path: string }) => f.path.startsWith("/etc/ssh/sshd_config.d/")).content;
  for (const line of ["Port 2222", "PermitRootLogin no", "PasswordAuthentication no", "AllowUsers ops"]) assert.match(sshd, new RegExp(`^${line}$`, "m"));
  // An agent offers its keys one by one and each counts: 3 locked out agents with 3+ keys (OpenSSH, Go's x/crypto/ssh).
  assert.ok(Number(/^MaxAuthTries (\d+)$/m.exec(sshd)![1]) >= 10, "MaxAuthTries leaves room for an agent's keys");
  assert.ok(doc.write_files.some((f: { path: string; content: string }) => f.path === "/etc/apt/apt.conf.d/20auto-upgrades" && /Unattended-Upgrade "1"/.test(f.content)));
  assert.equal(doc.swap, undefined, "swap is sized by the host-ready command, so a resize does not change the user-data");
});

test("bad options name the option", () => {
  assert.throws(() => renderCloudInit({ user: "Root User", sshAuthorizedKeys: [KEY] }), /user must be a Unix user name/);
  assert.throws(() => renderCloudInit({ user: "deploy", sshAuthorizedKeys: [] }), /sshAuthorizedKeys/);
});
