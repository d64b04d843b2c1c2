// A running container's memory charge as the kernel accounts it (what `--memory` limits): cgroup v2 with the systemd
// driver (memory.current / memory.peak, the droplet's Ubuntu), or v1 with the cgroupfs driver (memory.usage_in_bytes /
// memory.max_usage_in_bytes, e.g. this CI machine's dockerd without systemd). Undefined where neither file exists.
import { readFileSync } from "node:fs";

const read = (f: string) => { try { return Number(readFileSync(f, "utf8").trim()); } catch { return undefined; } };

/** Current and peak memory charge of the container `id` (full id), bytes. */
export function cgroupMemory(id: string): { current?: number; peak?: number } {
  const v2 = `/sys/fs/cgroup/system.slice/docker-${id}.scope`;
  const v1 = `/sys/fs/cgroup/memory/docker/${id}`;
  const current = read(`${v2}/memory.current`) ?? read(`${v1}/memory.usage_in_bytes`);
  const peak = read(`${v2}/memory.peak`) ?? read(`${v1}/memory.max_usage_in_bytes`);
  return { ...(current !== undefined ? { current } : {}), ...(peak !== undefined ? { peak } : {}) };
}

/** cgroup peak of a running container (bytes), see cgroupMemory. */
export const cgroupPeak = (id: string): number | undefined => cgroupMemory(id).peak;
