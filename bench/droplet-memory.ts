// The droplet's memory during a blue/green switch, measured inside a rehearsal droplet VM with the droplet size's
// memory (default the $4 size, s-1vcpu-512mb-10gb: 512 MB): the rehearsal deploys the example stack into the VM
// (real cloud-init, docker, nginx, certbot), then redeploys with one changed env value — the deploy starts the idle
// slot beside the live one, health-checks it, switches and drains — while a sampler in the guest records every
// second: MemTotal/MemAvailable/swap (/proc/meminfo), the RSS of dockerd, containerd (+ shims), nginx, and each
// container's anonymous memory (its cgroup's memory.stat). Reports the peak of "used" (MemTotal − MemAvailable)
// with its breakdown at that moment; "kernel, systemd and the rest" is used minus the named parts.
// Usage: node bench/droplet-memory.ts [--size s-1vcpu-512mb-10gb] [--json FILE]      (root; ~10-20 min under TCG)
import { parseArgs } from "node:util";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rehearse, destroy } from "../rehearsal/rehearsal.ts";
import { ensureHostPrograms } from "../rehearsal/bootstrap.ts";
import { findDropletSize } from "../infra/render/droplet-size.ts";

const { values } = parseArgs({ options: { size: { type: "string", default: "s-1vcpu-512mb-10gb" }, json: { type: "string" } } });
const size = findDropletSize(values.size);
if (!size) throw new Error(`--size ${values.size} is not a size of infra/render/droplet-size.ts`);

const MAX_SAMPLES = 1800;
// One sample a second until /tmp/stop-sampling exists (or MAX_SAMPLES): "T <epoch>", meminfo lines, "P <comm> <rss kB>",
// "C <container id> <anon bytes>".
const SAMPLER = `n=0; rm -f /tmp/stop-sampling; while [ $n -lt ${MAX_SAMPLES} ] && [ ! -e /tmp/stop-sampling ]; do n=$((n+1));
echo "T $(date +%s)"; grep -E '^(MemTotal|MemAvailable|SwapTotal|SwapFree):' /proc/meminfo;
ps -eo rss=,comm= | awk '{a[$2]+=$1} END {for (k in a) print "P", k, a[k]}';
for d in /sys/fs/cgroup/system.slice/docker-*.scope; do [ -d "$d" ] && echo "C $(basename "$d" .scope | cut -c8-19) $(awk '/^anon /{print $2}' "$d/memory.stat")"; done;
sleep 1; done`;

interface Sample { t: number; mem: Record<string, number>; procs: Record<string, number>; containers: Record<string, number> }

function parse(out: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of out.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] === "T") samples.push({ t: Number(f[1]), mem: {}, procs: {}, containers: {} });
    const s = samples.at(-1);
    if (!s) continue;
    if (/^[A-Za-z]+:$/.test(f[0] ?? "")) s.mem[f[0]!.slice(0, -1)] = Number(f[1]) / 1024;
    else if (f[0] === "P") s.procs[f[1]!] = Number(f[2]) / 1024;
    else if (f[0] === "C") s.containers[f[1]!] = Number(f[2]) / 1024 / 1024;
  }
  return samples;
}

const sum = (o: Record<string, number>, keys: (k: string) => boolean) => Object.entries(o).filter(([k]) => keys(k)).reduce((a, [, v]) => a + v, 0);

await ensureHostPrograms();
const stateDir = mkdtempSync(join(tmpdir(), "bench-droplet-memory-"));
const config = { dropletSize: size.slug };
const t0 = Date.now();
try {
  const first = await rehearse({ stateDir, config, log: (l) => console.error(`[deploy] ${l}`) });
  const deployMs = Date.now() - t0;
  const vm = first.vm;
  const slots = async () => Object.fromEntries((await vm.sshOk("sudo -n docker ps -a --no-trunc --format '{{.ID}} {{.Label \"io.selfhosted-mcp.slot\"}}'"))
    .stdout.trim().split("\n").filter(Boolean).map((l) => { const [id, slot] = l.split(" "); return [id!.slice(0, 12), slot!]; }));
  const before = await slots();
  const sampler = vm.ssh(`sudo -n bash -c '${SAMPLER.replace(/'/g, `'\\''`)}'`, { timeoutMs: (MAX_SAMPLES + 120) * 1000 });
  const t1 = Date.now();
  await rehearse({ stateDir, config, env: { BENCH_REVISION: "2" }, log: (l) => console.error(`[redeploy] ${l}`) });
  const redeployMs = Date.now() - t1;
  await vm.sshOk("sudo -n touch /tmp/stop-sampling");
  const samples = parse((await sampler).stdout);
  const slotOf = { ...before, ...(await slots()) };
  const rows = samples.map((s) => {
    const used = s.mem.MemTotal! - s.mem.MemAvailable!;
    const byName = {
      dockerd: sum(s.procs, (k) => k === "dockerd"),
      "containerd (+shims)": sum(s.procs, (k) => k.startsWith("containerd")),
      nginx: sum(s.procs, (k) => k === "nginx"),
      ...Object.fromEntries(Object.entries(s.containers).map(([id, mb]) => [`slot ${slotOf[id] ?? id}`, mb])),
    };
    const named = Object.values(byName).reduce((a, b) => a + b, 0);
    return { t: s.t, usedMb: used, swapUsedMb: s.mem.SwapTotal! - s.mem.SwapFree!, containers: Object.keys(s.containers).length,
      breakdownMb: { ...byName, "kernel, systemd and the rest": used - named } };
  });
  const peak = rows.reduce((a, b) => (b.usedMb > a.usedMb ? b : a));
  const bothUp = rows.filter((r) => r.containers >= 2);
  const report = {
    size: size.slug, memTotalMb: Math.round(samples[0]?.mem.MemTotal ?? 0), samples: rows.length, bothSlotsUpSamples: bothUp.length,
    deployMs, redeployMs, peak, peakWithBothSlots: bothUp.length ? bothUp.reduce((a, b) => (b.usedMb > a.usedMb ? b : a)) : undefined,
    maxSwapUsedMb: Math.max(...rows.map((r) => r.swapUsedMb)),
  };
  const round = (x: unknown): unknown => typeof x === "number" ? Math.round(x) : x && typeof x === "object"
    ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, round(v)])) : x;
  console.log(JSON.stringify(round(report), null, 2));
  if (values.json) writeFileSync(values.json, JSON.stringify({ report, rows }, null, 2));
} finally {
  await destroy({ stateDir });
}
