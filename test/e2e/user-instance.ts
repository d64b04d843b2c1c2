// A "user's" rehearsal next to the tests' own: started exactly as the README says (`npm run rehearse` with its own
// --state-dir, in its own process), read back from its state directory, torn down with `npm run rehearse --
// --destroy`. Used by the e2e test to prove two instances run at once without touching each other (issue 11).
import { join } from "node:path";
import { run, type RunResult } from "../support/proc.ts";
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

export function userInstance(stateDir: string): UserInstance {
  const deployed = npmRehearse(["--state-dir", stateDir], 1_500_000).then((r) => {
    if (r.code !== 0) throw new Error(`npm run rehearse -- --state-dir ${stateDir} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  });
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
    destroy: () => npmRehearse(["--destroy", "--state-dir", stateDir], 300_000),
  };
}
