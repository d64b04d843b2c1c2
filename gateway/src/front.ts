// The MCP server one client session talks to: a low-level SDK Server whose handlers forward to the Gateway for the
// upstreams the request's credential may use (access.ts), decided per request from the credential it carries: a token
// refreshed with other scopes within a session takes effect at once. Progress: a client's progressToken is replaced
// upstream by the SDK client's own, and each upstream notifications/progress is re-sent to the client under the client's token (MCP 2025-11-25,
// basic/utilities/progress). Cancellation: the client's notifications/cancelled aborts the handler's signal (SDK
// Protocol), which cancels the upstream call (upstream.ts, call-context.ts). Lists come in one page.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema, ErrorCode, GetPromptRequestSchema, ListPromptsRequestSchema, ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema, ListToolsRequestSchema, ReadResourceRequestSchema,
  type Progress, type ServerNotification, type ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { Gateway } from "./gateway.ts";
import type { Access } from "./access.ts";
import { RpcError, type CallOptions } from "./upstream.ts";

export const GATEWAY_INFO = { name: "selfhosted-mcp-gateway", title: "selfhosted-mcp gateway", version: "0.1.0" };

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
type WithMeta = { params?: { cursor?: string; _meta?: { progressToken?: string | number } } };

/** MCP 2025-11-25 basic/utilities/pagination "Error Handling": an invalid cursor SHOULD be -32602. */
function oneShotList(request: WithMeta): void {
  if (request.params?.cursor !== undefined) throw new RpcError({ code: ErrorCode.InvalidParams, message: "Invalid params: params.cursor: not a cursor this gateway issued (it lists everything in one page)" });
}

function callOptions(request: WithMeta, extra: Extra): CallOptions {
  const progressToken = request.params?._meta?.progressToken;
  if (progressToken === undefined) return { signal: extra.signal };
  return {
    signal: extra.signal,
    onprogress: (p: Progress) => {
      // Advisory: a client that went away must not fail the call.
      extra.sendNotification({ method: "notifications/progress", params: { ...p, progressToken } }).catch(() => {});
    },
  };
}

/**
 * A Server for one session opened with `opened` (the initialize request's credential); each request is served for the
 * upstreams `access` allows its own credential, and list_changed notifications go out for those of the latest request.
 */
export function createFrontServer(gateway: Gateway, access: Access, opened: AuthInfo | undefined): Server {
  let latest = access(opened);
  const allowedFor = (extra: Extra) => (latest = access(extra.authInfo));
  const server = new Server(GATEWAY_INFO, {
    capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true } },
    instructions: "A gateway to several MCP servers: each tool and prompt is named <server>__<name>, resources keep their URIs.",
  });
  server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => { oneShotList(request); return { tools: await gateway.listTools(allowedFor(extra)) }; });
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    gateway.callTool(allowedFor(extra), request.params, callOptions(request, extra), { rpc_id: extra.requestId, session_id: extra.sessionId, request_id: extra.requestInfo?.headers["x-request-id"] }));
  server.setRequestHandler(ListPromptsRequestSchema, async (request, extra) => { oneShotList(request); return { prompts: await gateway.listPrompts(allowedFor(extra)) }; });
  server.setRequestHandler(GetPromptRequestSchema, (request, extra) => gateway.getPrompt(allowedFor(extra), request.params, callOptions(request, extra)) as never);
  server.setRequestHandler(ListResourcesRequestSchema, async (request, extra) => { oneShotList(request); return { resources: await gateway.listResources(allowedFor(extra)) }; });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async (request, extra) => { oneShotList(request); return { resourceTemplates: await gateway.listResourceTemplates(allowedFor(extra)) }; });
  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) => gateway.readResource(allowedFor(extra), request.params, callOptions(request, extra)) as never);

  const unsubscribe = gateway.onListChanged((kind, upstream) => {
    if (!latest.has(upstream)) return;
    const sent = kind === "tools" ? server.sendToolListChanged() : kind === "prompts" ? server.sendPromptListChanged() : server.sendResourceListChanged();
    sent.catch(() => {}); // a session whose client is gone
  });
  const close = server.onclose;
  server.onclose = () => { unsubscribe(); close?.(); };
  return server;
}
