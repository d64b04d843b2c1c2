// A SelfHostedMcp with several servers behind the gateway (issue 17), shared by the multi-server graph and engine-step
// tests: three reference servers (one granted to one key only), one of them with its own env, memory and rate limit.
import * as pulumi from "@pulumi/pulumi";
import type { SelfHostedMcpArgs, McpServerArgs } from "../../infra/index.ts";
import { SSH_PUBLIC_KEY } from "./fixtures.ts";

export const KEY_ALL = "a".repeat(40);
export const KEY_NOTES = "n".repeat(40);

export interface MultiVariant { servers?: McpServerArgs[]; keys?: string; gatewayEnv?: Record<string, string> }

export const SERVERS: McpServerArgs[] = [
  { name: "weather", env: { LOG_LEVEL: "info" } },
  { name: "notes", memoryMb: 384, rateLimit: { perSecond: 2, burst: 4 } },
  { name: "search", image: `ghcr.io/acme/search@sha256:${"c".repeat(64)}`, secrets: pulumi.secret({ SEARCH_TOKEN: "s".repeat(24) }) },
];

export function multiStackArgs(v: MultiVariant = {}): SelfHostedMcpArgs {
  return {
    domain: "mcp.example.com", sshPublicKey: SSH_PUBLIC_KEY, sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"],
    adminCidrs: ["203.0.113.7/32"], acme: { email: "ops@example.com" }, docr: { name: "acme-mcp-test" },
    auth: { mode: "api-key", apiKeys: pulumi.secret(v.keys ?? `${KEY_ALL},${KEY_NOTES}:notes`) },
    env: v.gatewayEnv ?? { LOG_LEVEL: "info" },
    servers: v.servers ?? SERVERS,
  };
}
