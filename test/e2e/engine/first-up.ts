// The real example program (Pulumi.yaml → infra/program.ts) through the rehearsal's preview with the config a user
// following the README sets for a first `pulumi up` (everything else: Pulumi.yaml defaults, delivered as the CLI
// delivers them). The lead asserts on `previewFirstUp()` once the product fixes of issue 12 are merged.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordPlan } from "../plan.ts";
import type { StackConfig } from "./config.ts";
import type { CheckFailure } from "./rules.ts";

/** What `pulumi config set` a README reader runs before the first up (keys, no values of their own). */
export const FIRST_UP_CONFIG: StackConfig = {
  "digitalocean:token": { value: "dop_v1_rehearsal-not-a-token", secret: true },
  domain: "mcp.example.com",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFirstUpRehearsalKeyxxxxxxxxxxxxxxxxxxxxxxxx first-up",
  adminCidrs: { value: ["203.0.113.7/32"] }, // pulumi config set --path 'adminCidrs[0]' 203.0.113.7/32
  acmeEmail: "ops@example.com",
  apiKeys: { value: "0123456789abcdef0123456789abcdef", secret: true },
};

export interface FirstUpPreview { ok: boolean; error?: string; checkFailures: CheckFailure[]; steps: string[] }

/** Previews the real program's first up (no prior state). ok = the preview would pass. */
export async function previewFirstUp(config: StackConfig = FIRST_UP_CONFIG): Promise<FirstUpPreview> {
  const dir = mkdtempSync(join(tmpdir(), "first-up-"));
  try {
    const p = await recordPlan({ config, preview: true, stack: "prod", mockCloud: { ipv4: "192.0.2.10" } }, join(dir, "preview.json"));
    const steps = p.resources.filter((r) => r.custom).map((r) => `${r.step.op} ${r.type} ${r.name}`);
    return { ok: p.checkFailures.length === 0, checkFailures: p.checkFailures, steps };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e), checkFailures: [], steps: [] };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

if (process.argv[1]?.endsWith("first-up.ts")) {
  previewFirstUp().then((r) => console.log(JSON.stringify(r, null, 2)));
}
