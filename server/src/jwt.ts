// JWT access-token verification for AUTH_MODE=oauth (an OAuth 2.1 resource server, RFC 9068 profile): signature
// against the issuer's JWKS (jose, cached), issuer, canonical audience, `exp` with a clock tolerance, scopes from
// `scope` or `scp`. Errors map to the SDK's OAuth errors: a bad token → 401 invalid_token; keys that cannot be
// fetched (timeout, 404/503, not JSON, network) → ServerError, which the SDK middleware answers 500 — the
// authorization server is down, and a 401 would send clients into a re-authorisation loop.
import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload } from "jose";
import { InvalidTokenError, ServerError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";

const JWKS_TIMEOUT_MS = 5000;

/**
 * The canonical form of a URI for comparison (RFC 3986 §6.2.2/§6.2.3, as the WHATWG URL parser applies it):
 * lower-case scheme and host, default port dropped, dot segments removed; one trailing slash is ignored (MCP
 * spec 2025-11-25, Authorization: "Canonical Server URI"). A value that does not parse compares as itself.
 */
export function canonicalUrl(value: string): string {
  if (!URL.canParse(value)) return value;
  const u = new URL(value);
  u.hash = "";
  return u.href.replace(/\/$/, "");
}

/** Scopes from `scope` (RFC 9068 §2.2.3, space-separated) or `scp` (a list, or a space-separated string as Entra sends). */
export function scopesOf(payload: JWTPayload): string[] {
  const raw = typeof payload.scope === "string" ? payload.scope : payload.scp;
  if (typeof raw === "string") return raw.split(" ").filter(Boolean);
  return Array.isArray(raw) ? raw.filter((s): s is string => typeof s === "string") : [];
}

/** jose errors that mean "the keys could not be obtained", not "the token is bad". */
function keysUnavailable(e: unknown): boolean {
  if (e instanceof joseErrors.JWKSTimeout || e instanceof joseErrors.JWKSInvalid || e instanceof TypeError) return true;
  // Non-200 and non-JSON JWKS answers are plain JOSEErrors (jose jwks/remote.js: "Expected 200 OK …", "Failed to parse …").
  return e instanceof joseErrors.JOSEError && e.code === "ERR_JOSE_GENERIC";
}

export interface JwtConfig { issuer: string; jwksUrl: string; audience: string; clockToleranceS: number }

/** Verifier for JWT access tokens issued by `issuer`, keys from `jwksUrl`. */
export function jwtVerifier(cfg: JwtConfig): OAuthTokenVerifier {
  const jwks = createRemoteJWKSet(new URL(cfg.jwksUrl), { timeoutDuration: JWKS_TIMEOUT_MS, cooldownDuration: 30_000 });
  const audience = canonicalUrl(cfg.audience);
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, { issuer: cfg.issuer, requiredClaims: ["exp", "sub"], clockTolerance: cfg.clockToleranceS }));
      } catch (e) {
        // Fixed messages only: library error text must not reach error_description (it is not escaped).
        if (e instanceof joseErrors.JWTExpired) throw new InvalidTokenError("Token has expired");
        if (e instanceof joseErrors.JWTClaimValidationFailed) {
          if (e.claim === "iss") throw new InvalidTokenError("Token issuer is not trusted");
          throw new InvalidTokenError("Token claims are invalid");
        }
        if (keysUnavailable(e)) throw new ServerError("Authorization server keys are unavailable");
        throw new InvalidTokenError("Invalid token");
      }
      // RFC 8707 / RFC 9068 §4: the token must name this resource; compared in canonical form on both sides.
      const auds = typeof payload.aud === "string" ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
      if (!auds.some((a) => canonicalUrl(a) === audience)) throw new InvalidTokenError("Token was not issued for this resource");
      const clientId = typeof payload.client_id === "string" ? payload.client_id : typeof payload.azp === "string" ? payload.azp : payload.sub!;
      return {
        token, clientId, scopes: scopesOf(payload),
        // The SDK middleware compares expiresAt with its own clock and no tolerance: report exp + tolerance, so the
        // tolerance jose applied is the one in force.
        expiresAt: payload.exp! + cfg.clockToleranceS,
        resource: new URL(cfg.audience),
        extra: { principal: `oauth:${payload.iss} ${payload.sub}` },
      };
    },
  };
}
