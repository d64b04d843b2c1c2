// The production concerns every tool shares: one log entry per tools/call (tool, ids, duration, outcome, error type —
// never arguments or results), metrics, and error → isError result. The tools/call handler itself is observed, so
// calls the SDK rejects before a tool runs (unknown tool, invalid arguments) are logged and counted too.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { CallToolRequestSchema, type CallToolRequest, type CallToolResult, type RequestId, type ServerNotification, type ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import { fixedFieldsLogger, type Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { Metering } from "../metering/metering.ts";
import type { Billing } from "../metering/billing.ts";
import { clientRequestId } from "../client-request-ids.ts";

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
type CallHandler = (request: CallToolRequest, extra: Extra) => Promise<CallToolResult>;

/** An error whose message is safe and useful to show to the model; `type` is a stable machine-readable kind. */
export class ToolError extends Error {
  readonly type: string;
  constructor(type: string, message: string) { super(message); this.type = type; }
}

export interface ToolDeps { logger: Logger; metrics: Metrics; metering: Metering }

function errorType(e: unknown): string {
  const t = (e as { type?: unknown })?.type;
  return typeof t === "string" ? t : "internal";
}

const firstText = (r: CallToolResult | undefined) => (r?.content?.[0]?.type === "text" ? r.content[0].text : "");

/** One per McpServer: wraps tool implementations and observes that server's tools/call handler. */
export class ToolCalls {
  #deps: ToolDeps;
  #known = new Set<string>();
  #errorTypes = new Map<RequestId, string>();
  /** Metering hook: the charge of a billable call whose tool succeeded, run by #observed if the call's result is no error. */
  #charges = new Map<RequestId, () => void>();

  constructor(deps: ToolDeps) { this.#deps = deps; }

  /** The names of the tools wrapped so far. */
  get known(): ReadonlySet<string> { return this.#known; }

  /**
   * Returns an SDK tool callback that runs `fn` and turns its object into text + structuredContent. With `billing`
   * (metering/billing.ts) the plan gate clamps the arguments first (its notice becomes a second text block) and a
   * successful call is metered.
   */
  wrap<A>(tool: string, fn: (args: A, extra: Extra) => Promise<Record<string, unknown>> | Record<string, unknown>, billing?: Billing<A>) {
    this.#known.add(tool);
    this.#deps.metrics.declareTool(tool);
    return async (args: A, extra: Extra): Promise<CallToolResult> => {
      try {
        const gated = billing ? this.#deps.metering.gate(tool, billing, args, extra) : { args, notice: undefined };
        // Armed now, fired by #observed only if the call's final result is no error.
        if (billing) this.#charges.set(extra.requestId, () => this.#deps.metering.charge(tool, billing, gated.args, extra));
        const structured = await fn(gated.args, extra);
        const content: CallToolResult["content"] = [{ type: "text", text: JSON.stringify(structured) }];
        if (gated.notice) content.push({ type: "text", text: gated.notice });
        return { content, structuredContent: structured };
      } catch (e) {
        const type = errorType(e);
        this.#errorTypes.set(extra.requestId, type);
        if (type === "internal") this.#deps.logger.error({ tool, err: { name: (e as Error)?.name, message: (e as Error)?.message } }, "tool failed unexpectedly");
        // Known errors carry a message written for the caller; anything else stays generic.
        return { isError: true, content: [{ type: "text", text: type === "internal" ? "internal error while running the tool" : (e as Error).message }] };
      }
    };
  }

  /**
   * Wraps the tools/call handler the McpServer installs on its Server at the first registerTool, so construct the
   * McpServer without `capabilities.tools` (registerTool declares it). Returns a check to run after registration:
   * it throws if the handler was not observed (an SDK change), so a silent loss of logs/metrics cannot ship.
   */
  observe(server: McpServer): () => void {
    const protocol = server.server;
    const set = protocol.setRequestHandler.bind(protocol);
    let observed = false;
    protocol.setRequestHandler = ((schema: unknown, handler: CallHandler) => {
      const isCall = schema === CallToolRequestSchema;
      observed ||= isCall;
      return set(schema as typeof CallToolRequestSchema, (isCall ? this.#observed(handler) : handler) as never);
    }) as typeof protocol.setRequestHandler;
    return () => { if (!observed) throw new Error("tools/call handler was not observed: tool calls would not be logged or counted"); };
  }

  #observed(handler: CallHandler): CallHandler {
    return async (request, extra) => {
      const name = request.params.name;
      const rpcId = clientRequestId(extra.requestId); // the client's own id (the shared stateless server renumbers)
      const tool = this.#known.has(name) ? name : "unknown"; // bounded label values
      const start = process.hrtime.bigint();
      let result: CallToolResult | undefined;
      let thrown: unknown;
      try { result = await handler(request, extra); } catch (e) { thrown = e; }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      let type = this.#errorTypes.get(extra.requestId);
      this.#errorTypes.delete(extra.requestId);
      const failed = thrown !== undefined || result?.isError === true;
      const charge = this.#charges.get(extra.requestId);
      this.#charges.delete(extra.requestId);
      if (!failed) charge?.(); // metering: only a call whose result is no error (tool error, SDK output check)
      if (failed && !type) {
        type = tool === "unknown" ? "unknown_tool" : /Input validation error/.test(firstText(result)) ? "invalid_params" : "internal";
      }
      this.#deps.metrics.toolCalls.inc({ tool, status: failed ? "error" : "ok" });
      this.#deps.metrics.toolDuration.observe({ tool }, seconds);
      fixedFieldsLogger(this.#deps.logger).info({ // only these fields, none secret: no redaction pass (logger.ts)
        event: "tool_call", tool, rpc_id: rpcId, request_id: extra.requestInfo?.headers["x-request-id"],
        session_id: extra.sessionId, client_id: extra.authInfo?.clientId,
        duration_ms: seconds * 1000, outcome: failed ? "error" : "ok", error_type: failed ? type : undefined,
      }, "tool call");
      if (thrown !== undefined) throw thrown;
      return result!;
    };
  }
}
