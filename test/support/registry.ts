// A private Docker registry (Debian's docker-registry) on a free 127.0.0.1 port with storage in a temp dir.
// dockerd allows plain HTTP to 127.0.0.0/8 registries, so push/pull need no TLS or login.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startDaemon, waitFor } from "./proc.ts";

export interface Registry {
  /** host:port to prefix image names with, e.g. 127.0.0.1:PORT/selfhosted-mcp/server:tag. */
  address: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startRegistry(): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), "registry-"));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const config = join(dir, "config.yml");
  writeFileSync(config, [
    "version: 0.1",
    "log: { level: warn }",
    `storage: { filesystem: { rootdirectory: ${join(dir, "data")} }, delete: { enabled: true } }`,
    `http: { addr: "${address}" }`,
    "",
  ].join("\n"));
  const daemon = startDaemon("docker-registry", ["serve", config], join(dir, "registry.log"));
  const stop = async () => { await daemon.stop(); rmSync(dir, { recursive: true, force: true }); };
  try {
    await waitFor(`docker-registry on ${address}`, async () => (await fetch(`http://${address}/v2/`)).ok,
      { timeoutMs: 20_000, intervalMs: 200 });
  } catch (e) {
    const log = daemon.log();
    await stop();
    throw new Error(`${(e as Error).message}\n${log}`);
  }
  return { address, log: daemon.log, stop };
}
