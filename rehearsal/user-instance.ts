// A "user's" rehearsal next to the tests' own: started exactly as the README says (`npm run rehearse` with its own
// --state-dir, in its own process), read back from its state directory, torn down with `npm run rehearse --
// --destroy`. Used by the e2e test to prove two instances run at once without touching each other (issue 11).
import { join } from "node:path";
import { spawn } from "node:child_process";
import { run, sleep, type RunResult } from "../test/support/proc.ts";
import { readJson } from "./state.ts";
import { REPO_ROOT } from "./plan.ts";
import { DropletVm } from "./vm/droplet-vm.ts";
import { DOMAIN } from "./rehearsal.ts";
import type { ServicesInfo } from "./services.ts";

export interface UserInstance {
  stateDir: string;
  /** Resolves with the CLI's stdout once `npm run rehearse` exits 0; rejects with its output otherwise. */
  deployed: Promise<string>;
  /** What a client needs to call it, from its state dir (the token is its own secrets.json's). */
  endpoint(): { url: string; token: string; services: ServicesInfo; vm: DropletVm };
  destroy(): Promise<RunResult>;
}

const npmRehearse = (args: string[], timeoutMs: number) =>
  run("npm", ["run", "--silent", "rehearse", "--", ...args], { cwd: REPO_ROOT, timeoutMs });

/**
 * `npm run rehearse` in its own process group (npm → sh → node), so that the whole CLI can be stopped by its group
 * id when the test gives up on it (timeout, a failed before()) before its --destroy runs.
 */
function startCli(stateDir: string, config: readonly string[], timeoutMs: number): { done: Promise<RunResult>; stop(): Promise<void> } {
  const args = ["run", "--silent", "rehearse", "--", "--state-dir", stateDir, ...config.flatMap((c) => ["--config", c])];
  const child = spawn("npm", args, { cwd: REPO_ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const kill = (signal: NodeJS.Signals) => { try { process.kill(-child.pid!, signal); } catch { /* already gone */ } };
  const timer = setTimeout(() => kill("SIGKILL"), timeoutMs);
  const done = new Promise<RunResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
  return {
    done,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      kill("SIGTERM");
      if (!(await Promise.race([done.then(() => true), sleep(10_000).then(() => false)]))) { kill("SIGKILL"); await done; }
    },
  };
}

/** `npm run rehearse -- --state-dir DIR [--config KEY=VALUE ...]`, started now. */
export function userInstance(stateDir: string, config: readonly string[] = []): UserInstance {
  const cli = startCli(stateDir, config, 1_500_000);
  const deployed = cli.done.then((r) => {
    if (r.code !== 0) throw new Error(`npm run rehearse -- --state-dir ${stateDir} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  });
  deployed.catch(() => undefined); // awaited by the test; never an unhandled rejection when it is not
  return {
    stateDir,
    deployed,
    endpoint() {
      const secrets = readJson<{ apiKey: string }>(join(stateDir, "secrets.json"));
      const services = readJson<ServicesInfo>(join(stateDir, "services.json"));
      const vm = DropletVm.existing(stateDir);
      if (!secrets || !services || !vm) throw new Error(`${stateDir} holds no deployed rehearsal`);
      return { url: `https://${DOMAIN}`, token: secrets.apiKey, services, vm };
    },
    // A CLI still deploying is stopped first (its own processes: qemu and the tunnel run detached and are the
    // --destroy's to stop, by the PIDs in the state dir).
    destroy: async () => { await cli.stop(); return npmRehearse(["--destroy", "--state-dir", stateDir], 300_000); },
  };
}
