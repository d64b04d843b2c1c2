// Loopback ports a droplet VM forwards, held by listeners of this process while no qemu binds them (before the
// first boot, and between a power-off and the next power-on): a free-port pick only asks the kernel for a port
// nobody holds, and qemu exits with "Could not set up host forwarding rule" when another pick (this instance's
// registry or pebble, another instance) was handed one meanwhile (seen: pebble got a VM's port 80 forward).
import { createServer, type Server } from "node:net";

/** The listeners of this process, by port. */
const HELD = new Map<number, Server>();

/** Listens on each port (unref'd: they never keep the process alive); a port already taken is skipped. */
export async function holdPorts(ports: number[]): Promise<void> {
  for (const port of ports) {
    if (HELD.has(port)) continue;
    const server = createServer();
    const held = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (held) { server.unref(); HELD.set(port, server); }
  }
}

/** Closes the listeners on these ports (qemu binds them next). */
export async function releasePorts(ports: number[]): Promise<void> {
  await Promise.all(ports.map((port) => new Promise<void>((resolve) => {
    const server = HELD.get(port);
    HELD.delete(port);
    if (server) server.close(() => resolve()); else resolve();
  })));
}
