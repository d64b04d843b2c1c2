// A raw HTTP/1.1 POST that reports exactly what came back: status, headers, the body bytes, and whether the
// response was complete (ended normally with the declared length) or cut off (reset, truncated). fetch would hide
// the difference between "refused", "reset before any byte" and "reset mid-body", which the reliability tests need.
import { request, type Agent, type IncomingHttpHeaders } from "node:http";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** true when the response ended normally (full body received). */
  complete: boolean;
}

export type RawOutcome =
  | { kind: "response"; res: RawResponse }
  /** No response at all; `code` is the socket error (ECONNREFUSED, ECONNRESET, …). */
  | { kind: "no-response"; code: string; message: string };

export interface RawRequest {
  port: number;
  path?: string;
  body: Buffer | string;
  headers?: Record<string, string>;
  agent?: Agent | false;
  timeoutMs?: number;
}

export const MCP_POST_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

export function rawPost(o: RawRequest): Promise<RawOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: RawOutcome) => { if (!settled) { settled = true; resolve(v); } };
    const req = request({
      host: "127.0.0.1", port: o.port, path: o.path ?? "/mcp", method: "POST", agent: o.agent ?? false,
      headers: { ...MCP_POST_HEADERS, ...o.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      const finish = (complete: boolean) => done({ kind: "response", res: { status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), complete } });
      res.once("end", () => finish(res.complete));
      res.once("aborted", () => finish(false));
      res.once("error", () => finish(false));
      res.once("close", () => finish(res.complete));
    });
    req.setTimeout(o.timeoutMs ?? 30_000, () => req.destroy(Object.assign(new Error("client timeout"), { code: "CLIENT_TIMEOUT" })));
    req.once("error", (e: NodeJS.ErrnoException) => done({ kind: "no-response", code: e.code ?? "ERROR", message: e.message }));
    req.end(o.body);
  });
}
