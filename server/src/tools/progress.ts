// Request-scoped progress for tools. When a tools/call carries `params._meta.progressToken`, http.ts answers that
// request as an SSE stream, and the steps a tool reports here reach the caller as `notifications/progress` before
// the result. Without a token the reporter is a no-op (a JSON response could not carry the notifications anyway).
import type { Extra } from "./instrument.ts";

/** Reports one completed step; `progress` increases by one per step (the total is unknown up front). */
export type ProgressReporter = (message: string) => Promise<void>;

export function progressReporter(extra: Extra): ProgressReporter {
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined) return async () => {};
  let progress = 0;
  return async (message) => {
    progress++;
    // Advisory: a client that went away must not turn a successful call into an error.
    await extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress, message } }).catch(() => {});
  };
}
