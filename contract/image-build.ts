// How the server image is built: context, Dockerfile and build args (labels, base image). Shared by the image
// tests, the bench and the Pulumi image component, so the labels and the base image switch live in one place.
// Build args carry only public metadata: secrets never go into a build.

export const SERVER_DOCKERFILE = "server/Dockerfile";
/** The gateway's image (docs/gateway.md): same context, build args and stages as the server's. */
export const GATEWAY_DOCKERFILE = "gateway/Dockerfile";

export interface ImageBuildSpec {
  /** Repo root (the build context; .dockerignore there allows in only what the Dockerfile needs). */
  context: string;
  /** Base image with Node 24 and user `node` (default in the Dockerfile: node:24-bookworm-slim). */
  baseImage?: string;
  /** org.opencontainers.image.version, e.g. the package version. */
  version: string;
  /** org.opencontainers.image.revision, e.g. the git commit. */
  revision?: string;
  /** org.opencontainers.image.source, e.g. the repository URL. */
  source?: string;
  /** org.opencontainers.image.created (RFC 3339); omitted by default to keep builds reproducible and cached. */
  created?: string;
}

/** Docker build args for the spec (only the ones set). */
export function imageBuildArgs(spec: ImageBuildSpec): Record<string, string> {
  const args: Record<string, string> = { VERSION: spec.version };
  if (spec.baseImage) args.BASE_IMAGE = spec.baseImage;
  if (spec.revision) args.REVISION = spec.revision;
  if (spec.source) args.SOURCE = spec.source;
  if (spec.created) args.CREATED = spec.created;
  return args;
}

/** Arguments after `docker` for a local build: `["build", "-f", ..., context]`; `dockerfile` relative to the context. */
export function dockerBuildArgs(spec: ImageBuildSpec, tag: string, dockerfile = SERVER_DOCKERFILE): string[] {
  const args = ["build", "--file", `${spec.context.replace(/\/+$/, "")}/${dockerfile}`, "--tag", tag];
  for (const [k, v] of Object.entries(imageBuildArgs(spec))) args.push("--build-arg", `${k}=${v}`);
  args.push(spec.context);
  return args;
}
