// How @pulumi/command dials a remote Command's connection, for the rehearsal's ssh (provider.ts) to do the same:
// provider/pkg/provider/remote/connection.go (pulumi-command 1.2.1):
//   - defaults: dialErrorLimit 10 (`dialErrorDefault`), perDialTimeout 15 s (`SetDefault(&c.PerDialTimeout, 15)`);
//   - each dial (`ssh.Dial`: TCP connect, banner, key exchange, authentication) is bounded by perDialTimeout
//     (ssh.ClientConfig.Timeout);
//   - dialWithRetry: after a failed dial, `dials > dialErrorLimit` gives up with "after <dials-1> failed attempts:
//     <error>" (so dialErrorLimit + 1 dials in all), else it retries after retry.Until's delay (pulumi sdk
//     util/retry: 0.15 s, ×1.5 per try, at most 5 s); -1 = unlimited (the rehearsal refuses it: every wait here is
//     bounded).
// The rehearsal's dial is OpenSSH's: ConnectTimeout = perDialTimeout (it bounds the TCP connect and the banner
// exchange), and a failure of the connection phase is told from the remote command's own exit by ssh's messages.
import { sleep, type RunResult } from "../test/support/proc.ts";

export interface DialBounds { dialErrorLimit: number; perDialTimeout: number }

export const DIAL_DEFAULTS: DialBounds = { dialErrorLimit: 10, perDialTimeout: 15 };

/** The recorded connection's bounds, with the provider's defaults. */
export function dialBounds(connection: unknown): DialBounds {
  const c = (connection ?? {}) as Partial<DialBounds>;
  const b = { dialErrorLimit: c.dialErrorLimit ?? DIAL_DEFAULTS.dialErrorLimit, perDialTimeout: c.perDialTimeout ?? DIAL_DEFAULTS.perDialTimeout };
  if (!(b.dialErrorLimit >= 0 && b.perDialTimeout > 0)) {
    throw new Error(`connection dialErrorLimit ${b.dialErrorLimit} / perDialTimeout ${b.perDialTimeout}: the rehearsal needs a bounded dial (dialErrorLimit >= 0, perDialTimeout > 0)`);
  }
  return b;
}

/**
 * What OpenSSH prints (exit 255) when the connection phase fails — refused or unreachable, no banner in time, key
 * exchange or authentication refused — i.e. where `ssh.Dial` fails in the provider. A remote command's own output
 * never reaches stderr before the connection is up.
 */
const DIAL_FAILURE = /^ssh: connect to host |^kex_exchange_identification|Connection timed out during banner exchange|^Connection (closed|reset) by .* port \d+|Permission denied \(/m;

export const isDialFailure = (r: RunResult): boolean => r.code === 255 && DIAL_FAILURE.test(r.stderr);

export class DialError extends Error {}

/** Runs `attempt` (one ssh invocation) until its connection phase succeeds, within the provider's retry bounds. */
export async function withDialRetry(bounds: DialBounds, attempt: () => Promise<RunResult>): Promise<RunResult> {
  let delayMs = 150;
  for (let dials = 1; ; dials++) {
    const r = await attempt();
    if (!isDialFailure(r)) return r;
    if (dials > bounds.dialErrorLimit) {
      throw new DialError(`after ${dials - 1} failed attempts: ${r.stderr.trim().split("\n").at(-1)} ` +
        `(dialErrorLimit ${bounds.dialErrorLimit}, perDialTimeout ${bounds.perDialTimeout} s, as @pulumi/command dials)`);
    }
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 1.5, 5_000);
  }
}
