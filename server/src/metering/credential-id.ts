// Who a call is billed to, derived from the verified credential the SDK hands a tool (`extra.authInfo`).
//  - api-key: `key:` + the first 16 hex digits of SHA-256(key). Never the key itself; stable across key-list order
//    and restarts, so a plan mapping (API_KEY_PLANS) and the ledger survive key rotation of *other* keys.
//    Compute it for a key with: printf %s "$KEY" | sha256sum | cut -c1-16
//    Also an API key accepted next to OAuth (AUTH_MODE=oauth with API_KEYS, auth.ts: e.g. the gateway's token).
//  - oauth: `oauth:<iss>#<sub>` from the access token the auth middleware already verified (signature, issuer,
//    audience, expiry: auth.ts), so decoding it again here without verification is safe. Issuer identifiers carry no
//    fragment (RFC 8414 §2), so `#` separates the two unambiguously.
//  - none: `anonymous`.
import { createHash } from "node:crypto";
import { decodeJwt, type JWTPayload } from "jose";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { principalOf } from "../auth.ts";

export type AuthMode = "none" | "api-key" | "oauth";

export interface Credential {
  id: string;
  kind: AuthMode;
  /** The verified token's claims (oauth only): the plan gate reads its plan claim from here. */
  claims?: JWTPayload;
}

/** `key:<16 hex>`: the id of an API key as it appears in the ledger and in API_KEY_PLANS. */
export function apiKeyId(key: string): string {
  return `key:${createHash("sha256").update(key, "utf8").digest("hex").slice(0, 16)}`;
}

/** The credential of a call; throws only on an oauth token that is not a JWT (auth.ts would have refused it). */
export function credentialOf(mode: AuthMode, auth: AuthInfo | undefined): Credential {
  if (mode === "none" || !auth) return { id: "anonymous", kind: "none" };
  if (mode === "api-key" || principalOf(auth).startsWith("key:")) return { id: apiKeyId(auth.token), kind: "api-key" };
  const claims = decodeJwt(auth.token);
  return { id: `oauth:${claims.iss ?? "?"}#${claims.sub ?? auth.clientId}`, kind: mode, claims };
}
