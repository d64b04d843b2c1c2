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
