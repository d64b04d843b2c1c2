// Authentication middleware for /mcp. Both modes plug a token verifier into the SDK's requireBearerAuth, so 401/403
// answers and WWW-Authenticate headers are the SDK's. api-key: constant-time comparison of SHA-256 digests.
// oauth: an OAuth 2.1 resource server — JWTs verified with jose against the issuer's JWKS, audience = resource URL.
import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { createRemoteJWKSet, jwtVerify, errors as joseErrors } from "jose";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import { metadataHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/metadata.js";
import { getOAuthProtectedResourceMetadataUrl } from "@modelcontextprotocol/sdk/server/auth/router.js";
import { InvalidTokenError, ServerError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { AuthConfig } from "./config.ts";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Verifier for static API keys. Compares digests (fixed length) with timingSafeEqual and checks every key. */
function apiKeyVerifier(keys: string[]): OAuthTokenVerifier {
  const digests = keys.map(digest);
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      const d = digest(token);
      let match = -1;
      digests.forEach((k, i) => { if (timingSafeEqual(k, d) && match < 0) match = i; });
      if (match < 0) throw new InvalidTokenError("Invalid API key");
      // Keys do not expire; the SDK requires an expiry, so report one hour ahead on every request.
      return { token, clientId: `api-key-${match + 1}`, scopes: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 };
    },
  };
}

const JWKS_TIMEOUT_MS = 5000;

/** Verifier for JWT access tokens issued by OAUTH_ISSUER, keys from OAUTH_JWKS_URL (cached by jose). */
function jwtVerifier(cfg: { issuer: string; jwksUrl: string; audience: string }): OAuthTokenVerifier {
  const jwks = createRemoteJWKSet(new URL(cfg.jwksUrl), { timeoutDuration: JWKS_TIMEOUT_MS, cooldownDuration: 30_000 });
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: cfg.issuer, audience: cfg.audience, requiredClaims: ["exp"], clockTolerance: 5 });
        const scope = typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean)
          : Array.isArray(payload.scp) ? payload.scp.filter((s): s is string => typeof s === "string") : [];
        const clientId = typeof payload.client_id === "string" ? payload.client_id : typeof payload.azp === "string" ? payload.azp : payload.sub ?? "unknown";
        return { token, clientId, scopes: scope, expiresAt: payload.exp!, resource: new URL(cfg.audience) };
      } catch (e) {
        // Fixed messages only: library error text must not reach error_description (it is not escaped).
        if (e instanceof joseErrors.JWTExpired) throw new InvalidTokenError("Token has expired");
        if (e instanceof joseErrors.JWTClaimValidationFailed) {
          if (e.claim === "aud") throw new InvalidTokenError("Token was not issued for this resource");
          if (e.claim === "iss") throw new InvalidTokenError("Token issuer is not trusted");
          throw new InvalidTokenError("Token claims are invalid");
        }
        if (e instanceof joseErrors.JWKSTimeout || (e instanceof TypeError)) throw new ServerError("Authorization server keys are unavailable");
        throw new InvalidTokenError("Invalid token");
      }
    },
  };
}

export interface AuthSetup {
  /** Middleware for /mcp (undefined when AUTH_MODE=none). */
  middleware?: RequestHandler;
  /** Routes to mount at the app root (RFC 9728 metadata in oauth mode). */
  metadataRouter?: RequestHandler;
}

export function setupAuth(auth: AuthConfig, resourceUrl: string): AuthSetup {
  switch (auth.mode) {
    case "none": return {};
    case "api-key": return { middleware: requireBearerAuth({ verifier: apiKeyVerifier(auth.keys) }) };
    case "oauth": {
      const resource = new URL(resourceUrl);
      const metadataUrl = getOAuthProtectedResourceMetadataUrl(resource);
      const metadata = {
        resource: resource.href,
        authorization_servers: [auth.issuer],
        scopes_supported: auth.requiredScopes,
        bearer_methods_supported: ["header"],
        resource_name: "selfhosted-mcp reference server",
      };
      return {
        middleware: requireBearerAuth({ verifier: jwtVerifier(auth), requiredScopes: auth.requiredScopes, resourceMetadataUrl: metadataUrl }),
        metadataRouter: metadataHandler(metadata),
      };
    }
  }
}
