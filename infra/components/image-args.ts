// McpImage's argument rules (zod), like host-args.ts for McpHost: McpImage checks its args with imageArgsSchema before
// it registers anything and throws InvalidArgsError ("McpImage <arg>: ...") naming each bad one. The example stack's
// keys for the same values (image, imageTag, docrName, docrRegion) use these rules too (examples/stack/config.ts).
import * as z from "zod";
import { digestRef } from "../../contract/values.ts";
import { parseArgs } from "../../contract/args-error.ts";
import type { McpImageArgs } from "./image.ts";

/**
 * Regions DigitalOcean Container Registry can store data in (API reference, POST /v2/registries `region`). Droplet
 * regions such as lon1, tor1 or nyc1 have no registry: use docrRegionFor() to pick only a valid one.
 */
export const DOCR_REGIONS = ["nyc3", "sfo3", "sfo2", "ams3", "sgp1", "fra1", "blr1", "syd1"] as const;

/** A Pulumi input (registry address, credentials): present or not, its value unknown until the deployment. */
const input = z.unknown();

/** The rule of each McpImage argument that is a plain value. */
export const IMAGE_FIELDS = {
  image: digestRef,
  /** Docker's tag grammar (distribution/reference: [\w][\w.-]{0,127}). */
  tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be an image tag such as v1.2.3 or a git commit (letters, digits, _ . -; at most 128)"),
  repository: z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, "must be a lowercase repository name such as selfhosted-mcp or team/weather"),
  /** DigitalOcean API, POST /v2/registry `name`: "lowercase ... numbers, letters and `-`, up to a limit of 63 characters". */
  docrName: z.string().regex(/^[a-z0-9-]{1,63}$/, "must be 1-63 lowercase letters, digits or dashes (globally unique on DigitalOcean)"),
  docrRegion: z.enum(DOCR_REGIONS, { error: `must be a region with a container registry: ${DOCR_REGIONS.join(", ")} (or leave it unset)` }),
  docrTier: z.enum(["starter", "basic", "professional"], { error: "must be starter, basic or professional" }),
  baseImage: z.string().regex(/^[a-zA-Z0-9][^\s]*$/, "must be an image reference such as node:24-bookworm-slim (no spaces)"),
  platform: z.string().regex(/^linux\/[a-z0-9]+(\/v[0-9])?$/, "must be a linux platform such as linux/amd64"),
} as const;

const F = IMAGE_FIELDS;
export const imageArgsSchema = z.object({
  build: z.object({
    context: z.string().min(1, "must be a directory (the docker build context)").optional(),
    dockerfile: z.string().min(1, "must be the Dockerfile's path").optional(),
    baseImage: F.baseImage.optional(), platform: F.platform.optional(),
    version: z.string().min(1).optional(), revision: z.string().min(1).optional(),
    args: z.record(z.string(), z.string()).superRefine((o, ctx) => {
      for (const k of Object.keys(o)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) ctx.addIssue({ code: "custom", path: [k], message: "build argument names are letters, digits and _" });
    }).optional(),
  }).strict().optional(),
  image: F.image.optional(),
  repository: F.repository.optional(),
  tag: F.tag.optional(),
  registry: z.object({ server: input, username: input.optional(), password: input.optional() }).strict()
    .refine((r) => r.server !== undefined && r.server !== "", { path: ["server"], message: "is required: the registry address, e.g. ghcr.io/me" }).optional(),
  docr: z.object({ name: F.docrName, create: z.boolean().optional(), tier: F.docrTier.optional(), region: F.docrRegion.optional() }).strict().optional(),
}).strict().superRefine((a, ctx) => {
  if (a.image === undefined && !a.registry && !a.docr) {
    ctx.addIssue({ code: "custom", path: ["registry"], message: "a build needs a registry to push to: pass registry, or docr with a globally unique name (or a prebuilt image)" });
  }
});

/** Checks McpImage's plain arguments; throws InvalidArgsError ("McpImage <arg>: ...") naming each bad one. */
export function validateImageArgs(a: McpImageArgs): void {
  parseArgs("McpImage", imageArgsSchema, a);
}
