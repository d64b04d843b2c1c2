// Issue 13 item 1, with real programs: a private nginx with the rendered site and the rendered connection limit
// (iptables connlimit) in a network namespace of its own; one loopback address (127.0.0.3) holds 600 slow connections
// (half stuck in the TLS handshake, half in the header, reopened when dropped: more than the private nginx's 512
// worker_connections), while real requests from another address (127.0.0.2) must keep succeeding (>= 99 %).
// The scenario is bench/attack-nginx.ts, run as a child process inside the namespace (needs root, iproute2, iptables).
// Independent of machine speed: a fixed number of real requests, each on a new TLS connection and sent only while
// `ss` shows the attacker holding >= HOLD established connections, each with a timeout generous for a loaded host.
// Without the connection limit (`--no-connlimit`) it fails: the attacker then holds up to ~540, far above the cap.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { run, runOk } from "../support/proc.ts";
import type { AttackReport } from "../../bench/attack-nginx.ts";
import { renderConnlimitScript } from "../../nginx/index.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PROBES = 100;
/** Attacker connections that must be established when each real request is sent (the cap is 128 per address). */
const HOLD = 100;
/** Per real request; unloaded it takes ~50 ms, under load average 16 on 2 cores up to a few seconds. */
const PROBE_TIMEOUT_MS = 15_000;
/** The rendered rule's per-address cap (`--connlimit-above N`). */
const CAP = Number(/--connlimit-above (\d+)/.exec(renderConnlimitScript({ ipv6: false }))![1]);

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

describe("slow clients from one address cannot take nginx down", { timeout: 420_000 }, () => {
  it(`600 slow connections from 127.0.0.3; >= 99 % of ${PROBES} real requests from 127.0.0.2 succeed`, async () => {
    const report = await inNamespace(async ([cmd, ...args]) => {
      const r = await runOk(cmd!, [...args, process.execPath, join(ROOT, "bench", "attack-nginx.ts"), "--json",
        "--probes", String(PROBES), "--hold-at-least", String(HOLD), "--probe-timeout", String(PROBE_TIMEOUT_MS)], { timeoutMs: 400_000 });
      return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as AttackReport;
    });
    console.log(`# slow-client attack: ${JSON.stringify(report)}`);
    // The attack was real: every real request was sent while the attacker held >= HOLD connections, and never more
    // than the cap; it was refused beyond the cap and dropped by nginx's header timeout.
    assert.equal(report.probes, PROBES);
    assert.ok(report.attacker.heldAtProbe.min >= HOLD, JSON.stringify(report.attacker));
    // `ss` may still list a few sockets nginx is closing that connlimit (conntrack) no longer counts (seen: 136 with
    // the cap at 128); without the rule the attacker holds its full 600 (512 accepted by nginx, the rest queued).
    assert.ok(report.attacker.heldAtProbe.max <= CAP * 1.5, `the attacker held far more than the ${CAP}-connection cap: ${JSON.stringify(report.attacker)}`);
    assert.ok(report.attacker.refused > 0 && report.attacker.dropped > 0, JSON.stringify(report.attacker));
    assert.ok(report.successRate >= 0.99, `${report.succeeded}/${report.probes} real requests succeeded: ${report.failures.join("; ")}`);
  });
});
