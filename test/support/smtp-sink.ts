// A minimal SMTP server (RFC 5321) on 127.0.0.1 that stores every message it accepts: EHLO/HELO, AUTH PLAIN with
// an initial response (RFC 4954; the only mechanism advertised, checked against the given credentials), MAIL, RCPT,
// DATA (dot-unstuffed), RSET, NOOP, QUIT. No STARTTLS: senders must be configured without TLS (loopback only).
import { createServer, type Socket } from "node:net";

export interface SinkMessage { from: string; to: string[]; data: string; subject: string; at: number; authUser?: string }

export interface SmtpSink {
  port: number;
  messages: SinkMessage[];
  /** Failed AUTH attempts (wrong credentials). */
  authFailures: number;
  stop(): Promise<void>;
}

/** The Subject header of a message (unfolded, RFC 5322 §2.2.3). */
export function subjectOf(data: string): string {
  const head = data.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, " ");
  return /^Subject: (.*)$/im.exec(head)?.[1] ?? "";
}

export async function startSmtpSink(creds: { username: string; password: string }): Promise<SmtpSink> {
  const sink: Omit<SmtpSink, "port" | "stop"> = { messages: [], authFailures: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => sock.destroy());
    sock.setEncoding("utf8");
    const reply = (line: string) => { if (!sock.destroyed) sock.write(`${line}\r\n`); };
    let buf = "";
    let inData = false;
    let authUser: string | undefined;
    let tx: { from: string; to: string[]; lines: string[] } | undefined;
    reply("220 smtp-sink ESMTP");
    sock.on("data", (chunk: string) => {
      buf += chunk;
      if (buf.length > 10_000_000) { sock.destroy(); return; }
      let i: number;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            const data = tx!.lines.join("\r\n");
            sink.messages.push({ from: tx!.from, to: tx!.to, data, subject: subjectOf(data), at: Date.now(), ...(authUser ? { authUser } : {}) });
            tx = undefined;
            reply("250 2.0.0 queued");
          } else tx!.lines.push(line.startsWith("..") ? line.slice(1) : line);
          continue;
        }
        const [verb = "", ...rest] = line.split(" ");
        const arg = rest.join(" ");
        switch (verb.toUpperCase()) {
          case "EHLO": reply("250-smtp-sink"); reply("250-AUTH PLAIN"); reply("250 8BITMIME"); break;
          case "HELO": reply("250 smtp-sink"); break;
          case "AUTH": {
            const [mech, initial] = arg.split(" ");
            const [, user, pass] = Buffer.from(initial ?? "", "base64").toString("utf8").split("\0");
            if (mech?.toUpperCase() === "PLAIN" && user === creds.username && pass === creds.password) {
              authUser = user;
              reply("235 2.7.0 Authentication successful");
            } else { sink.authFailures++; reply("535 5.7.8 Authentication credentials invalid"); }
            break;
          }
          case "MAIL": tx = { from: arg.replace(/^FROM:\s*/i, ""), to: [], lines: [] }; reply("250 2.1.0 ok"); break;
          case "RCPT": if (!tx) reply("503 5.5.1 MAIL first"); else { tx.to.push(arg.replace(/^TO:\s*/i, "")); reply("250 2.1.5 ok"); } break;
          case "DATA": if (!tx?.to.length) reply("503 5.5.1 RCPT first"); else { inData = true; reply("354 end with <CRLF>.<CRLF>"); } break;
          case "RSET": tx = undefined; reply("250 2.0.0 ok"); break;
          case "NOOP": reply("250 2.0.0 ok"); break;
          case "QUIT": reply("221 2.0.0 bye"); sock.end(); break;
          default: reply("502 5.5.2 command not implemented");
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(0, "127.0.0.1", () => resolve()); });
  return Object.assign(sink, {
    port: (server.address() as { port: number }).port,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}
