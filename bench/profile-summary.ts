// Summarizes a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --profile DIR`): self time by
// function and by package/file group, and inclusive ("total") time of the heaviest frames, so a missed target can
// be traced to the code that costs it.  Usage: node bench/profile-summary.ts FILE.cpuprofile [top=25]
import { readFileSync } from "node:fs";

interface Frame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: Frame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Groups a script URL: node_modules package name, `node:` internals, or the project-relative file. */
export function group(url: string): string {
  if (!url) return "(native/vm)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith("node:")) return url.split("/")[0]!;
  const own = /\/(server|bench|test)\/(.+)$/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

export function summarize(p: Profile) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fnSelf = new Map<string, number>();
  const groupSelf = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, t] of self) {
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${group(f.url)}:${f.lineNumber + 1}`;
    fnSelf.set(key, (fnSelf.get(key) ?? 0) + t);
    groupSelf.set(group(f.url), (groupSelf.get(group(f.url)) ?? 0) + t);
    // Inclusive time: charge every distinct frame on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      const k = `${cf.functionName || "(anonymous)"} ${group(cf.url)}:${cf.lineNumber + 1}`;
      if (!seen.has(k)) { seen.add(k); inclusive.set(k, (inclusive.get(k) ?? 0) + t); }
    }
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, t]) => ({ name: k, ms: t / 1000, pct: (100 * t) / total }));
  return { totalMs: total / 1000, top, fnSelf, groupSelf, inclusive };
}

if (import.meta.main) {
  const [file, n = "25"] = process.argv.slice(2);
  if (!file) throw new Error("usage: node bench/profile-summary.ts FILE.cpuprofile [top]");
  const s = summarize(JSON.parse(readFileSync(file, "utf8")) as Profile);
  const print = (title: string, rows: ReturnType<typeof s.top>) => {
    console.log(`\n## ${title}`);
    for (const r of rows) console.log(`${r.pct.toFixed(1).padStart(5)} %  ${r.ms.toFixed(0).padStart(6)} ms  ${r.name}`);
  };
  console.log(`profile: ${file}, ${s.totalMs.toFixed(0)} ms sampled`);
  print("self time by package / file", s.top(s.groupSelf, Number(n)));
  print("self time by function", s.top(s.fnSelf, Number(n)));
  print("inclusive time by function", s.top(s.inclusive, Number(n)));
}
