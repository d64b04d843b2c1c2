// The smoke test: TLS, /health, initialize, tools/list (description + inputSchema), then one call of every read-only
// tool with the example its server declares in `_meta`, asserting the declared field-population thresholds.
// Runs against any deployed MCP server over Streamable HTTP with the SDK's own client.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { inspectTls, type TlsInfo } from "./tls.ts";
import { smokeExampleOf } from "./examples.ts";
import { checkField, checkItems, describeField, describeItems, type FieldResult, type ItemsResult } from "./population.ts";

export interface SmokeOptions {
  /** Base URL of the server (…/mcp and …/health are derived) or its MCP endpoint ending in /mcp. */
  url: string;
  /** Bearer token for /mcp (API key or OAuth access token). */
  token?: string;
  /** Override for the health URL. */
  healthUrl?: string;
  /** Per-step timeout (default 20 s). */
  timeoutMs?: number;
  /** Fail when the certificate expires in fewer days (default 7). */
  minCertDays?: number;
}

export type CheckStatus = "pass" | "fail" | "skip";

export interface CheckResult {
  /** "tls" | "health" | "initialize" | "tools/list" | "tool". */
  check: string;
  tool?: string;
  status: CheckStatus;
  message: string;
  fields?: FieldResult[];
  items?: ItemsResult[];
  durationMs?: number;
}

export interface SmokeReport {
  target: string;
  mcpUrl: string;
  healthUrl: string;
  ok: boolean;
  startedAt: string;
  durationMs: number;
  tls?: TlsInfo;
  /** null when /health could not be reached at all. */
  healthStatus?: number | null;
  checks: CheckResult[];
}

const MAX_PAGES = 20;

export function endpoints(url: string, healthUrl?: string): { mcpUrl: URL; healthUrl: URL } {
  let u: URL;
  try { u = new URL(url); } catch { throw new Error(`url: "${url}" is not a URL; pass e.g. https://mcp.example.com or https://mcp.example.com/mcp`); }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error(`url: ${u.protocol} is not supported; use https:// (or http:// for a local server)`);
  const base = u.pathname.replace(/\/+$/, "").replace(/\/mcp$/, "");
  const at = (p: string) => new URL(`${base}/${p}`, u.origin);
  return { mcpUrl: at("mcp"), healthUrl: healthUrl ? new URL(healthUrl) : at("health") };
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join(" ").slice(0, 300);

async function step<T>(check: string, fn: () => Promise<T>): Promise<[T | undefined, CheckResult | undefined]> {
  try { return [await fn(), undefined]; } catch (e) { return [undefined, { check, status: "fail", message: errorText(e) }]; }
}

async function checkTls(url: URL, o: Required<Pick<SmokeOptions, "timeoutMs" | "minCertDays">>, report: SmokeReport): Promise<CheckResult> {
  if (url.protocol !== "https:") return { check: "tls", status: "skip", message: "plain http URL: no TLS to check" };
  const [tls, failed] = await step("tls", () => inspectTls(url, o.timeoutMs));
  if (!tls) return failed!;
  report.tls = tls;
  if (!tls.trusted) return { check: "tls", status: "fail", message: `certificate not valid for ${url.hostname}: ${tls.error}` };
  if (tls.daysLeft < o.minCertDays) {
    return { check: "tls", status: "fail", message: `certificate expires in ${tls.daysLeft} days (${tls.validTo}), less than ${o.minCertDays}; check the certbot renewal timer` };
  }
  return { check: "tls", status: "pass", message: `certificate valid, ${tls.daysLeft} days left (until ${tls.validTo})` };
}

async function checkHealth(url: URL, timeoutMs: number, report: SmokeReport): Promise<CheckResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
    report.healthStatus = res.status;
    const body = await res.text();
    if (res.ok) return { check: "health", status: "pass", message: `${url.pathname} answered ${res.status}` };
    let detail = body.slice(0, 200);
    try {
      const checks = (JSON.parse(body) as { checks?: Record<string, { status?: string; error?: string }> }).checks ?? {};
      const failing = Object.entries(checks).filter(([, c]) => c.status !== "ok").map(([k, c]) => `${k}: ${c.error ?? c.status}`);
      if (failing.length) detail = failing.join("; ");
    } catch { /* not JSON: keep the raw excerpt */ }
    return { check: "health", status: "fail", message: `${url.pathname} answered ${res.status}: ${detail}` };
  } catch (e) {
    report.healthStatus = null;
    return { check: "health", status: "fail", message: `${url.href} unreachable: ${errorText(e)}` };
  }
}

async function listAllTools(client: Client, timeout: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await client.listTools(cursor ? { cursor } : {}, { timeout });
    tools.push(...r.tools);
    cursor = r.nextCursor;
    if (!cursor) return tools;
  }
  throw new Error(`tools/list returned more than ${MAX_PAGES} pages`);
}

function checkToolList(tools: Tool[]): CheckResult {
  if (tools.length === 0) return { check: "tools/list", status: "fail", message: "the server lists no tools" };
  const problems = tools.flatMap((t) => [
    ...(t.description?.trim() ? [] : [`${t.name}: no description`]),
    ...(t.inputSchema?.type === "object" ? [] : [`${t.name}: inputSchema is not an object schema`]),
  ]);
  if (problems.length) return { check: "tools/list", status: "fail", message: problems.join("; ") };
  return { check: "tools/list", status: "pass", message: `${tools.length} tools, each with a description and an input schema` };
}

async function callTool(client: Client, tool: Tool, timeout: number): Promise<CheckResult> {
  const base = { check: "tool", tool: tool.name };
  const lookup = smokeExampleOf(tool._meta);
  if (lookup.kind === "invalid") return { ...base, status: "fail", message: lookup.error };
  const example = lookup.kind === "declared" ? lookup.example : undefined;
  if (example?.skip) return { ...base, status: "skip", message: example.skip };
  if (!example && (tool.inputSchema.required?.length ?? 0) > 0) {
    return { ...base, status: "skip", message: "no smoke example declared in _meta and the tool has required arguments" };
  }
  const started = performance.now();
  let result: CallToolResult;
  try {
    result = await client.callTool({ name: tool.name, arguments: example?.arguments ?? {} }, undefined, { timeout }) as CallToolResult;
  } catch (e) {
    return { ...base, status: "fail", message: `call failed: ${errorText(e)}`, durationMs: Math.round(performance.now() - started) };
  }
  const durationMs = Math.round(performance.now() - started);
  if (result.isError) return { ...base, status: "fail", message: `tool returned an error: ${textOf(result)}`, durationMs };
  let data: unknown = result.structuredContent;
  if (data === undefined) { try { data = JSON.parse(textOf(result)); } catch { data = undefined; } }
  const items = Object.entries(example?.minItems ?? {}).map(([f, n]) => checkItems(data, f, n));
  const fields = (example?.fields ?? []).map((t) => checkField(data, t));
  const bad = [...items.filter((r) => !r.ok).map(describeItems), ...fields.filter((r) => !r.ok).map(describeField)];
  if (bad.length) return { ...base, status: "fail", message: `field population below threshold: ${bad.join("; ")}`, fields, items, durationMs };
  const n = fields.length + items.length;
  return { ...base, status: "pass", message: n ? `${n} field checks met` : "answered without error", fields, items, durationMs };
}

export async function runSmoke(opts: SmokeOptions): Promise<SmokeReport> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const minCertDays = opts.minCertDays ?? 7;
  const { mcpUrl, healthUrl } = endpoints(opts.url, opts.healthUrl);
  const started = performance.now();
  const report: SmokeReport = {
    target: opts.url, mcpUrl: mcpUrl.href, healthUrl: healthUrl.href, ok: false,
    startedAt: new Date().toISOString(), durationMs: 0, checks: [],
  };
  report.checks.push(await checkTls(mcpUrl, { timeoutMs, minCertDays }, report));
  report.checks.push(await checkHealth(healthUrl, timeoutMs, report));

  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const client = new Client({ name: "selfhosted-mcp-smoke", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers } });
  const [, initFailed] = await step("initialize", () => client.connect(transport, { timeout: timeoutMs }));
  if (initFailed) {
    report.checks.push(initFailed);
  } else {
    const v = client.getServerVersion();
    report.checks.push({ check: "initialize", status: "pass", message: `${v?.name ?? "server"} ${v?.version ?? ""} (protocol ${transport.protocolVersion ?? "?"})`.trim() });
    const [tools, listFailed] = await step("tools/list", () => listAllTools(client, timeoutMs));
    if (tools) {
      report.checks.push(checkToolList(tools));
      for (const tool of tools.filter((t) => t.annotations?.readOnlyHint === true)) report.checks.push(await callTool(client, tool, timeoutMs));
    } else report.checks.push(listFailed!);
    // Stateful servers: end the session now instead of leaving it to the idle timeout (no-op when stateless).
    await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
  report.ok = report.checks.every((c) => c.status !== "fail");
  report.durationMs = Math.round(performance.now() - started);
  return report;
}
