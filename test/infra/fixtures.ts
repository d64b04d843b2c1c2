// Shared stack fixtures for the infra and operability tests: one SSH key, the smallest valid stack config of the
// example program, and a way to evaluate that program afresh (a new module instance per call) under mocks.
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { parse } from "yaml";

export const SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmB0Zk7dJYkYy5D8Y5cQn0bLxvVhqfV7y2rMyk9qQ0x me@laptop";

/** The required keys of the example stack (plus the DigitalOcean token), as `pulumi config` hands them over. */
export const REQUIRED_STACK_CONFIG: Readonly<Record<string, string>> = {
  "digitalocean:token": "dop_v1_test",
  "selfhosted-mcp:domain": "mcp.example.com",
  "selfhosted-mcp:sshPublicKey": SSH_PUBLIC_KEY,
  "selfhosted-mcp:adminCidrs": '["203.0.113.7/32"]',
  "selfhosted-mcp:acmeEmail": "ops@example.com",
  "selfhosted-mcp:docrName": "acme-mcp-7f3k",
  // The remote commands log in through an SSH agent unless sshPrivateKey is set (checked before anything registers).
  "selfhosted-mcp:sshAgentSocket": "/run/user/1000/ssh-agent.sock",
};

let evaluation = 0;

/** Evaluates examples/stack/program.ts with this config (a fresh module instance each call) and returns its exports. */
export function runProgram(config: Record<string, string>, secretKeys: string[]): Promise<Record<string, pulumi.Output<unknown>>> {
  pulumi.runtime.setAllConfig(config, secretKeys);
  return import(`../../examples/stack/program.ts?evaluation=${++evaluation}`);
}

/**
 * The config map the Pulumi CLI hands the program (PULUMI_CONFIG): every Pulumi.yaml default under "<project>:<key>"
 * as a string — objects and arrays as JSON text, numbers and booleans as their text — overlaid by the stack's values;
 * PULUMI_CONFIG_SECRET_KEYS lists only keys set with --secret (a default {} is never secret).
 */
export function asTheCliDelivers(stack: Record<string, string>): Record<string, string> {
  const project = parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8")) as { config: Record<string, { default?: unknown }> };
  const out: Record<string, string> = {};
  for (const [k, d] of Object.entries(project.config)) {
    if (!("default" in d)) continue;
    out[`selfhosted-mcp:${k}`] = typeof d.default === "string" ? d.default : JSON.stringify(d.default);
  }
  return { ...out, ...stack };
}
