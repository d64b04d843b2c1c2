// Authentication middleware for /mcp. Both modes plug a token verifier into the SDK's requireBearerAuth, so 401/403
// answers and WWW-Authenticate headers are the SDK's. api-key: constant-time comparison of SHA-256 digests.
// oauth: an OAuth 2.1 resource server — JWTs verified with jose against the issuer's JWKS, audience = resource URL —
// that also accepts the API keys of AuthConfig.keys when set (service clients, e.g. the gateway in front of servers).
// Every verified credential carries a `principal` (AuthInfo.extra.principal, see principalOf): the identity sessions
// are bound to and storage is counted against.
import { hash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import { metadataHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/metadata.js";
import { getOAuthProtectedResourceMetadataUrl } from "@modelcontextprotocol/sdk/server/auth/router.js";
import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { AuthConfig } from "./config.ts";
import { bearerToken } from "../../contract/bearer.ts";
import { canonicalUrl, jwtVerifier } from "./jwt.ts";

// One-shot hashing (crypto.hash, Node ≥ 21.7): no Hash object per request.
const digest = (s: string) => hash("sha256", s, "buffer");

/** The principal of unauthenticated requests (AUTH_MODE=none). */
export const ANONYMOUS = "anonymous";

/**
 * Who a request acts for: `key:<first 16 hex of the key's SHA-256>` (stable across key reordering, reveals nothing
 * usable), `oauth:<iss> <sub>` (RFC 9068 §2.2: `sub` is unique per issuer, so a user, not the OAuth client), or
 * `anonymous`.
 */
export function principalOf(auth: AuthInfo | undefined): string {
  const p = auth?.extra?.principal;
  return typeof p === "string" ? p : ANONYMOUS;
}

/**
 * One bearer rule for server and nginx (contract/bearer.ts): a header that is not exactly `Bearer <b64token>` is
 * presented to the SDK middleware as a malformed header, so it answers its own 401 + WWW-Authenticate. (The SDK
 * splits on one space and would accept `Bearer <key> trailing-words`.)
 */
const strictBearer: RequestHandler = (req, _res, next) => {
  const header = req.headers.authorization;
  if (header !== undefined && bearerToken(header) === undefined) req.headers.authorization = "malformed";
  next();
};

/** The principal of an API key: `key:<first 16 hex of its SHA-256>` (see principalOf). */
export function keyPrincipal(key: string): string {
  return `key:${digest(key).toString("hex").slice(0, 16)}`;
}

/**
 * Verifier for static API keys. Compares digests (fixed length) with timingSafeEqual and checks every key. `scopes`:
 * what a key is granted (under AUTH_MODE=oauth the required scopes, so the SDK's scope check passes it).
 */
function apiKeyVerifier(keys: string[], scopes: string[] = []): OAuthTokenVerifier {
  const digests = keys.map(digest);
  const principals = keys.map(keyPrincipal); // once per process, not per request (issue 18: a second digest a call)
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      const d = digest(token);
      let match = -1;
      digests.forEach((k, i) => { if (timingSafeEqual(k, d) && match < 0) match = i; });
      if (match < 0) throw new InvalidTokenError("Invalid API key");
      // Keys do not expire; the SDK requires an expiry, so report one hour ahead on every request.
      return { token, clientId: `api-key-${match + 1}`, scopes, expiresAt: Math.floor(Date.now() / 1000) + 3600, extra: { principal: principals[match]! } };
    },
  };
}

/**
 * API keys first, then JWTs: a token that is none of the keys is verified as a JWT (its errors are the answer). Keys are
 * compared in constant time whatever the token, so trying them first reveals nothing.
 */
function eitherVerifier(keys: OAuthTokenVerifier, jwt: OAuthTokenVerifier): OAuthTokenVerifier {
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try { return await keys.verifyAccessToken(token); } catch (e) {
        if (!(e instanceof InvalidTokenError)) throw e;
      }
      return jwt.verifyAccessToken(token);
    },
  };
}

export interface AuthSetup {
  /** Middleware for /mcp (undefined when AUTH_MODE=none). */
  middleware?: RequestHandler[];
  /** RFC 9728 metadata handler (oauth mode) and the paths it is served at. */
  metadata?: { handler: RequestHandler; paths: string[] };
}

export function setupAuth(auth: AuthConfig, resourceUrl: string): AuthSetup {
  switch (auth.mode) {
    case "none": return {};
    case "api-key": return { middleware: [strictBearer, requireBearerAuth({ verifier: apiKeyVerifier(auth.keys) })] };
    case "oauth": {
      const resource = new URL(resourceUrl);
      const metadataUrl = getOAuthProtectedResourceMetadataUrl(resource);
      // RFC 9728 §3.1: the well-known segment goes between the host and the resource's path, so a resource at
      // https://host/weather/mcp has its metadata at /.well-known/oauth-protected-resource/weather/mcp. The server
      // also answers the path for its own /mcp (what a proxy that strips the sub-path forwards) and the bare root.
      const derived = new URL(metadataUrl).pathname;
      const paths = [...new Set([derived, "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"])];
      const metadata = {
        resource: canonicalUrl(resource.href),
        authorization_servers: [auth.issuer],
        scopes_supported: auth.scopesSupported ?? auth.requiredScopes,
        bearer_methods_supported: ["header"],
        resource_name: auth.resourceName ?? "selfhosted-mcp reference server",
      };
      const verifier = auth.keys ? eitherVerifier(apiKeyVerifier(auth.keys, auth.requiredScopes), jwtVerifier(auth)) : jwtVerifier(auth);
      return {
        middleware: [strictBearer, requireBearerAuth({ verifier, requiredScopes: auth.requiredScopes, resourceMetadataUrl: metadataUrl })],
        metadata: { handler: metadataHandler(metadata), paths },
      };
    }
  }
}
