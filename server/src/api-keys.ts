// The one rule for reading a list of API keys (API_KEYS, API_KEYS_FILE, the stack's apiKeys): separated by commas
// and/or whitespace, empty parts dropped. The deployment and the rehearsal pick "the first key" with it too.
export function splitApiKeys(raw: string): string[] {
  return raw.split(/[\s,]+/).filter(Boolean);
}
