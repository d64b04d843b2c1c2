// The droplet VM's forwarded loopback ports are picked free, then bound by qemu only at boot, minutes later (after
// the preview and the recording, which need the ports as stack config). Meanwhile the instance holds them, so the
// instance's own services and any other instance cannot be handed the same port (qemu would exit with "Could not
// set up host forwarding rule"). Needs ssh-keygen only; no qemu runs.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DropletVm } from "./vm/droplet-vm.ts";

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
