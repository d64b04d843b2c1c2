// Start-up check of OAUTH_ISSUER / OAUTH_JWKS_URL against the authorization server's own metadata (RFC 8414, with
// the OpenID Connect Discovery fallback — discovered by the SDK's discoverAuthorizationServerMetadata). RFC 8414
// §3.3: the `issuer` in the metadata MUST be identical to the issuer the metadata was fetched for; a token's `iss`
// is compared with OAUTH_ISSUER byte for byte, so a mismatch here means every token would be refused.
import { discoverAuthorizationServerMetadata } from "@modelcontextprotocol/sdk/client/auth.js";

const TIMEOUT_MS = 5000;

export class IssuerMismatchError extends Error {}

/**
 * Resolves to a warning (string) when the metadata cannot be fetched, or undefined when it matches. Throws
 * IssuerMismatchError naming the variable when the metadata disagrees with the configuration.
 */
export async function checkIssuerMetadata(issuer: string, jwksUrl: string): Promise<string | undefined> {
  let metadata: Awaited<ReturnType<typeof discoverAuthorizationServerMetadata>>;
  try {
    metadata = await discoverAuthorizationServerMetadata(issuer, {
      fetchFn: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) }),
    });
  } catch (e) {
    return `OAUTH_ISSUER: cannot read the authorization server metadata of ${issuer} (${(e as Error).message})`;
  }
  if (!metadata) return `OAUTH_ISSUER: ${issuer} publishes no authorization server metadata (RFC 8414 or OpenID Connect Discovery)`;
  if (metadata.issuer !== issuer) {
    throw new IssuerMismatchError(`OAUTH_ISSUER: the authorization server's metadata names its issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(issuer)}; set OAUTH_ISSUER to exactly that value (tokens carry it in "iss")`);
  }
  if (metadata.jwks_uri !== undefined && metadata.jwks_uri !== jwksUrl) {
    throw new IssuerMismatchError(`OAUTH_JWKS_URL: the authorization server publishes its keys at ${JSON.stringify(metadata.jwks_uri)}, not ${JSON.stringify(jwksUrl)}; set OAUTH_JWKS_URL to that value`);
  }
  return undefined;
}

/**
 * The start-up check as both entry points run it (server/src/main.ts, gateway/src/main.ts), per OAUTH_METADATA_CHECK:
 * `off` skips it; an unreachable authorization server is `warn`ed about, or fatal when `required`; a mismatch is always
 * fatal. Resolves to the fatal message (the caller prints it and exits 1), or undefined.
 */
export async function startupIssuerCheck(
  auth: { issuer: string; jwksUrl: string; metadataCheck: "required" | "warn" | "off" },
  warn: (event: { event: string }, message: string) => void,
): Promise<string | undefined> {
  if (auth.metadataCheck === "off") return undefined;
  try {
    const warning = await checkIssuerMetadata(auth.issuer, auth.jwksUrl);
    if (warning && auth.metadataCheck === "required") return `${warning} (OAUTH_METADATA_CHECK=required)`;
    if (warning) warn({ event: "oauth_metadata_unavailable" }, warning);
    return undefined;
  } catch (e) {
    if (e instanceof IssuerMismatchError) return e.message;
    throw e;
  }
}
