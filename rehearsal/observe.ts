// What the e2e tests look at while and after the rehearsal deploys: a client that keeps calling a tool over the
// public HTTPS endpoint (bounded, counting failures), and — inside the droplet VM, over SSH as the deploy user with
// sudo — the server containers as its docker sees them and its nginx's workers.
import { runOk, sleep } from "../test/support/proc.ts";
import { connectMcp, toolText, type McpSession } from "./client.ts";
import { publicFetch, type RehearsalResult } from "./rehearsal.ts";
import type { HttpsClient } from "../test/support/https-client.ts";
import type { DropletVm } from "./vm/droplet-vm.ts";

export interface PublicSession { http: HttpsClient; mcp: McpSession; close(): Promise<void> }

/**
 * An MCP session to https://<domain>/mcp with the rehearsal's token, trusting its ACME root; with `route`, to a
 * server's own route https://<domain>/<route>/mcp (several servers behind the gateway).
 */
export async function openPublic(r: Pick<RehearsalResult, "url" | "token" | "services" | "vm">, route?: string): Promise<PublicSession> {
  const http = publicFetch(r.services, r.vm);
  const mcp = await connectMcp(route ? `${r.url}/${route}` : r.url, http.fetch, r.token);
  return { http, mcp, close: async () => { await mcp.close(); await http.close(); } };
}

export interface LoopStats { calls: number; failures: string[] }

/**
 * Calls `tool` (default `search_notes`; behind the gateway e.g. `alpha__search_notes`) back to back (a pause of
 * `gapMs` between calls: ~3 calls/s, under the per-credential rate limit) until stop() is called or `maxMs` passes.
 * Every error — transport, HTTP status, tool error — counts as a failure.
 */
export function callLoop(s: PublicSession, { gapMs = 300, maxMs = 600_000, tool = "search_notes" } = {}): { stop(): Promise<LoopStats> } {
  const stats: LoopStats = { calls: 0, failures: [] };
  let running = true;
  const deadline = Date.now() + maxMs;
  const done = (async () => {
    while (running && Date.now() < deadline) {
      try {
        toolText(await s.mcp.client.callTool({ name: tool, arguments: { query: "loop", limit: 1 } }));
      } catch (e) {
        const cause = e instanceof Error && e.cause ? ` (${String((e.cause as { code?: string }).code ?? e.cause)})` : "";
        stats.failures.push(`${new Date().toISOString()} ${e instanceof Error ? e.message : String(e)}${cause}`);
      }
      stats.calls++;
      await sleep(gapMs);
    }
  })();
  return { async stop() { running = false; await done; return stats; } };
}

/** PIDs of the droplet's nginx worker processes (children of the master in /run/nginx.pid): a reload replaces all of them. */
export async function nginxWorkers(vm: DropletVm): Promise<string[]> {
  return (await vm.sshOk("ps --ppid \"$(cat /run/nginx.pid)\" -o pid=,args=")).stdout.split("\n")
    .filter((l) => l.includes("worker process")).map((l) => l.trim().split(/\s+/)[0]!).sort();
}

export interface ServerContainer {
  id: string; name: string; image: string; slot: string; env: string[]; labels: Record<string, string>;
  /** docker's State.StartedAt (RFC 3339): a restarted container has a new one. */
  startedAt: string;
}

/** The running server containers of the deployment in the droplet (the run contract labels them with app and slot). */
export async function serverContainers(vm: DropletVm): Promise<ServerContainer[]> {
  const ids = (await vm.sshOk("sudo -n docker ps -q --filter label=io.selfhosted-mcp.app")).stdout.split("\n").filter(Boolean);
  if (ids.length === 0) return [];
  const info = JSON.parse((await vm.sshOk(`sudo -n docker inspect ${ids.join(" ")}`)).stdout) as {
    Id: string; Name: string; Config: { Image: string; Env: string[]; Labels: Record<string, string> }; State: { StartedAt: string };
  }[];
  return info.map((c) => ({ id: c.Id, name: c.Name.replace(/^\//, ""), image: c.Config.Image, env: c.Config.Env,
    labels: c.Config.Labels, slot: c.Config.Labels["io.selfhosted-mcp.slot"] ?? "", startedAt: c.State.StartedAt }));
}

/**
 * Waits (bounded) until exactly `apps` server containers run, one per app label — every old slot is retired after
 * its drain — and returns them sorted by name.
 */
export async function oneContainerPerApp(vm: DropletVm, apps: number, timeoutMs = 60_000): Promise<ServerContainer[]> {
  const deadline = Date.now() + timeoutMs;
  let last: ServerContainer[] = [];
  while (Date.now() < deadline) {
    last = await serverContainers(vm);
    const distinct = new Set(last.map((c) => c.labels["io.selfhosted-mcp.app"]));
    if (last.length === apps && distinct.size === apps) return last.sort((a, b) => a.name.localeCompare(b.name));
    await sleep(500);
  }
  throw new Error(`expected ${apps} server container(s), one per app, found ${last.map((c) => c.name).join(", ") || "none"}`);
}

/** Waits (bounded) until exactly one server container runs — the old slot is retired after the drain. */
export async function singleServer(vm: DropletVm, timeoutMs = 60_000): Promise<ServerContainer> {
  return (await oneContainerPerApp(vm, 1, timeoutMs))[0]!;
}

/**
 * Number of lines holding `needle` in the output of a shell pipeline run as root in the droplet, or on this machine
 * with "host" (e.g. `docker save X` of the image the host built and pushed: the same digest, far faster than under
 * TCG), streamed through grep. The needle goes in on stdin, so it is on no command line.
 */
export async function occurrences(where: DropletVm | "host", pipeline: string, needle: string): Promise<number> {
  const count = `read -r NEEDLE; ${where === "host" ? "sh -c" : "sudo -n sh -c"} '${pipeline.replace(/'/g, `'\\''`)}' | grep -a -F -c -e "$NEEDLE" || true`;
  const r = where === "host" ? await runOk("sh", ["-c", count], { input: `${needle}\n`, timeoutMs: 300_000 })
    : await where.sshOk(count, { input: `${needle}\n`, timeoutMs: 300_000 });
  return Number(r.stdout.trim() || "0");
}
