// get_forecast: daily weather forecast from the upstream forecast API (Open-Meteo by default).
import * as z from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { WeatherClient } from "../upstream.ts";
import type { ToolCalls } from "./instrument.ts";
import { smokeMeta } from "../../../contract/smoke-example.ts";
import { progressReporter } from "./progress.ts";
import type { Billing } from "../metering/billing.ts";

const MAX_FORECAST_DAYS = 16;

// Tool configs are built once per process: stateless mode registers the tools on a new McpServer for every
// request, and building zod schemas was most of that request's CPU (BENCHMARKS.md). registerTool uses a ready
// z.object as is.
const GET_FORECAST = {
  title: "Daily weather forecast",
  description:
    "Get the daily weather forecast (max/min temperature in °C, precipitation in mm) for a point given by latitude and " +
    "longitude, for today and the following days. Use it for questions about upcoming weather at a known location; " +
    "it does not geocode place names, so pass coordinates. Data comes from a public forecast API and may be a few hours old.",
  inputSchema: z.object({
    latitude: z.number().min(-90).max(90).describe("Latitude in decimal degrees, -90 (south pole) to 90 (north pole), e.g. 52.52 for Berlin."),
    longitude: z.number().min(-180).max(180).describe("Longitude in decimal degrees, -180 to 180 (east positive), e.g. 13.41 for Berlin."),
    days: z.number().int().min(1).max(MAX_FORECAST_DAYS).default(3).describe(`Number of days to forecast, starting today: 1 to ${MAX_FORECAST_DAYS} (default 3).`),
  }),
  outputSchema: z.object({
    latitude: z.number().describe("Latitude of the grid cell the forecast is for."),
    longitude: z.number().describe("Longitude of the grid cell the forecast is for."),
    timezone: z.string().describe("Timezone the dates are expressed in."),
    days: z.array(z.object({
      date: z.string().describe("Date, YYYY-MM-DD."),
      temperature_max_c: z.number().nullable(),
      temperature_min_c: z.number().nullable(),
      precipitation_mm: z.number().nullable(),
    })),
  }),
  annotations: { title: "Daily weather forecast", readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  _meta: smokeMeta({
    arguments: { latitude: 52.52, longitude: 13.41, days: 3 },
    minItems: { days: 3 },
    fields: [
      { field: "timezone" }, { field: "days[].date" },
      { field: "days[].temperature_max_c", minPopulated: 0.9 }, { field: "days[].temperature_min_c", minPopulated: 0.9 },
      { field: "days[].precipitation_mm", minPopulated: 0.9 },
    ],
  }),
};

type ForecastArgs = { latitude: number; longitude: number; days: number };
/** Metering (docs/server.md): one unit per forecast day delivered; the free plan gets at most 3 days. */
const GET_FORECAST_BILLING: Billing<ForecastArgs> = { units: (a) => a.days, planLimits: { days: { free: 3 } } };

export function registerWeatherTools(server: McpServer, deps: { calls: ToolCalls; weather: WeatherClient }): void {
  server.registerTool("get_forecast", GET_FORECAST, deps.calls.wrap("get_forecast", async ({ latitude, longitude, days }: ForecastArgs, extra) => {
    // With a progressToken the caller sees each upstream step (request, retries, validation) as it happens.
    const f = await deps.weather.forecast(latitude, longitude, days, { onStep: progressReporter(extra) });
    return { ...f };
  }, GET_FORECAST_BILLING));
}
