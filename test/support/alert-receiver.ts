// A local HTTP endpoint on 127.0.0.1 standing in for the notification services Alertmanager calls: it records every
// POST (path + JSON body) and answers like the services do (Slack "ok", PagerDuty Events v2 202 + JSON, a webhook 200);
// `GET /__received` lists them.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface Received { path: string; body: Record<string, unknown>; at: number }

export interface AlertReceiver {
  url: string;
  received: Received[];
  stop(): Promise<void>;
}

/**
 * `inspect`: what `GET /__received` answers besides `{ http: received }` (e.g. an SMTP sink's messages), so that a
 * process other than this one (the rehearsal's alert drill) can read what arrived.
 */
export async function startAlertReceiver(inspect: () => Record<string, unknown> = () => ({})): Promise<AlertReceiver> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "GET" && req.url === "/__received") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ http: received, ...inspect() }));
      return;
    }
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => { text += c; if (text.length > 5_000_000) req.destroy(); });
    req.on("end", () => {
      let body: Record<string, unknown> = {};
      try { body = JSON.parse(text) as Record<string, unknown>; } catch { body = { unparsed: text }; }
      received.push({ path: new URL(req.url ?? "/", "http://r").pathname, body, at: Date.now() });
      if (req.url?.startsWith("/pagerduty")) res.writeHead(202, { "content-type": "application/json" }).end('{"status":"success","message":"Event processed"}');
      else res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(0, "127.0.0.1", () => resolve()); });
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received,
    async stop() { server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); },
  };
}
