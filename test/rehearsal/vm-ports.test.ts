// The droplet VM's forwarded loopback ports are picked free, then bound by qemu only at boot, minutes later (after
// the preview and the recording, which need the ports as stack config). Meanwhile the instance holds them, so the
// instance's own services and any other instance cannot be handed the same port (qemu would exit with "Could not
// set up host forwarding rule"). And the message when qemu is missing. Needs ssh-keygen only; no qemu runs.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DropletVm, requireQemu } from "../../rehearsal/vm/droplet-vm.ts";

const dir = mkdtempSync(join(tmpdir(), "vm-ports-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const listen = (port: number) => new Promise<Server>((resolve, reject) => {
  const s = createServer();
  s.once("error", reject);
  s.listen(port, "127.0.0.1", () => resolve(s));
});

test("a new droplet VM holds its forwarded ports until qemu binds them; destroy hands them back", async () => {
  const vm = await DropletVm.open(join(dir, "a"));
  const ports = Object.values(vm.ports);
  assert.equal(new Set(ports).size, 3);
  for (const port of ports) await assert.rejects(listen(port), /EADDRINUSE/, `port ${port} is held`);
  const again = await DropletVm.open(join(dir, "a"));
  assert.deepEqual(again.ports, vm.ports, "the same instance keeps its ports (they are stack config)");
  await vm.destroy();
  for (const port of ports) (await listen(port)).close();
});

test("without qemu the rehearsal stops with a message naming the missing program and the install command", async () => {
  // A PATH holding everything the check looks for but qemu-system-x86_64 (the shell itself included).
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const p of ["sh", "qemu-img", "genisoimage"]) symlinkSync(execFileSync("sh", ["-c", `command -v ${p}`], { encoding: "utf8" }).trim(), join(bin, p));
  const path = process.env.PATH;
  process.env.PATH = bin;
  try {
    await assert.rejects(requireQemu(), (e: Error) => {
      assert.match(e.message, /boots its droplet as a qemu VM, and qemu-system-x86_64 is missing/);
      assert.match(e.message, /bash \.ci\/bootstrap.*apt-get install -y --no-install-recommends qemu-system-x86/);
      return true;
    });
  } finally { process.env.PATH = path; }
  await requireQemu(); // and with the machine's PATH (CI installs qemu through .ci/debian-packages) it passes
});
