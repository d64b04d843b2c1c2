// The one rule for reading a bearer credential from an `Authorization` header value. The server (auth) and nginx
// (the per-credential rate-limit key) both use it, so a header is a credential to both or to neither.
// Source: RFC 6750 §2.1 `credentials = "Bearer" 1*SP b64token`, narrowed to exactly one space (the MCP SDK's
// requireBearerAuth splits the header on one space), the scheme matched case-insensitively (RFC 9110 §11.1).
// This module imports nothing of the project (contract/ is the bottom layer).

/** b64token (RFC 6750 §2.1): `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
export const B64TOKEN_SOURCE = "[A-Za-z0-9._~+/-]+=*";

/**
 * The whole header value as a regular expression source; group 1 is the token. Valid in ECMAScript and in
 * PCRE, so nginx's `map` uses it verbatim.
 */
export const BEARER_HEADER_SOURCE = `^[Bb][Ee][Aa][Rr][Ee][Rr] (${B64TOKEN_SOURCE})$`;

const BEARER_HEADER = new RegExp(BEARER_HEADER_SOURCE);
const B64TOKEN = new RegExp(`^${B64TOKEN_SOURCE}$`);

/** The token of a well-formed `Bearer <b64token>` header value; undefined for anything else (absent, other scheme, extra words). */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return BEARER_HEADER.exec(header)?.[1];
}

/** Whether `token` can be sent as a bearer credential at all (API keys must be b64tokens to be usable). */
export function isB64Token(token: string): boolean {
  return B64TOKEN.test(token);
}
