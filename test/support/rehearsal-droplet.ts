// The tests' droplet as its first boot left it (rehearsal e2e): cloud-init's stages and status, the user-data's
// swap, daemon.json and enabled units, the droplet's name and memory.
import assert from "node:assert/strict";
import { DROPLET_TYPE, type RehearsalResult } from "../../rehearsal/rehearsal.ts";
import { SWAP_FILE } from "../../infra/components/host.ts";

export async function assertDropletAsBooted(fresh: RehearsalResult, diag: (m: string) => void): Promise<void> {
  const vm = fresh.vm;
  // cloud-init's own record of its stages (epoch seconds) against the kernel's boot time: the first boot's phases.
  const stages = JSON.parse((await vm.sshOk("cat /var/lib/cloud/data/status.json")).stdout) as { v1: Record<string, { start?: number; finished?: number }> };
  const btime = Number(/^btime (\d+)$/m.exec((await vm.sshOk("cat /proc/stat")).stdout)?.[1]);
  diag(`first boot (s after the kernel started): ${Object.entries(stages.v1).filter(([, v]) => v?.finished)
    .map(([k, v]) => `${k} ${(v.finished! - btime).toFixed(0)}`).join(", ")}`);
  const status = await vm.ssh("cloud-init status --long");
  assert.equal(status.code, 0, `cloud-init status:\n${status.stdout}${status.stderr}`);
  assert.match(status.stdout, /^status: done$/m);
  const result = JSON.parse((await vm.sshOk("cat /run/cloud-init/result.json")).stdout) as { v1: { errors: string[] } };
  assert.deepEqual(result.v1.errors, [], "cloud-init reported no errors");
  // As root (sudo): the deploy user's PATH has no /sbin, and without D-Bus (minbase; Ubuntu has it) a non-root
  // systemctl cannot reach systemd.
  // host-ready sizes the swap from the droplet's memory (swapMb defaults to the size's value): a swap file is on.
  assert.equal((await vm.sshOk("sudo -n swapon --show=NAME --noheadings")).stdout.trim(), SWAP_FILE, "host-ready's swap file is on");
  assert.equal((await vm.sshOk("sudo -n docker info --format '{{.LiveRestoreEnabled}} {{.LoggingDriver}}'")).stdout.trim(), "true local",
    "dockerd runs with the user-data's daemon.json");
  const enabled = await vm.ssh("sudo -n systemctl is-enabled docker nginx certbot.timer unattended-upgrades");
  assert.deepEqual(enabled.stdout.trim().split("\n"), ["enabled", "enabled", "enabled", "enabled"], enabled.stdout + enabled.stderr);
  assert.equal((await vm.ssh("sudo -n systemctl is-active certbot.timer")).stdout.trim(), "active");
  const droplet = fresh.plan.resources.find((r) => r.type === DROPLET_TYPE)!;
  assert.equal((await vm.sshOk("hostname")).stdout.trim(), String(droplet.inputs.name));
  const memMb = Number((await vm.sshOk("awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo")).stdout);
  assert.ok(memMb > 0.8 * fresh.vm.memoryMb! && memMb <= fresh.vm.memoryMb!, `the VM has the droplet size's memory (${memMb} of ${fresh.vm.memoryMb} MB)`);
}
