// A local OAuth issuer stand-in: serves a JWKS on 127.0.0.1 and signs real JWT access tokens (jose). The JWKS can be
// switched to fail (404, 503, an HTML page), and RFC 8414 metadata can be served (naming any issuer).
import { createServer } from "node:http";
import { generateKeyPair, exportJWK, SignJWT, type CryptoKey } from "jose";

export interface TokenClaims {
  iss?: string; aud?: string; sub?: string; expiresIn?: string | number; key?: "trusted" | "untrusted";
  /** `scope` claim; null leaves it out (then `scp` may carry the scopes). */
  scope?: string | null;
  scp?: string | string[];
  /** Further claims, e.g. `{ plan: "free" }`. */
  extra?: Record<string, unknown>;
}

export type JwksMode = "ok" | "404" | "503" | "html";

export interface Issuer {
  issuer: string; jwksUrl: string; sign(claims?: TokenClaims): Promise<string>; stop(): Promise<void>;
  setJwksMode(mode: JwksMode): void;
  /** Serve RFC 8414 metadata at /.well-known/oauth-authorization-server with this `issuer` (undefined: 404). */
  setMetadataIssuer(issuer: string | undefined): void;
}

export async function startIssuer(audience: string): Promise<Issuer> {
  const trusted = await generateKeyPair("ES256");
  const untrusted = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(trusted.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  let mode: JwksMode = "ok";
  let metadataIssuer: string | undefined;
  const server = createServer((req, res) => {
    if (req.url === "/jwks.json") {
      if (mode === "ok") res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
      else if (mode === "html") res.writeHead(200, { "content-type": "text/html" }).end("<html>maintenance</html>");
      else res.writeHead(Number(mode)).end();
    } else if (req.url === "/.well-known/oauth-authorization-server" && metadataIssuer !== undefined) {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({
        issuer: metadataIssuer, jwks_uri: `${issuer}/jwks.json`, authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`, response_types_supported: ["code"],
      }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/jwks.json`,
    setJwksMode(m) { mode = m; },
    setMetadataIssuer(i) { metadataIssuer = i; },
    async sign(c: TokenClaims = {}) {
      const key: CryptoKey = c.key === "untrusted" ? untrusted.privateKey : trusted.privateKey;
      const scope = c.scope === undefined ? "mcp:tools" : c.scope;
      return await new SignJWT({ ...(scope === null ? {} : { scope }), ...(c.scp === undefined ? {} : { scp: c.scp }), client_id: "test-client", ...c.extra })
        .setProtectedHeader({ alg: "ES256", kid: "k1", typ: "at+jwt" })
        .setIssuer(c.iss ?? issuer).setAudience(c.aud ?? audience).setSubject(c.sub ?? "user-1")
        .setIssuedAt().setExpirationTime(c.expiresIn ?? "5m")
        .sign(key);
    },
    async stop() { server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); },
  };
}
