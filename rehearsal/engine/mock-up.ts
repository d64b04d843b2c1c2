// `pulumi up` / `pulumi destroy` of a program under mocks only: the same preview, recording, step decisions,
// execution order and delete rules as the rehearsal (plan.ts, execute.ts, rules.ts), with a provider that runs
// nothing — it hands back the mocked cloud's outputs and records which Command script each step would run.
// Fast (no docker, ssh or droplet), so tests of the real program's steps per change run in CI.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { recordPlan, type Plan, type PlanRequest } from "../plan.ts";
import { executePlan, destroyAll, priorState, CheckError, type Provider, type Step } from "../execute.ts";
import { commandScript, REMOTE_COMMAND, LOCAL_COMMAND } from "./rules.ts";

/** One provider operation a Command step would run: its script and the HOST_ID the script names (if any). */
export interface Ran { op: "create" | "update" | "delete"; name: string; hostId?: string }

export interface MockUp { preview: Plan; plan: Plan; steps: Step[]; ran: Ran[] }

const isCommand = (type: string) => type === REMOTE_COMMAND || type === LOCAL_COMMAND;
/** The host a rendered script names (`readonly HOST_ID=…`, or onHost's `# selfhosted-mcp host: …` line; infra/render/remote-script.ts). */
const hostIdOf = (script: string | undefined) => /(?:readonly HOST_ID=|# selfhosted-mcp host: )'?([^'\s]+)/.exec(script ?? "")?.[1];

function recordingProvider(ran: Ran[]): Provider {
  return {
    async perform(r, op) {
      if (isCommand(r.type)) {
        const script = commandScript(op, r.inputs);
        if (script) ran.push({ op, name: r.name, hostId: hostIdOf(script) });
      }
      return { inputs: r.inputs, outputs: r.outputs };
    },
    async remove(s) {
      const script = s.inputs.delete;
      if (isCommand(s.type) && typeof script === "string") ran.push({ op: "delete", name: s.name, hostId: hostIdOf(script) ?? hostIdOf(String(s.inputs.create ?? "")) });
    },
  };
}

/** Preview (fails like `pulumi up` on a provider Check), then record and execute against the state in stateDir. */
export async function mockUp(stateDir: string, req: PlanRequest): Promise<MockUp> {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const preview = await recordPlan({ ...req, preview: true, prior: priorState(stateDir) }, join(stateDir, "preview.json"));
  if (preview.checkFailures.length) throw new CheckError("preview", preview.checkFailures);
  const plan = await recordPlan({ ...req, preview: false, prior: priorState(stateDir) }, join(stateDir, "plan.json"));
  const ran: Ran[] = [];
  const steps = await executePlan(plan, { stateDir, provider: recordingProvider(ran) });
  return { preview, plan, steps, ran };
}

/** `pulumi destroy` of the state in stateDir under mocks: the delete steps and the delete scripts that would run. */
export async function mockDestroy(stateDir: string): Promise<{ steps: Step[]; ran: Ran[] }> {
  const ran: Ran[] = [];
  const steps = await destroyAll({ stateDir, provider: recordingProvider(ran) });
  return { steps, ran };
}
