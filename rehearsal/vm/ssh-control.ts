// The SSH control master of a droplet VM's observer commands (DropletVm.ssh): one held connection that later
// commands open sessions on. Under TCG a new login (sshd's re-exec, key exchange, PAM) costs 5-15 s of emulated
// CPU; a session on a held connection a fraction of it. The master is a detached `ssh -M -N` whose PID lives in
// its own file of the VM's directory (vm.json is rewritten by every DropletVm of the state dir, which would lose
// it), so destroy and the leftovers check find it.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "../../test/support/proc.ts";
import { pidAlive, stopPid } from "../state.ts";

const PID_FILE = "control.pid";

/** The control socket of a VM dir (short: unix socket paths are limited to 108 bytes). */
export const controlPath = (vmDir: string) => join(vmDir, "cm");

/** The running control master's PID of a VM dir, if any. */
export function controlPid(vmDir: string): number | undefined {
  try { return Number(readFileSync(join(vmDir, PID_FILE), "utf8")) || undefined; } catch { return undefined; }
}

/**
 * ssh options that use the master when it answers; without one (not started yet, or ended with a power-off) ssh
 * connects directly. Starts a master (not waiting for it) when none runs: `sshArgs` = how to log in.
 */
export function muxOptions(vmDir: string, sshArgs: string[]): string[] {
  if (!pidAlive(controlPid(vmDir))) {
    const d = startDaemon("ssh", ["-M", "-N", "-o", `ControlPath=${controlPath(vmDir)}`, "-o", "ServerAliveInterval=5",
      "-o", "ServerAliveCountMax=3", ...sshArgs], join(vmDir, "control.log"));
    writeFileSync(join(vmDir, PID_FILE), String(d.pid), { mode: 0o600 });
  }
  return ["-o", `ControlPath=${controlPath(vmDir)}`, "-o", "ControlMaster=no"];
}

export async function stopControlMaster(vmDir: string): Promise<void> {
  await stopPid(controlPid(vmDir));
  rmSync(join(vmDir, PID_FILE), { force: true });
}
