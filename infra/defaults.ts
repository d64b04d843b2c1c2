// Every default of the components' arguments, in one table. The components fall back to these, the example stack's
// config schema (examples/stack/config.ts) declares them as its zod defaults, and test/infra/pulumi-yaml.test.ts
// checks that Pulumi.yaml declares the same ones, so a default is changed here and nowhere else.
export const DEFAULTS = {
  /** Short name of the server on the host (containers, volume, nginx names). */
  app: "mcp",
  region: "fra1",
  /** Droplet image: Ubuntu 24.04 LTS. */
  dropletImage: "ubuntu-24-04-x64",
  resizeDisk: false,
  /** Container limits; two containers run side by side during a deploy. */
  memoryMb: 256,
  cpus: 1,
  sshUser: "deploy",
  sshPort: 22,
  allowSshFromAnywhere: false,
  reservedIp: false,
  /** Blue slot ports; the green slot uses +1. */
  port: 8000,
  metricsPort: 9090,
  healthPath: "/health",
  healthTimeoutSeconds: 90,
  drainSeconds: 5,
  /** Docker's health probe interval (the run contract's healthInterval default). */
  healthCheckIntervalSeconds: 30,
  authMode: "api-key",
  /** nginx limit_req per client IP. */
  rateLimitPerSecond: 10,
  rateLimitBurst: 20,
  maxBodySize: "1m",
  certbotConfigDir: "/etc/letsencrypt",
  imageRepository: "selfhosted-mcp",
  baseImage: "node:24-bookworm-slim",
  platform: "linux/amd64",
  docrTier: "starter",
  createDocr: true,
} as const;
