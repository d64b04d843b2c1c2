// What one rehearsal instance holds on this machine, read from its state directory: its processes (qemu, the
// tunnel keeper, the SSH control master, the services supervisor), the loopback ports they listen on, and the image repositories it built
// on the host. Taken before --destroy, `leftovers()` then lists whatever of it is still there (issue 11's proof
// that an instance leaves nothing behind and touches nothing of another).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { run } from "../test/support/proc.ts";
import { readJson, pidAlive } from "./state.ts";
import { IMAGE } from "./execute.ts";
import type { Plan } from "./plan.ts";
import type { ServicesInfo } from "./services.ts";
import type { VmRecord } from "./vm/droplet-vm.ts";
import { controlPid } from "./vm/ssh-control.ts";

export interface Footprint { stateDir: string; pids: Record<string, number>; ports: number[]; imageRepos: string[] }

const portOf = (url: string) => Number(new URL(url.includes("://") ? url : `http://${url}`).port);

export function footprint(stateDir: string): Footprint {
  const vm = readJson<VmRecord>(join(stateDir, "vm", "vm.json"));
  const svc = readJson<ServicesInfo>(join(stateDir, "services.json"));
  const plan = readJson<Plan>(join(stateDir, "plan.json"));
  const pids: Record<string, number> = {};
  if (vm?.qemuPid) pids.qemu = vm.qemuPid;
  if (vm?.tunnelPid) pids.tunnel = vm.tunnelPid;
  const control = controlPid(join(stateDir, "vm"));
  if (control) pids.control = control;
  if (svc?.pid) pids.services = svc.pid;
  const ports = [
    ...(vm ? [vm.ports.ssh, vm.ports.http, vm.ports.https] : []),
    ...(svc ? [portOf(svc.registry), portOf(svc.acme.directoryUrl), portOf(svc.acme.managementUrl), portOf(svc.upstreamUrl)] : []),
  ];
  const imageRepos = (plan?.resources ?? []).filter((r) => r.type === IMAGE)
    .map((r) => String(r.inputs.imageName ?? "").replace(/:[^:/]+$/, "")).filter(Boolean);
  return { stateDir, pids, ports, imageRepos };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** What of the footprint is still on this machine (empty when the instance is gone without a trace). */
export async function leftovers(fp: Footprint): Promise<string[]> {
  const left: string[] = [];
  if (existsSync(fp.stateDir)) left.push(`state dir ${fp.stateDir}`);
  for (const [what, pid] of Object.entries(fp.pids)) if (pidAlive(pid)) left.push(`${what} process ${pid}`);
  for (const p of fp.ports) if (!(await portFree(p))) left.push(`port 127.0.0.1:${p} in use`);
  for (const repo of fp.imageRepos) {
    const imgs = (await run("docker", ["images", "-q", repo])).stdout.trim();
    if (imgs) left.push(`docker images of ${repo}: ${imgs.split("\n").join(" ")}`);
  }
  return left;
}
