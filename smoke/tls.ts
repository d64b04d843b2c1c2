// TLS check of the public endpoint: chain trusted (system CAs + NODE_EXTRA_CA_CERTS), hostname matches, and days
// until the certificate expires. One bounded connection; no data is sent.
import { connect, checkServerIdentity, type PeerCertificate } from "node:tls";
import { isIP } from "node:net";

export interface TlsInfo {
  trusted: boolean;
  /** Why the chain or the name was rejected (when not trusted). */
  error?: string;
  subject?: string;
  issuer?: string;
  validTo: string;
  /** Expiry as Unix seconds (the textfile metric). */
  expiresAt: number;
  daysLeft: number;
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export function inspectTls(url: URL, timeoutMs: number): Promise<TlsInfo> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || 443);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`TLS handshake with ${host}:${port} timed out after ${timeoutMs} ms`)); }, timeoutMs);
    socket.once("error", (e) => { clearTimeout(timer); reject(new Error(`TLS connection to ${host}:${port} failed: ${e.message}`)); });
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const cert: PeerCertificate = socket.getPeerCertificate();
      const nameError = cert.raw ? checkServerIdentity(host, cert) : new Error("no certificate presented");
      const error = socket.authorized ? nameError?.message : String(socket.authorizationError);
      socket.end();
      const expires = Date.parse(cert.valid_to);
      resolve({
        trusted: !error, error,
        subject: first(cert.subject?.CN), issuer: first(cert.issuer?.CN ?? cert.issuer?.O),
        validTo: new Date(expires).toISOString(), expiresAt: Math.floor(expires / 1000),
        daysLeft: Math.floor((expires - Date.now()) / 86_400_000),
      });
    });
  });
}
