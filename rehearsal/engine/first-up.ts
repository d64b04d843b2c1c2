// The real example program (Pulumi.yaml → examples/stack/program.ts) through the rehearsal's preview with the config a user
// following the README sets for a first `pulumi up` (everything else: Pulumi.yaml defaults, delivered as the CLI
// delivers them). test/rehearsal/program-steps.test.ts asserts that it passes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordPlan } from "../plan.ts";
import type { StackConfig } from "./config.ts";
import type { CheckFailure } from "./rules.ts";

/** What a README reader runs before the first up (README "Deploy for real": `pulumi config set …`, in that order). */
export const FIRST_UP_CONFIG: StackConfig = {
  "digitalocean:token": { value: "dop_v1_rehearsal-not-a-token", secret: true },
  domain: "mcp.example.com",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFirstUpRehearsalKeyxxxxxxxxxxxxxxxxxxxxxxxx first-up",
  sshKeyFingerprint: "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa", // the key is on the account already
  adminCidrs: { value: ["203.0.113.7/32"] }, // pulumi config set --path 'adminCidrs[0]' 203.0.113.7/32
  acmeEmail: "ops@example.com",
  apiKeys: { value: "0123456789abcdef0123456789abcdef", secret: true },
  docrName: "mcp-1a2b3c4d",
  dnsZone: "example.com",
};

/** Only the keys Pulumi.yaml has no default for, plus what the program requires (token, apiKeys, a registry). */
export const REQUIRED_ONLY_CONFIG: StackConfig = {
  "digitalocean:token": FIRST_UP_CONFIG["digitalocean:token"]!,
  domain: "mcp.example.com",
  sshPublicKey: FIRST_UP_CONFIG.sshPublicKey!,
  adminCidrs: { value: ["203.0.113.7/32"] },
  acmeEmail: "ops@example.com",
  apiKeys: FIRST_UP_CONFIG.apiKeys!,
  docrName: "mcp-1a2b3c4d",
};

/** The `pulumi` process's environment the README assumes: an SSH agent (the remote commands log in with it). */
export const FIRST_UP_ENV = { SSH_AUTH_SOCK: "/run/user/1000/ssh-agent.socket" };

export interface FirstUpPreview { ok: boolean; error?: string; checkFailures: CheckFailure[]; steps: string[] }

/** Previews the real program's first up (no prior state). ok = the preview would pass. */
export async function previewFirstUp(config: StackConfig = FIRST_UP_CONFIG, env: Record<string, string> = FIRST_UP_ENV): Promise<FirstUpPreview> {
  const dir = mkdtempSync(join(tmpdir(), "first-up-"));
  try {
    const p = await recordPlan({ config, preview: true, stack: "prod", mockCloud: { ipv4: "192.0.2.10" }, env }, join(dir, "preview.json"));
    const steps = p.resources.filter((r) => r.custom).map((r) => `${r.step.op} ${r.type} ${r.name}`);
    return { ok: p.checkFailures.length === 0, checkFailures: p.checkFailures, steps };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e), checkFailures: [], steps: [] };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

if (process.argv[1]?.endsWith("first-up.ts")) {
  previewFirstUp().then((r) => console.log(JSON.stringify(r, null, 2)));
}
