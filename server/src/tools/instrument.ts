// Wraps a tool implementation with the production concerns every tool shares: timing, metrics, one log entry per
// call (tool, ids, duration, outcome, error type — never arguments or results) and error → isError result.
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ServerRequest, ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** An error whose message is safe and useful to show to the model; `type` is a stable machine-readable kind. */
export class ToolError extends Error {
  readonly type: string;
  constructor(type: string, message: string) { super(message); this.type = type; }
}

export interface ToolDeps { logger: Logger; metrics: Metrics }

function errorType(e: unknown): string {
  const t = (e as { type?: unknown })?.type;
  return typeof t === "string" ? t : "internal";
}

/** Returns an SDK tool callback that runs `fn` and turns its object into text + structuredContent. */
export function instrument<A>(deps: ToolDeps, tool: string, fn: (args: A, extra: Extra) => Promise<Record<string, unknown>> | Record<string, unknown>) {
  return async (args: A, extra: Extra): Promise<CallToolResult> => {
    const start = process.hrtime.bigint();
    const endTimer = deps.metrics.toolDuration.startTimer({ tool });
    let outcome: "ok" | "error" = "ok";
    let type: string | undefined;
    let result: CallToolResult;
    try {
      const structured = await fn(args, extra);
      result = { content: [{ type: "text", text: JSON.stringify(structured) }], structuredContent: structured };
    } catch (e) {
      outcome = "error";
      type = errorType(e);
      // Known errors carry a message written for the caller; anything else stays generic (details go to the log type only).
      const message = type === "internal" ? "internal error while running the tool" : (e as Error).message;
      result = { isError: true, content: [{ type: "text", text: message }] };
      if (type === "internal") deps.logger.error({ tool, err: { name: (e as Error)?.name, message: (e as Error)?.message } }, "tool failed unexpectedly");
    }
    endTimer();
    deps.metrics.toolCalls.inc({ tool, status: outcome });
    deps.logger.info({
      event: "tool_call", tool, rpc_id: extra.requestId, request_id: extra.requestInfo?.headers["x-request-id"],
      session_id: extra.sessionId, client_id: extra.authInfo?.clientId,
      duration_ms: Number(process.hrtime.bigint() - start) / 1e6, outcome, error_type: type,
    }, "tool call");
    return result;
  };
}
