// Issue 13 item 1, with real programs: a private nginx with the rendered site and the rendered connection limit
// (iptables connlimit) in a network namespace of its own; one loopback address (127.0.0.3) holds 600 slow connections
// (half stuck in the TLS handshake, half in the header, reopened when dropped: more than the private nginx's 512
// worker_connections), while real requests from another address (127.0.0.2) must keep succeeding (>= 99 %).
// The scenario is bench/attack-nginx.ts, run as a child process inside the namespace (needs root, iproute2, iptables).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { run, runOk } from "../support/proc.ts";
import type { AttackReport } from "../../bench/attack-nginx.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function inNamespace<T>(fn: (exec: string[]) => Promise<T>): Promise<T> {
  const ns = `smcp-slow-${process.pid}`;
  await runOk("ip", ["netns", "add", ns]);
  try {
    await runOk("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    return await fn(["ip", "netns", "exec", ns]);
  } finally {
    await run("ip", ["netns", "del", ns]);
  }
}

describe("slow clients from one address cannot take nginx down", { timeout: 180_000 }, () => {
  it("600 slow connections from 127.0.0.3; >= 99 % of real requests from 127.0.0.2 succeed", async () => {
    const report = await inNamespace(async ([cmd, ...args]) => {
      const r = await runOk(cmd!, [...args, process.execPath, join(ROOT, "bench", "attack-nginx.ts"), "--json", "--seconds", "25"], { timeoutMs: 150_000 });
      return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as AttackReport;
    });
    console.log(`# slow-client attack: ${JSON.stringify(report)}`);
    // The attack was real: the attacker held its share of connections, was refused beyond it and dropped on timeout.
    assert.ok(report.attacker.peakOpen >= 100, JSON.stringify(report.attacker));
    assert.ok(report.attacker.refused > 0 && report.attacker.dropped > 0, JSON.stringify(report.attacker));
    assert.ok(report.probes >= 50, `only ${report.probes} real requests`);
    assert.ok(report.successRate >= 0.99, `${report.succeeded}/${report.probes} real requests succeeded: ${report.failures.join("; ")}`);
  });
});
