// The changes the e2e (test/rehearsal/rehearsal.test.ts) makes to its rehearsal instances, each what a user does by
// changing stack config and running the deploy again (or destroying it):
// - revision2: the tests' own second revision (env + secret + image at once);
// - destroyUnreachable: a destroy while the droplet VM does not answer;
// - userChanges: what the user's instance (deployed by `npm run rehearse -- --config servers=…` in its own process:
//   three servers behind the gateway, rehearsal-servers.ts) goes through while the tests' own instance runs its
//   redeploys, so that the two VMs share the machine's CPU instead of taking turns:
//   0. the gateway and the routes seen by clients, the containers' memory, one server's upstream down and back;
//   1. one server's env changed, with a client loop calling another server through the gateway.
//   (A resize of this droplet, a hard power cycle under TCG, ran here until the instance became three servers; it
//   did not fit CI's 30 minutes beside them: `npm run rehearse -- --config dropletSize=s-2vcpu-4gb` rehearses it.)
// Each is a real rehearse()/destroy() on the instance's state dir. Everything observed is returned for the test to
// assert; nothing is asserted here.
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { rehearse, destroy, type RehearsalOptions } from "../../rehearsal/rehearsal.ts";
import { openPublic, callLoop, nginxWorkers, oneContainerPerApp } from "../../rehearsal/observe.ts";
import { USER_SERVERS, serversConfig, gatewayView, dropletMemory, oneUpstreamDown, type ThreeServers, type ServerRedeploy } from "./rehearsal-servers.ts";
import type { UserInstance } from "../../rehearsal/user-instance.ts";
import { readExecState, REMOTE_COMMAND, type Step } from "../../rehearsal/execute.ts";
import { DropletVm } from "../../rehearsal/vm/droplet-vm.ts";
import { REPO_ROOT } from "../../rehearsal/plan.ts";


export const REVISION_LABEL = "io.selfhosted-mcp.rehearsal-revision";

/**
 * The second revision, changing three things at once, each a `pulumi config set` away: an env value, a secret
 * (secretEnv REHEARSAL_SENTINEL) and the image (server/Dockerfile plus one label, written to the state dir: a new
 * image config, so a new digest, with every layer the droplet already has). Under mocks each of these alone is
 * `update mcp-deploy-deploy` (program-steps.test.ts); the e2e proves the one deploy script they all run rolls out
 * each of them.
 */
export function revision2(base: RehearsalOptions, stateDir: string, sentinel: string): RehearsalOptions {
  const dockerfile = join(stateDir, "Dockerfile.rev2");
  writeFileSync(dockerfile, `${readFileSync(join(REPO_ROOT, "server/Dockerfile"), "utf8")}\nLABEL ${REVISION_LABEL}="2"\n`);
  return { ...base, env: { REHEARSAL_REVISION: "2" }, secrets: { secretEnv: JSON.stringify({ REHEARSAL_SENTINEL: sentinel }) },
    config: { dockerfile } };
}

/**
 * Freezes the droplet VM (SIGSTOP: its forwarded ports still accept TCP, nothing answers, like a droplet whose
 * firewall now drops the admin's address), checks that SSH fails, then destroys the instance. Returns the remote
 * commands that had a delete script, the destroy's log lines and its duration.
 */
export async function destroyUnreachable(stateDir: string, vm: DropletVm): Promise<{ withDelete: string[]; lines: string[]; ms: number }> {
  const withDelete = Object.values(readExecState(stateDir)).filter((x) => x.type === REMOTE_COMMAND && x.inputs.delete).map((x) => x.name);
  process.kill(vm.qemuPid!, "SIGSTOP");
  const probe = await vm.ssh("true", { timeoutMs: 30_000, connectTimeoutS: 5, direct: true });
  if (probe.code === 0) throw new Error("the frozen droplet still answered SSH");
  const lines: string[] = [];
  const t0 = Date.now();
  await destroy({ stateDir, log: (l) => lines.push(l) });
  return { withDelete, lines, ms: Date.now() - t0 };
}

export interface UserChanges {
  /** Several servers behind the gateway (issue 17), right after the first deploy. */
  servers: ThreeServers;
  redeploy: ServerRedeploy;
}

const ran = (steps: Step[]) => steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);
/** A tool result's structuredContent. */
export const structured = (r: unknown) => (r as { structuredContent: Record<string, unknown> }).structuredContent;

/** The user's stack config after its redeploy. */
export const USER_REDEPLOYED = { servers: serversConfig({ beta: { REHEARSAL_REVISION: "2" } }) };
/** Server containers of the user's droplet: three servers and the gateway. */
const APPS = USER_SERVERS.length + 1;

export async function userChanges(u: UserInstance): Promise<UserChanges> {
  const ep = u.endpoint();
  const vm = ep.vm;
  const log = (l: string) => console.log(`# user instance: ${l}`);

  // 0. Three servers behind the gateway: what a client sees, the memory they take, one upstream failing alone.
  const servers = { view: await gatewayView(ep), memory: await dropletMemory(vm), upstreamDown: await oneUpstreamDown(ep, "gamma", "alpha") };

  // 1. beta redeployed (an env value), while a loop calls alpha through the gateway.
  let redeploy: UserChanges["redeploy"];
  const s = await openPublic(ep);
  try {
    const before = await oneContainerPerApp(vm, APPS);
    const workersBefore = await nginxWorkers(vm);
    const loop = callLoop(s, { tool: "alpha__search_notes" });
    const t0 = Date.now();
    const r = await rehearse({ stateDir: u.stateDir, config: USER_REDEPLOYED, log });
    const ms = Date.now() - t0;
    const stats = await loop.stop();
    redeploy = { ran: ran(r.steps), stats, workersBefore, workersAfter: await nginxWorkers(vm), ms,
      before, after: await oneContainerPerApp(vm, APPS, 300_000) };
  } finally { await s.close(); }

  return { servers, redeploy };
}
