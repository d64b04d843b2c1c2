// Droplet size selection: the smallest Basic droplet whose memory holds the OS, Docker and nginx plus TWO copies
// of the container (blue/green overlap during a deploy), and whose vCPUs cover the container's CPU limit.

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
 * What runs on the droplet. `containerMemoryMb`: the largest container's limit (MB), the one whose two slots overlap
 * during its deploy. `otherContainersMemoryMb` (default 0): the limits of every other container, which run beside it
 * (several servers + the gateway; SelfHostedMcp deploys them one after the other, so only one pair overlaps).
 */
export interface MemoryBudget { containerMemoryMb: number; containerCpus: number; otherContainersMemoryMb?: number }

/** The memory a size must have for this budget: host overhead + the other containers + both slots running during a switch. */
export function requiredMemoryMb(b: MemoryBudget): number {
  return HOST_OVERHEAD_MB + (b.otherContainersMemoryMb ?? 0) + 2 * b.containerMemoryMb;
}

/** Smallest size that fits the budget; throws naming the config keys when nothing fits. */
export function pickDropletSize(b: MemoryBudget): DropletSize {
  const need = requiredMemoryMb(b);
  const size = DROPLET_SIZES.find((s) => s.memoryMb >= need && s.vcpus >= b.containerCpus);
  if (!size) {
    const others = b.otherContainersMemoryMb ? ` (+ ${b.otherContainersMemoryMb} MB of other containers)` : "";
    throw new Error(`containerMemoryMb=${b.containerMemoryMb}${others} / containerCpus=${b.containerCpus} need ${need} MB and ${b.containerCpus} vCPUs: ` +
      `no Basic droplet is that large; lower containerMemoryMb/containerCpus or set dropletSize explicitly`);
  }
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
