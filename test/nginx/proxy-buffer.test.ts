// The rendered /mcp location through a real nginx (TLS site, self-signed certificate) in front of a stub upstream:
// an answer the upstream writes at once leaves nginx in one TLS record, not one per page. With `proxy_buffering off`
// nginx reads at most `proxy_buffer_size` per read and sends each read as its own record and write (nginx docs,
// ngx_http_proxy_module, proxy_buffering); at the default (4k) a tools/list answer (~8 KB) took 3 records, 3 writes
// and 3 client wake-ups per request (measured with strace in BENCHMARKS.md). A stream still arrives event by event.
// The records are read off the wire by a relay between the client and nginx (TLS record header: type, version,
// 2-byte length; RFC 8446 section 5.1).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderNginxConfig, renderUpstreamInclude, upstreamIncludePath } from "../../nginx/index.ts";
import { startPrivateNginx, selfSignedCertbotLive, type PrivateNginx } from "../support/nginx.ts";
import { httpsClient, type HttpsClient } from "../support/https-client.ts";
import { freePort } from "../support/proc.ts";
import { startTcpRelay, type TcpRelay } from "./tcp-relay.ts";

const DOMAIN = "mcp.example.test";
const BODY = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { text: "x".repeat(12_000) } });
const APPLICATION_DATA = 23;

/** Lengths of the TLS application-data records in a byte stream (a trailing partial record is left out). */
function applicationRecords(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 5 <= bytes.length;) {
    const length = bytes.readUInt16BE(at + 3);
    if (at + 5 + length > bytes.length) break;
    if (bytes[at] === APPLICATION_DATA) out.push(length);
    at += 5 + length;
  }
  return out;
}

describe("nginx /mcp sends an upstream answer in one TLS record (proxy_buffer_size)", { timeout: 60_000 }, () => {
  let work: string, nginx: PrivateNginx, client: HttpsClient, upstream: Server, relay: TcpRelay;
  let wire: Buffer[] = [];
  let releaseSecond = () => {};

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "nginx-proxy-buffer-"));
    chmodSync(work, 0o755);
    const live = await selfSignedCertbotLive(join(work, "letsencrypt"), DOMAIN);
    upstream = createServer((req, res) => {
      req.resume();
      req.once("end", () => {
        if (req.headers.accept === "text/event-stream") {
          // A stream: the second event is written only after the client has seen the first.
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write("event: message\ndata: first\n\n");
          releaseSecond = () => res.end("event: message\ndata: second\n\n");
          return;
        }
        // One write: status line, headers and the whole body (Content-Length known).
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) }).end(BODY);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    writeFileSync(upstreamIncludePath("main", work), renderUpstreamInclude({ port: (upstream.address() as { port: number }).port }));
    const httpsPort = await freePort();
    nginx = await startPrivateNginx(renderNginxConfig({
      domain: DOMAIN, phase: "tls", listenAddresses: ["127.0.0.1"], httpPort: await freePort(), httpsPort,
      certbotConfigDir: join(work, "letsencrypt"), upstreamIncludeDir: work, acmeWebroot: join(work, "webroot"),
      accessLog: join(work, "access.log"), errorLog: join(work, "error.log"), servers: [{ name: "main", path: "/mcp" }],
    }));
    relay = await startTcpRelay(httpsPort, (chunk) => wire.push(chunk));
    client = httpsClient({ ca: readFileSync(join(live, "fullchain.pem"), "utf8"), servername: DOMAIN, ports: { 443: relay.port } });
  });

  after(async () => {
    await client?.close();
    await relay?.stop();
    await nginx?.stop();
    await new Promise((r) => upstream?.close(r));
    rmSync(work, { recursive: true, force: true });
  });

  const post = (accept: string) => client.fetch(`https://${DOMAIN}/mcp`, {
    method: "POST", headers: { "content-type": "application/json", accept }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  });

  it("a 12 KB answer leaves nginx in one record (the default 4k buffer split it into 3)", async () => {
    const r = await post("application/json");
    assert.equal(await r.text(), BODY);
    // Another request on the same connection: what nginx sends now is this answer (and, before it, small records of its own).
    wire = [];
    const again = await post("application/json");
    assert.equal(await again.text(), BODY);
    const records = applicationRecords(Buffer.concat(wire));
    assert.ok(records.length > 0, "no TLS records seen");
    const largest = Math.max(...records);
    assert.ok(largest > BODY.length, `largest record ${largest} bytes, all: ${records.join(", ")}: the answer was split (proxy_buffer_size)`);
  });

  it("a stream still arrives event by event (the second is written only after the first was read)", async () => {
    const r = await post("text/event-stream");
    assert.equal(r.status, 200);
    const reader = r.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    for (let i = 0; i < 20 && !seen.includes("data: first"); i++) seen += decoder.decode((await reader.read()).value);
    assert.match(seen, /data: first/);
    assert.doesNotMatch(seen, /second/);
    releaseSecond();
    for (let i = 0; i < 20; i++) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
    assert.match(seen, /data: second/);
  });
});
