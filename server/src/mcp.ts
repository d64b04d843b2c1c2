// Builds one McpServer with every tool registered. Stateless mode builds one per request; stateful one per session.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { registerWeatherTools } from "./tools/weather.ts";
import { registerNoteTools } from "./tools/notes.ts";
import { ToolCalls, type ToolDeps } from "./tools/instrument.ts";
import type { Store } from "./store.ts";
import type { WeatherClient } from "./upstream.ts";

const SERVER_INFO = { name: "selfhosted-mcp-reference", title: "selfhosted-mcp reference server", version: "0.1.0" };

export type McpDeps = ToolDeps & { store: Store; weather: WeatherClient };

// One JSON Schema validator (an Ajv instance) per process; by default the SDK builds one per McpServer, i.e. per request.
const jsonSchemaValidator = new AjvJsonSchemaValidator();

const TOOL_NAMES = new WeakMap<McpServer, ReadonlySet<string>>();

/** The names of the tools registered on a server built by createMcpServer (empty for any other server). */
export function toolNamesOf(server: McpServer): ReadonlySet<string> {
  return TOOL_NAMES.get(server) ?? new Set();
}

export function createMcpServer(deps: McpDeps): McpServer {
  // No `capabilities.tools` here: registerTool declares it, after ToolCalls.observe has hooked the handler.
  const server = new McpServer(SERVER_INFO, {
    jsonSchemaValidator,
    instructions: "Weather forecasts by coordinates (get_forecast) and a small note store (save_note, get_note, search_notes).",
  });
  const calls = new ToolCalls(deps);
  const assertObserved = calls.observe(server);
  registerWeatherTools(server, { calls, weather: deps.weather });
  registerNoteTools(server, { calls, store: deps.store });
  assertObserved();
  TOOL_NAMES.set(server, calls.known);
  return server;
}
