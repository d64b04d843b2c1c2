// engine/config.ts against what the Pulumi CLI really does (pulumi/pulumi at 1b5949891b):
//  pkg/workspace/config.go — createConfigValue :179-194, mergeConfig :255-365, validateStackConfigValue :119-157,
//    formatMissingKeys/missingStackConfigurationKeysError :30-64;
//  sdk/go/common/workspace/project.go — ValidateConfigValue :771-830, IsExplicitlyTyped :294, shorthand :500-511;
//  sdk/go/common/resource/config/object.go coerce :566-591 (`config set --path` leaves), value.go coerceObject;
//  sdk/nodejs/cmd/pulumi-language-nodejs/main.go constructConfig :1120-1146 (PULUMI_CONFIG keys <ns>:config:<name>),
//    constructConfigSecretKeys :1149-1162; config/map.go SecureKeys :105.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliConfig, pathLeaf, goJson, ConfigError, type StackConfig } from "../../rehearsal/engine/config.ts";
import { REPO_ROOT } from "../../rehearsal/plan.ts";
import { REQUIRED_ONLY_CONFIG } from "../../rehearsal/engine/first-up.ts";

const dir = mkdtempSync(join(tmpdir(), "engine-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PROJECT = `name: proj
runtime: nodejs
config:
  region: { type: string, default: fra1 }
  size: { type: integer, default: 256 }
  resize: { type: boolean, default: false }
  empty: { type: string, default: "" }
  ratio: { default: 1.5 }
  env: { default: { b: 1, a: "<x>&" } }
  list: { type: array, items: { type: string }, default: [x, y] }
  cidrs: { type: array, items: { type: string } }
  port: { type: integer }
  flag: { type: boolean }
  token: { type: string, secret: true }
  note: { secret: true }
  short: plain-text
  "other:region": us-east-1
`;
const project = (yaml: string) => {
  const d = mkdtempSync(join(dir, "p-"));
  writeFileSync(join(d, "Pulumi.yaml"), yaml);
  return d;
};
const P = project(PROJECT);
const REQUIRED: StackConfig = { cidrs: { value: ["10.0.0.0/8"] }, port: "22", flag: "true", token: { value: "t0k", secret: true }, note: "n" };
const run = (c: StackConfig, d = P) => {
  const env = cliConfig(d, "dev", c);
  return { config: JSON.parse(env.PULUMI_CONFIG) as Record<string, string>, secretKeys: JSON.parse(env.PULUMI_CONFIG_SECRET_KEYS) as string[] };
};
const fails = (c: StackConfig, message: string, d = P) =>
  assert.throws(() => cliConfig(d, "dev", c), (e: Error) => e instanceof ConfigError && e.message === message, message);

test("defaults reach the program as createConfigValue makes them: %v text, JSON object values, never secret", () => {
  const { config, secretKeys } = run(REQUIRED);
  assert.equal(config["proj:config:region"], "fra1");
  assert.equal(config["proj:config:size"], "256", "int → text");
  assert.equal(config["proj:config:resize"], "false", "bool → text");
  assert.equal(config["proj:config:empty"], "");
  assert.equal(config["proj:config:ratio"], "1.5", "a float is not primitive: json.Marshal");
  assert.equal(config["proj:config:env"], '{"a":"\\u003cx\\u003e\\u0026","b":1}', "object: keys sorted, <>& escaped");
  assert.equal(config["proj:config:list"], '["x","y"]');
  assert.equal(config["proj:config:short"], "plain-text", "a bare value is the shorthand for a default");
  assert.equal(config["other:config:region"], "us-east-1", "another namespace's bare value is a value");
  assert.deepEqual(secretKeys, ["proj:token"], "only keys set with --secret");
});

test("stack values: top-level text as is; --path trees as JSON; keys as <ns>:config:<name>", () => {
  const { config } = run({ ...REQUIRED, region: "nyc3", env: { value: { LOG_LEVEL: "debug", N: 2 } }, "digitalocean:token": { value: "dop", secret: true } });
  assert.equal(config["proj:config:region"], "nyc3");
  assert.equal(config["proj:config:env"], '{"LOG_LEVEL":"debug","N":2}');
  assert.equal(config["proj:config:cidrs"], '["10.0.0.0/8"]');
  assert.equal(config["digitalocean:config:token"], "dop");
});

test("missing keys of the project's namespace: one error naming them (value / values 'a', 'b' and 'c')", () => {
  const { port: _port, ...noPort } = REQUIRED;
  fails(noPort, "Stack 'dev' is missing configuration value 'port'");
  const { cidrs: _c, port: _p, flag: _f, ...rest } = REQUIRED;
  fails(rest, "Stack 'dev' is missing configuration values 'cidrs', 'flag' and 'port'");
  const two = project("name: proj\nruntime: nodejs\nconfig:\n  b: { type: string }\n  a: { type: string }\n  'aws:region': { type: string }\n");
  fails({}, "Stack 'dev' is missing configuration values 'a' and 'b'", two);
});

test("typed keys: a top-level value is text, so arrays need --path; integers/booleans accept their text", () => {
  fails({ ...REQUIRED, cidrs: '["10.0.0.0/8"]' }, "Stack 'dev' with configuration key 'cidrs' must be of type 'array<string>'");
  fails({ ...REQUIRED, cidrs: { value: [1] } }, "Stack 'dev' with configuration key 'cidrs' must be of type 'array<string>'");
  fails({ ...REQUIRED, port: "22a" }, "Stack 'dev' with configuration key 'port' must be of type 'integer'");
  fails({ ...REQUIRED, flag: "yes" }, "Stack 'dev' with configuration key 'flag' must be of type 'boolean'");
  assert.doesNotThrow(() => run({ ...REQUIRED, port: "+22", flag: { value: false } }));
});

test("secret: a `secret: true` typed key must be set with --secret — also when only its default would apply", () => {
  fails({ ...REQUIRED, token: "plain" }, "Stack 'dev' with configuration key 'token' must be encrypted as it's secret");
  assert.doesNotThrow(() => run({ ...REQUIRED, note: "plain" }), "untyped keys are not validated (IsExplicitlyTyped)");
  const withDefault = project("name: proj\nruntime: nodejs\nconfig:\n  k: { type: string, secret: true, default: '' }\n");
  fails({}, "Stack 'dev' with configuration key 'k' must be encrypted as it's secret", withDefault);
  assert.deepEqual(run({ k: { value: "s", secret: true } }, withDefault).secretKeys, ["proj:k"]);
});

test("config set --path leaves (object.go coerce): booleans, integers with a sign, leading zeros kept, --secret stays text", () => {
  assert.deepEqual(["true", "false", "42", "+5", "-7", "0", "0123", "00", "1.5", "x"].map((t) => pathLeaf(t)),
    [true, false, 42, 5, -7, 0, "0123", "00", "1.5", "x"]);
  assert.equal(pathLeaf("5", true), "5");
  assert.equal(goJson({ b: [{ z: 1, y: 2 }], a: ">" }), '{"a":"\\u003e","b":[{"y":2,"z":1}]}');
});

test("the real Pulumi.yaml: env/secretEnv defaults arrive as the text \"{}\" and not secret (issue 12 defect 3)", () => {
  const env = cliConfig(REPO_ROOT, "prod", REQUIRED_ONLY_CONFIG);
  const config = JSON.parse(env.PULUMI_CONFIG) as Record<string, string>;
  assert.equal(config["selfhosted-mcp:config:secretEnv"], "{}");
  assert.equal(config["selfhosted-mcp:config:env"], "{}");
  assert.equal(config["selfhosted-mcp:config:containerMemoryMb"], "256");
  assert.equal(config["selfhosted-mcp:config:adminCidrs"], '["203.0.113.7/32"]');
  assert.deepEqual((JSON.parse(env.PULUMI_CONFIG_SECRET_KEYS) as string[]).sort(), ["digitalocean:token", "selfhosted-mcp:apiKeys"]);
});
