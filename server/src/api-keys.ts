// The one rule for reading a list of API keys (API_KEYS, API_KEYS_FILE, the stack's apiKeys): the list rule of every
// list setting (commas and/or whitespace, empty parts dropped). The deployment and the rehearsal pick "the first key"
// with it too.
import { splitList } from "./list.ts";

export function splitApiKeys(raw: string): string[] {
  return splitList(raw);
}
