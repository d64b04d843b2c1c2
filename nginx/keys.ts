// The http-level `map`s of the site: the rate-limit keys (per client IP, per credential) and the two request
// properties the TLS server refuses because nginx's error log would keep them (a query string, a Referer with more
// than an origin). All variable names are prefixed with the siteId, so several sites can share one nginx.
import { BEARER_HEADER_SOURCE } from "../contract/bearer.ts";

/** Variable names (with `$`) of the maps rendered by `renderKeyMaps`. */
export interface KeyNames {
  /** limit_req key per client IP: `$binary_remote_addr`, empty (not counted) for OPTIONS (CORS preflights). */
  ipKey: string;
  /** limit_req key per credential: a 32-bit hash of the bearer token; empty without a well-formed one. */
  credential: string;
  /** "1" when the request line carries a query string (refused: it would reach the error log). */
  queryRefused: string;
  /** "1" when the Referer is more than an origin (refused: it would reach the error log). */
  refererRefused: string;
}

export function keyNames(id: string): KeyNames {
  return {
    ipKey: `$${id}_ip_key`, credential: `$${id}_credential`,
    queryRefused: `$${id}_query_refused`, refererRefused: `$${id}_referer_refused`,
  };
}

const HASH_BLOCKS = 8;
const HEX = "0123456789abcdef";

/**
 * The bearer rule of contract/bearer.ts as an nginx map key. nginx compiles `~` keys with PCRE; the source is written
 * to mean the same in ECMAScript and PCRE. It must not contain `"` or `\` (the key is a double-quoted nginx string).
 */
function bearerMapKey(): string {
  if (/["\\{};]/.test(BEARER_HEADER_SOURCE)) throw new Error(`BEARER_HEADER_SOURCE cannot be quoted for nginx: ${BEARER_HEADER_SOURCE}`);
  return `"~${BEARER_HEADER_SOURCE}"`;
}

/**
 * The per-credential rate-limit key: a 32-bit hash of the bearer token, so neither the token nor any part of it is
 * stored (nginx core has no digest function; split_clients hashes its key with MurmurHash2 and picks one of 16
 * equal buckets: 8 independently salted blocks give 8 hex digits). The token is read with exactly the rule the server
 * uses (contract/bearer.ts, RFC 6750 §2.1 with one space): `Bearer <token> x`, `Bearer  <token>` or another scheme are
 * no credential to either side, get an empty key and are limited per IP only. Never logged.
 */
function credentialKey(id: string, n: KeyNames): string[] {
  const token = `$${id}_bearer`;
  const digit = (i: number) => `$${id}_h${i}`;
  const buckets = [...HEX.slice(0, -1)].map((h) => `6.25% ${h};`).join(" ") + ` * ${HEX.at(-1)};`;
  const blocks = Array.from({ length: HASH_BLOCKS }, (_, i) => `split_clients "${i}:${token}" ${digit(i)} { ${buckets} }`);
  return [
    "# Per-credential rate-limit key: a 32-bit hash of the bearer token (never the token itself; never logged).",
    "# The header rule is contract/bearer.ts's BEARER_HEADER_SOURCE, the one the server's auth uses.",
    `map $http_authorization ${token} {`,
    `    default "";`,
    `    ${bearerMapKey()} $1;`,
    "}",
    ...blocks,
    `map ${token} ${n.credential} {`,
    `    "" "";`,
    `    default "${Array.from({ length: HASH_BLOCKS }, (_, i) => digit(i)).join("")}";`,
    "}",
  ];
}

/** Renders every map (http level). */
export function renderKeyMaps(id: string): string[] {
  const n = keyNames(id);
  return [
    ...credentialKey(id, n),
    "# Per-IP key: CORS preflights (OPTIONS, never credentialed) are not rate limited, so a browser's preflight",
    "# reaches the server, which answers it for its allowed origins; limit_conn still bounds them.",
    `map $request_method ${n.ipKey} {`,
    "    OPTIONS \"\";",
    "    default $binary_remote_addr;",
    "}",
    "# nginx's error log cannot be formatted: its lines carry the raw request line and the Referer. Requests that would",
    "# put a query string (e.g. ?access_token=) or a Referer beyond an origin there are refused before any phase logs.",
    `map $request_uri ${n.queryRefused} {`,
    `    default "";`,
    `    "~\\?." 1;`,
    "}",
    `map $http_referer ${n.refererRefused} {`,
    `    default 1;`,
    `    "" "";`,
    `    "~^https?://[A-Za-z0-9.:\\[\\]-]+/?$" "";`,
    "}",
  ];
}
