// The example stack with `servers` and authMode oauth (issue 17), configured as docs/infra.md shows (oauthIssuer,
// oauthJwksUrl, servers[N].oauthScope, apiKeys): the program evaluates and the gateway and every server are OAuth
// resources of that issuer, the gateway with a scope per server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { installMocks, bundleFiles } from "./mock-harness.ts";
import { REQUIRED_STACK_CONFIG, asTheCliDelivers, runProgram } from "./fixtures.ts";

const rec = await installMocks();
const P = "selfhosted-mcp";
const KEY = "0123456789abcdef0123456789abcdef";
await runProgram(asTheCliDelivers({
  ...REQUIRED_STACK_CONFIG, [`${P}:authMode`]: "oauth",
  [`${P}:oauthIssuer`]: "https://auth.example.com/", [`${P}:oauthJwksUrl`]: "https://auth.example.com/jwks",
  [`${P}:servers`]: JSON.stringify([{ name: "weather" }, { name: "notes", oauthScope: "notes.use" }]),
  [`${P}:apiKeys`]: `${KEY}:notes`, [`${P}:smokeTimer`]: "true",
}), ["digitalocean:token", `${P}:apiKeys`]);
await rec.settle();

const env = (name: string) => bundleFiles((rec.named(name).inputs as { stdin: { value: string } }).stdin.value).env!;

test("the gateway: AUTH_MODE=oauth of oauthIssuer with a scope per server (oauthScope or mcp:server:<name>)", () => {
  const gw = env("mcp-deploy-deploy");
  for (const line of ["AUTH_MODE=oauth", "OAUTH_ISSUER=https://auth.example.com/", "OAUTH_JWKS_URL=https://auth.example.com/jwks",
    "UPSTREAM_WEATHER_SCOPE=mcp:server:weather", "UPSTREAM_NOTES_SCOPE=notes.use", "UPSTREAMS=weather,notes"]) {
    assert.ok(gw.split("\n").includes(line), line);
  }
});

test("the smoke timer authenticates with the first API key (accepted next to OAuth), without its grants", () => {
  const stdin = (rec.named("mcp-smoke-install").inputs as { stdin: { value: string } }).stdin.value;
  assert.equal(stdin.split("\n")[0], KEY);
});

test("each server: AUTH_MODE=oauth of the same issuer at https://<domain>/<name>", () => {
  for (const name of ["weather", "notes"]) {
    const lines = env(`mcp-${name}-deploy-deploy`).split("\n");
    for (const line of ["AUTH_MODE=oauth", "OAUTH_ISSUER=https://auth.example.com/", `PUBLIC_URL=https://${REQUIRED_STACK_CONFIG[`${P}:domain`]}/${name}`]) {
      assert.ok(lines.includes(line), `${name}: ${line}`);
    }
  }
});
