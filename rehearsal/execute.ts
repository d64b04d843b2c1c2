// The executor: carries out the steps the recorder decided (engine/rules.ts: the engine's and providers' rules)
// for real, on this machine. Resources run in dependency order: create; update by the provider's rule; replace =
// create the new one now and delete the old one after everything else (delete first when deleteBeforeReplace);
// same = nothing. Old resources of a replacement and resources gone from the program are deleted at the end in
// reverse dependency order, except retainOnDelete and deletedWith-a-deleted-resource (no provider Delete). The
// first failure stops the run with that command's output. What each step runs per resource type is the provider's
// (provider.ts; tests pass their own).
import { join } from "node:path";
import type { Plan, PlannedResource } from "./plan.ts";
import { readJson, writeJson } from "./state.ts";
import { IMAGE, REMOTE_COMMAND, COPY_TO_REMOTE, LOCAL_COMMAND, deleteOrder, deleteSkipped, type PriorResource, type CheckFailure } from "./engine/rules.ts";
import { REAL_PROVIDER, StepError } from "./provider.ts";

export { IMAGE, REMOTE_COMMAND, COPY_TO_REMOTE, LOCAL_COMMAND, StepError };

export type Operation = "create" | "update" | "replace" | "delete" | "same";

/** What a resource looked like after its last step (the engine's state: old inputs, outputs, delete options). */
export type ExecutedResource = PriorResource;
export type ExecState = Record<string, ExecutedResource>;

export interface Step { urn: string; name: string; type: string; op: Operation; ms: number; detail?: string }

/** A provider Check failed (in preview or up): nothing was changed. */
export class CheckError extends Error {
  readonly failures: CheckFailure[];
  constructor(phase: string, failures: CheckFailure[]) {
    super(`${phase} failed: ${failures.map((f) => `\n  ${f.urn}: ${f.property}: ${f.reason}`).join("")}`);
    this.failures = failures;
  }
}

export interface ExecuteOptions {
  stateDir: string;
  /** Progress lines (never contain secret values). */
  log?: (line: string) => void;
  /** Only these resource types (e.g. just the image on the first pass); default: every resource. */
  types?: string[];
  /** Skip the end-of-run deletes (used by the image-only pass). */
  skipDeletes?: boolean;
  /** What runs a step's provider operation (default: the real one: docker, ssh, local processes). */
  provider?: Provider;
}

/** The provider side of a step: Create/Update of a resource, Delete of an old state. */
export interface Provider {
  perform(r: PlannedResource, op: "create" | "update", prev: ExecutedResource | undefined, stateDir: string): Promise<Done>;
  remove(s: ExecutedResource, stateDir: string): Promise<void>;
}


const stateFile = (dir: string) => join(dir, "executed.json");
export const readExecState = (dir: string): ExecState => readJson<ExecState>(stateFile(dir)) ?? {};
/** The prior state the recorder decides steps against. */
export const priorState = (dir: string): PriorResource[] => Object.values(readExecState(dir));

/** Custom resources ordered so that every resource comes after everything it (transitively) depends on. */
export function executionOrder(plan: Plan): PlannedResource[] {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const children = new Map<string, string[]>();
  for (const r of plan.resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
  // A dependency on a component means every resource beneath it (the SDK already expands dependsOn this way).
  const expand = (urn: string, seen = new Set<string>()): string[] => {
    if (seen.has(urn)) return [];
    seen.add(urn);
    const r = byUrn.get(urn);
    if (r?.custom) return [urn];
    return (children.get(urn) ?? []).flatMap((c) => expand(c, seen));
  };
  const deps = new Map(plan.resources.map((r) => [r.urn, new Set(r.dependsOn.flatMap((d) => expand(d)))]));
  const out: PlannedResource[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (r: PlannedResource) => {
    if (state.get(r.urn) === "done") return;
    if (state.get(r.urn) === "visiting") throw new Error(`dependency cycle through ${r.urn}`);
    state.set(r.urn, "visiting");
    for (const d of [...deps.get(r.urn)!].map((u) => byUrn.get(u)!).filter(Boolean).sort((a, b) => a.order - b.order)) visit(d);
    state.set(r.urn, "done");
    out.push(r);
  };
  for (const r of [...plan.resources].sort((a, b) => a.order - b.order)) visit(r);
  return out.filter((r) => r.custom);
}

const toState = (r: PlannedResource, id: string, inputs: Record<string, unknown>, outputs: Record<string, unknown>): ExecutedResource => ({
  urn: r.urn, type: r.type, name: r.name, custom: r.custom, id, inputs, outputs, dependsOn: r.dependsOn, parent: r.parent,
  retainOnDelete: r.retainOnDelete, deletedWith: r.deletedWith, order: r.order,
});

/** Runs the plan's steps. Returns the steps taken; throws CheckError/StepError (state saved up to the failure). */
export async function executePlan(plan: Plan, opts: ExecuteOptions): Promise<Step[]> {
  if (plan.checkFailures.length) throw new CheckError("up", plan.checkFailures);
  const log = opts.log ?? (() => undefined);
  const state = readExecState(opts.stateDir);
  const prior = Object.values(state);
  const save = () => writeJson(stateFile(opts.stateDir), state);
  const steps: Step[] = [];
  const replacedOld: ExecutedResource[] = [];
  const only = (type: string) => !opts.types || opts.types.includes(type);
  const provider = opts.provider ?? REAL_PROVIDER;
  // Components hold no provider state; the engine still records them (parents of the delete order).
  for (const r of plan.resources) if (!r.custom && only(r.type)) state[r.urn] = toState(r, "", r.inputs, {});

  for (const r of executionOrder(plan).filter((x) => only(x.type))) {
    const prev = state[r.urn];
    const op = r.step.op;
    if (op === "same") {
      state[r.urn] = toState(r, prev!.id, prev!.inputs, prev!.outputs);
      steps.push({ urn: r.urn, name: r.name, type: r.type, op, ms: 0 });
      continue;
    }
    const started = Date.now();
    const why = r.step.replaceKeys.length ? ` (${r.step.replaceKeys.join(", ")})` : "";
    log(`${op.padEnd(7)} ${r.type} ${r.name}${why}`);
    if (op === "replace" && r.step.deleteBeforeReplace && prev) {
      log(`delete  ${r.type} ${r.name} (delete before replace)`);
      await provider.remove(prev, opts.stateDir);
    }
    const done = await provider.perform(r, op === "update" ? "update" : "create", prev, opts.stateDir);
    if (op === "replace" && prev && !r.step.deleteBeforeReplace) replacedOld.push(prev);
    state[r.urn] = toState(r, r.id, done.inputs, done.outputs);
    save();
    steps.push({ urn: r.urn, name: r.name, type: r.type, op, ms: Date.now() - started, detail: done.detail ?? (why.trim() || undefined) });
  }

  if (!opts.skipDeletes) {
    const planned = new Set(plan.resources.map((r) => r.urn));
    const gone = prior.filter((s) => !planned.has(s.urn));
    steps.push(...await deleteAll([...replacedOld, ...gone], prior, opts, (s) => {
      if (!planned.has(s.urn)) delete state[s.urn];
      save();
    }));
  }
  save();
  return steps;
}

/** Deletes in reverse dependency order; retainOnDelete / deletedWith skip the provider's Delete. */
async function deleteAll(doomed: ExecutedResource[], all: ExecutedResource[], opts: DestroyOptions,
  done: (s: ExecutedResource) => void): Promise<Step[]> {
  const deleting = new Set(doomed.map((s) => s.urn));
  const steps: Step[] = [];
  for (const s of deleteOrder(doomed, all)) {
    if (!s.custom) { done(s); continue; } // a component has no provider Delete
    const skipped = deleteSkipped(s, deleting);
    opts.log?.(`delete  ${s.type} ${s.name}${skipped ? ` (no provider Delete: ${skipped})` : ""}`);
    const started = Date.now();
    if (!skipped) await (opts.provider ?? REAL_PROVIDER).remove(s, opts.stateDir);
    done(s);
    steps.push({ urn: s.urn, name: s.name, type: s.type, op: "delete", ms: Date.now() - started, detail: skipped });
  }
  return steps;
}

/** `pulumi destroy`: every resource of the state deleted, dependents first. */
export interface DestroyOptions { stateDir: string; log?: (l: string) => void; provider?: Provider }

export async function destroyAll(opts: DestroyOptions): Promise<Step[]> {
  const state = readExecState(opts.stateDir);
  const all = Object.values(state);
  return deleteAll(all, all, opts, (s) => {
    delete state[s.urn];
    writeJson(stateFile(opts.stateDir), state);
  });
}

export interface Done { inputs: Record<string, unknown>; outputs: Record<string, unknown>; detail?: string }

