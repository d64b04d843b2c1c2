// Droplet size selection: the smallest Basic droplet whose memory holds the OS, Docker and nginx plus TWO copies
// of the container (blue/green overlap during a deploy), and whose vCPUs cover the container's CPU limit.
import * as z from "zod";
import { InvalidArgsError, argIssue } from "../../contract/args-error.ts";

export interface DropletSize { slug: string; memoryMb: number; vcpus: number; priceMonthlyUsd: number }

/** DigitalOcean Basic (regular SSD) sizes, cheapest first. Prices are list prices in USD per month. */
export const DROPLET_SIZES: readonly DropletSize[] = [
  { slug: "s-1vcpu-512mb-10gb", memoryMb: 512, vcpus: 1, priceMonthlyUsd: 4 },
  { slug: "s-1vcpu-1gb", memoryMb: 1024, vcpus: 1, priceMonthlyUsd: 6 },
  { slug: "s-1vcpu-2gb", memoryMb: 2048, vcpus: 1, priceMonthlyUsd: 12 },
  { slug: "s-2vcpu-2gb", memoryMb: 2048, vcpus: 2, priceMonthlyUsd: 18 },
  { slug: "s-2vcpu-4gb", memoryMb: 4096, vcpus: 2, priceMonthlyUsd: 24 },
  { slug: "s-4vcpu-8gb", memoryMb: 8192, vcpus: 4, priceMonthlyUsd: 48 },
  { slug: "s-8vcpu-16gb", memoryMb: 16384, vcpus: 8, priceMonthlyUsd: 96 },
];

/** Memory the host itself needs next to the containers (Ubuntu, dockerd, nginx, sshd, unattended-upgrades). */
export const HOST_OVERHEAD_MB = 400;

/**
 * What one server container may use. The two values keep these names from SelfHostedMcp's `resources` through
 * McpHost's `resources` (droplet sizing) and McpDeployment's `memoryMb`/`cpus` to the run contract, whose renderer
 * alone turns them into docker's `--memory <memoryMb>m` and `--cpus` (contract/run-contract.ts).
 */
export interface ContainerResources {
  memoryMb: number;
  cpus: number;
  /**
   * MB, default 0: the limits of every other container beside the largest one (several servers + the gateway;
   * SelfHostedMcp deploys them one after the other, so only one pair of slots overlaps).
   */
  otherContainersMemoryMb?: number;
}

/** The rule of each container resource (the components' and the example stack's: containerMemoryMb, containerCpus). */
export const CONTAINER_RESOURCES = {
  memoryMb: z.number().int("must be a whole number of MB").min(128, "must be at least 128 (MB)").max(65536, "must be at most 65536 (MB)"),
  cpus: z.number().positive("must be a positive number of CPUs such as 0.5 or 1").max(32, "must be at most 32 CPUs"),
} as const;

/** The memory a size must have: host overhead + the other containers + both slots running during a switch. */
export function requiredMemoryMb(r: ContainerResources): number {
  return HOST_OVERHEAD_MB + (r.otherContainersMemoryMb ?? 0) + 2 * r.memoryMb;
}

/** Smallest size that fits, or undefined when no Basic droplet is that large. */
export function fittingDropletSize(r: ContainerResources): DropletSize | undefined {
  const need = requiredMemoryMb(r);
  return DROPLET_SIZES.find((s) => s.memoryMb >= need && s.vcpus >= r.cpus);
}

/** Why nothing fits, and the fix (McpHost reports it at `resources.memoryMb`, the example stack at containerMemoryMb). */
export function noFittingSizeMessage(r: ContainerResources): string {
  const others = r.otherContainersMemoryMb ? ` (+ ${r.otherContainersMemoryMb} MB of other containers)` : "";
  return `${r.memoryMb} MB and ${r.cpus} CPUs per container${others} need ${requiredMemoryMb(r)} MB and ${Math.ceil(r.cpus)} vCPUs: no Basic droplet ` +
    "is that large; lower the container's memory or CPUs, or name the droplet size yourself";
}

/** Smallest size that fits; throws InvalidArgsError naming memoryMb when nothing fits. */
export function pickDropletSize(r: ContainerResources): DropletSize {
  const size = fittingDropletSize(r);
  if (!size) throw new InvalidArgsError("droplet size", [argIssue(["memoryMb"], noFittingSizeMessage(r))]);
  return size;
}

/** The known size for a slug (undefined for sizes outside the table, e.g. CPU-optimized ones). */
export function findDropletSize(slug: string): DropletSize | undefined {
  return DROPLET_SIZES.find((s) => s.slug === slug);
}

/** Swap for small droplets: 1 GiB up to 2 GiB of RAM, none above (swap then only hides memory pressure). */
export function swapMbFor(memoryMb: number): number {
  return memoryMb <= 2048 ? 1024 : 0;
}
