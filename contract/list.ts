// The one rule for list-valued settings (ALLOWED_ORIGINS, ALLOWED_HOSTS, OAUTH_REQUIRED_SCOPES, API_KEYS, API_KEYS_FILE and
// the stack's apiKeys): items are separated by commas and/or any whitespace, and empty items are dropped.
export function splitList(raw: string): string[] {
  return raw.split(/[\s,]+/).filter(Boolean);
}
