// The rule for API keys, shared by the server (API_KEYS / API_KEYS_FILE at start-up) and the stack (the apiKeys
// secret, checked at `pulumi preview`), so a key the stack accepts is never refused 90 s into `pulumi up`.
// Keys are a list (contract/list.ts: commas and/or whitespace); each must be long enough to resist guessing and a
// b64token, or it could never arrive in `Authorization: Bearer <key>` (RFC 6750 §2.1, contract/bearer.ts).
// Messages never contain a key. This module imports nothing of the project (contract/ is the bottom layer).
import { splitList } from "./list.ts";
import { isB64Token } from "./bearer.ts";

/** Shortest API key accepted (characters). `openssl rand -hex 32` gives 64. */
export const MIN_API_KEY_LENGTH = 16;

/** The keys of a list, or the first problem with it (a sentence without any key in it). */
export function checkApiKeys(raw: string): { keys: string[]; problem?: undefined } | { keys?: undefined; problem: string } {
  return checkApiKeyEntries(splitList(raw));
}

/** checkApiKeys for a list already split (contract/list.ts), e.g. the gateway's keys with their grants removed. */
export function checkApiKeyEntries(keys: string[]): { keys: string[]; problem?: undefined } | { keys?: undefined; problem: string } {
  if (keys.length === 0) return { problem: "no API key is set" };
  if (keys.some((k) => k.length < MIN_API_KEY_LENGTH)) {
    return { problem: `every API key must be at least ${MIN_API_KEY_LENGTH} characters (generate one with: openssl rand -hex 32)` };
  }
  const bad = keys.findIndex((k) => !isB64Token(k));
  if (bad >= 0) {
    return { problem: `key ${bad + 1} contains characters a bearer token cannot carry (RFC 6750 §2.1 b64token: letters, digits, - . _ ~ + / and trailing =); generate one with: openssl rand -hex 32` };
  }
  return { keys };
}

/**
 * One entry of a gateway's key list: `<key>` (every server) or `<key>:<server>[+<server>…]` (only those). `:` and `+`
 * after the key are unambiguous: `:` is not a b64token character, and `+` is not allowed in server names. Shared by
 * the gateway (API_KEYS) and SelfHostedMcp (which hands each server the keys that grant it).
 */
export function splitKeyGrant(entry: string): { key: string; servers?: string[] } {
  const colon = entry.indexOf(":");
  return colon < 0 ? { key: entry } : { key: entry.slice(0, colon), servers: entry.slice(colon + 1).split("+") };
}
