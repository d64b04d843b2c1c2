// An ssh-agent of the test's own (its socket in a given dir, stopped by PID) holding `decoys` fresh keys first and
// then `key`: the order in which ssh offers agent keys, so every decoy is refused before the real key is tried.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runOk, startDaemon, waitFor } from "../../test/support/proc.ts";
import { existsSync } from "node:fs";

export interface Agent { socket: string; stop(): Promise<void> }

export async function startAgent(dir: string, decoys: number, key: string): Promise<Agent> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, "agent.sock");
  const d = startDaemon("ssh-agent", ["-D", "-a", socket], join(dir, "agent.log"));
  const stop = async () => { await d.stop(); rmSync(dir, { recursive: true, force: true }); };
  try {
    await waitFor("ssh-agent's socket", () => existsSync(socket), { timeoutMs: 10_000 });
    const env = { ...process.env, SSH_AUTH_SOCK: socket };
    for (let i = 0; i < decoys; i++) {
      const k = join(dir, `decoy${i}`);
      await runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", k]);
      await runOk("ssh-add", ["-q", k], { env });
    }
    await runOk("ssh-add", ["-q", key], { env });
    return { socket, stop };
  } catch (e) { await stop(); throw e; }
}
