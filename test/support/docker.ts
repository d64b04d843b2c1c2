// Starts Debian's dockerd when no daemon answers (tests and the rehearsal share this).
import { run, startDaemon, waitFor } from "./proc.ts";

export async function dockerAvailable(): Promise<boolean> {
  const r = await run("docker", ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 15_000 }).catch(() => null);
  return !!r && r.code === 0;
}

/** Ensures a Docker daemon is running; starts dockerd (left running for later tests) if needed. */
export async function ensureDockerd(): Promise<void> {
  if (await dockerAvailable()) return;
  startDaemon("dockerd", [], "/tmp/selfhosted-mcp-dockerd.log");
  await waitFor("dockerd to answer", dockerAvailable, { timeoutMs: 60_000, intervalMs: 500 });
}
