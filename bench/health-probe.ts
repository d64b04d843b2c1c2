// What the image's HEALTHCHECK costs inside the server container, per probe: the shipped bash /dev/tcp probe
// (contract/livez-probe.sh) against the `node -e` fetch probe the images used before. Both run N times in a row
// inside one running container (docker exec, under the run contract); bash's `times` reports the CPU its children
// used. Docker runs the probe every healthInterval (default 10 s) in every container, inside its memory limit.
// Usage: node bench/health-probe.ts [--probes 20] [--json FILE]
import { parseArgs } from "node:util";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { runOk } from "../test/support/proc.ts";
import { ensureBaseImage } from "../test/support/base-image.ts";
import { buildServerImage, removeContainers, startContainer, uniqueName } from "../test/support/server-image.ts";

const { values } = parseArgs({ options: { probes: { type: "string", default: "20" }, json: { type: "string" } } });
const n = Number(values.probes);
if (!(Number.isInteger(n) && n >= 1 && n <= 500)) throw new Error("--probes takes 1-500");

/** The images' probe before contract/livez-probe.sh (server/Dockerfile and gateway/Dockerfile, until 2026-11-30). */
const NODE_PROBE = `node -e "const h=process.env.HOST||'127.0.0.1';fetch('http://'+(h.includes(':')?'['+h+']':h)+':'+(process.env.PORT||8000)+'/livez',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`;
const BASH_PROBE = "bash /usr/local/lib/selfhosted-mcp/livez-probe.sh";

await ensureBaseImage();
const image = await buildServerImage();
const work = mkdtempSync(join(tmpdir(), "bench-probe-"));
const name = uniqueName("bench-probe");
const rows: Record<string, unknown>[] = [];
try {
  const c = await startContainer(image, { dir: work, name, env: { AUTH_MODE: "none", LOG_LEVEL: "warn" } });
  try {
    for (const [probe, cmd] of [["node -e fetch (before)", NODE_PROBE], ["bash /dev/tcp (shipped)", BASH_PROBE]] as const) {
      // Every probe must pass; `times` prints the shell's own and its children's user/system seconds (2nd line).
      const script = `for i in $(seq ${n}); do ${cmd} || { echo "probe $i failed" >&2; exit 1; }; done; times`;
      const t = Date.now();
      const out = (await runOk("docker", ["exec", name, "bash", "-c", script], { timeoutMs: 600_000 })).stdout.trim().split("\n");
      const wallMs = Date.now() - t;
      const [user, sys] = (out[1] ?? "").split(/\s+/).map((x) => { const m = /^(\d+)m([\d.]+)s$/.exec(x); return m ? Number(m[1]) * 60 + Number(m[2]) : NaN; });
      rows.push({ probe, probes: n, cpu_ms_per_probe: Math.round(((user! + sys!) * 1000) / n), wall_ms_per_probe: Math.round(wallMs / n) });
    }
  } finally { await removeContainers([name], [c.volume]); }
} finally { rmSync(work, { recursive: true, force: true }); }

console.log(`# load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}; ${n} probes each, inside one server container (docker exec adds the wall time of one exec)`);
console.log("| probe | CPU ms / probe | wall ms / probe |\n|---|---:|---:|");
for (const r of rows) console.log(`| ${String(r.probe)} | ${String(r.cpu_ms_per_probe)} | ${String(r.wall_ms_per_probe)} |`);
if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
