// A local OAuth issuer stand-in: serves a JWKS on 127.0.0.1 and signs real JWT access tokens (jose).
import { createServer } from "node:http";
import { generateKeyPair, exportJWK, SignJWT, type CryptoKey } from "jose";

export interface TokenClaims {
  iss?: string; aud?: string; scope?: string; sub?: string; expiresIn?: string | number; key?: "trusted" | "untrusted";
  /** Further claims, e.g. `{ plan: "free" }`. */
  extra?: Record<string, unknown>;
}

export interface Issuer { issuer: string; jwksUrl: string; sign(claims?: TokenClaims): Promise<string>; stop(): Promise<void> }

export async function startIssuer(audience: string): Promise<Issuer> {
  const trusted = await generateKeyPair("ES256");
  const untrusted = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(trusted.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const server = createServer((req, res) => {
    if (req.url === "/jwks.json") res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/jwks.json`,
    async sign(c: TokenClaims = {}) {
      const key: CryptoKey = c.key === "untrusted" ? untrusted.privateKey : trusted.privateKey;
      return await new SignJWT({ scope: c.scope ?? "mcp:tools", client_id: "test-client", ...c.extra })
        .setProtectedHeader({ alg: "ES256", kid: "k1", typ: "at+jwt" })
        .setIssuer(c.iss ?? issuer).setAudience(c.aud ?? audience).setSubject(c.sub ?? "user-1")
        .setIssuedAt().setExpirationTime(c.expiresIn ?? "5m")
        .sign(key);
    },
    async stop() { server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); },
  };
}
