// Per-upstream authorisation (docs/gateway.md, "Authentication and authorisation"): which upstreams the credential of
// a request may use. An API key: the upstreams its entry grants (`<key>` all, `<key>:a+b` only a and b). An OAuth
// access token (AUTH_MODE=oauth): each upstream whose scope (UPSTREAM_<NAME>_SCOPE, default `mcp:server:<name>`) is
// among the token's scopes (RFC 6749 §3.3; `scope` or `scp`, server/src/jwt.ts scopesOf). AUTH_MODE=none: all.
// An upstream outside the set is neither listed nor reachable (gateway.ts answers its names like unknown ones).
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { keyPrincipal, principalOf } from "../../server/src/auth.ts";
import type { GatewayAuth, UpstreamConfig } from "./config.ts";

/** The upstreams a request's credential may use: a function of its AuthInfo (what the SDK middleware verified). */
export type Access = (auth: AuthInfo | undefined) => ReadonlySet<string>;

export function accessRule(auth: GatewayAuth, upstreams: readonly UpstreamConfig[]): Access {
  const every: ReadonlySet<string> = new Set(upstreams.map((u) => u.name));
  if (auth.mode === "none") return () => every;
  // Grants by principal (auth.ts keyPrincipal: what the verifier reports for the key that authenticated).
  const byKey = new Map([...auth.grants].map(([key, names]) => [keyPrincipal(key), names]));
  const none: ReadonlySet<string> = new Set();
  return (info) => {
    const principal = principalOf(info);
    const granted = byKey.get(principal);
    if (granted) return granted;
    // Only a verified access token carries an oauth: principal (server/src/jwt.ts).
    if (auth.mode !== "oauth" || !principal.startsWith("oauth:")) return none;
    const scopes = new Set(info?.scopes ?? []);
    return new Set(upstreams.filter((u) => scopes.has(u.scope)).map((u) => u.name));
  };
}
