// McpImage: builds the server image (BASE_IMAGE build arg) and pushes it; the output is the pushed digest the host
// pulls. DigitalOcean Container Registry by default (registry + push/pull credentials), any registry by args,
// or a prebuilt image pinned by digest (no build at all).
import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import * as docker from "@pulumi/docker";
import { packagePath, packageVersion } from "../package-files.ts";
import { renderDockerConfig, credentialsFromDockerConfig, registryHost } from "../render/docker-config.ts";
import { imageBuildArgs, SERVER_DOCKERFILE } from "../../contract/image-build.ts";
import { validateImageArgs, DOCR_REGIONS } from "./image-args.ts";

export interface McpImageBuild {
  /**
   * Docker build context. Default: this package's own root (its reference server; works from node_modules too),
   * never the consumer's directory.
   */
  context?: string;
  /** Dockerfile path (default: "server/Dockerfile" inside the default context; give it with your own context). */
  dockerfile?: string;
  /** The BASE_IMAGE build argument (default node:24-bookworm-slim). */
  baseImage?: string;
  platform?: string;
  /** Image version label (default: this package's version); revision: e.g. the git commit. */
  version?: string;
  revision?: string;
  /** Extra build arguments (public values only: build arguments end up in the image's history). */
  args?: Record<string, string>;
}

export interface ExternalRegistry {
  /** Registry address incl. namespace, e.g. ghcr.io/me or 127.0.0.1:5000. */
  server: pulumi.Input<string>;
  username?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
}

export interface DocrRegistry {
  /**
   * Registry name: GLOBALLY unique across all DigitalOcean accounts (the API refuses a taken one), and an account
   * has at most one registry — so there is no default: pick one, or name the registry your account already has
   * (create: false).
   */
  name: string;
  /** Create the registry (default true); false uses the account's existing registry `name`. */
  create?: boolean;
  /** Subscription tier when created (default "starter", the free tier: 500 MB, one repository). */
  tier?: string;
  /** Region of the registry's storage (one of DOCR_REGIONS); default: DigitalOcean picks. ForceNew. */
  region?: string;
}

/** The droplet's region when DOCR stores data there, else undefined (DigitalOcean then picks one). */
export function docrRegionFor(dropletRegion: string): string | undefined {
  return (DOCR_REGIONS as readonly string[]).includes(dropletRegion) ? dropletRegion : undefined;
}

export interface McpImageArgs {
  /** Build this context; ignored when `image` is given. */
  build?: McpImageBuild;
  /** A prebuilt image pinned by digest (repo@sha256:...): nothing is built or pushed. */
  image?: string;
  /** Repository name inside the registry (default "selfhosted-mcp"). */
  repository?: string;
  /**
   * Image tag. Default: `v<package version>` for the package's own server (its content is fixed by that version);
   * give one per build of your own context (e.g. the git commit). The host pulls by digest either way.
   */
  tag?: string;
  /** Any registry. When absent, DigitalOcean Container Registry (`docr`); neither: a public prebuilt `image`. */
  registry?: ExternalRegistry;
  docr?: DocrRegistry;
}


export class McpImage extends pulumi.ComponentResource {
  /** The pushed image pinned by digest: `registry/repo@sha256:...`. */
  readonly digest: pulumi.Output<string>;
  /** Registry address the host pulls from (host[:port]/namespace). */
  readonly registryServer: pulumi.Output<string>;
  /** docker config.json with read credentials for the host (secret). */
  readonly pullConfig: pulumi.Output<string>;
  readonly image?: docker.Image;
  readonly registry?: digitalocean.ContainerRegistry;
  /**
   * The registry with this image's push credentials (secret), for more images into the same registry (SelfHostedMcp's
   * servers: one DOCR registry, which a stack can create only once). Absent for a public prebuilt image.
   */
  readonly pushRegistry?: ExternalRegistry;

  constructor(name: string, args: McpImageArgs, opts?: pulumi.ComponentResourceOptions) {
    validateImageArgs(args);
    super("selfhosted-mcp:index:McpImage", name, {}, opts);
    const parent = { parent: this };

    let server: pulumi.Output<string>;
    let push: { server: pulumi.Output<string>; username?: pulumi.Output<string>; password?: pulumi.Output<string> };
    if (!args.registry && !args.docr) {
      // A public prebuilt image (image-args.ts allows nothing else): anonymous pulls.
      server = pulumi.output(args.image!.split("/")[0]!);
      push = { server };
      this.pullConfig = pulumi.secret(server.apply((s) => renderDockerConfig(s)));
    } else if (args.registry) {
      server = pulumi.output(args.registry.server);
      const username = args.registry.username === undefined ? undefined : pulumi.output(args.registry.username);
      const password = args.registry.password === undefined ? undefined : pulumi.secret(args.registry.password);
      push = { server: server.apply(registryHost), ...(username ? { username } : {}), ...(password ? { password } : {}) };
      this.pushRegistry = args.registry;
      this.pullConfig = pulumi.secret(pulumi.all([server, username, password]).apply(([s, u, p]) => renderDockerConfig(s, u, p)));
    } else {
      const docr = args.docr!;
      let registryName: pulumi.Output<string>;
      if (docr.create === false) {
        const existing = digitalocean.getContainerRegistryOutput({ name: docr.name }, parent);
        server = existing.endpoint;
        registryName = existing.name;
      } else {
        this.registry = new digitalocean.ContainerRegistry(`${name}-registry`, {
          name: docr.name, subscriptionTierSlug: docr.tier ?? "starter", ...(docr.region ? { region: docr.region } : {}),
        }, parent);
        server = this.registry.endpoint;
        registryName = this.registry.name;
      }
      const writeCreds = new digitalocean.ContainerRegistryDockerCredentials(`${name}-push-credentials`, { registryName, write: true }, parent);
      const readCreds = new digitalocean.ContainerRegistryDockerCredentials(`${name}-pull-credentials`, { registryName, write: false }, parent);
      const pushAuth = pulumi.secret(pulumi.all([writeCreds.dockerCredentials, server]).apply(([c, s]) => credentialsFromDockerConfig(c, s)));
      push = { server: server.apply(registryHost), username: pushAuth.apply((a) => a.username), password: pulumi.secret(pushAuth.apply((a) => a.password)) };
      this.pullConfig = pulumi.secret(readCreds.dockerCredentials);
      this.pushRegistry = { server, ...(push.username ? { username: push.username } : {}), ...(push.password ? { password: push.password } : {}) };
    }
    this.registryServer = server;

    if (args.image !== undefined) {
      this.digest = pulumi.output(args.image);
    } else {
      const b = args.build ?? {};
      const context = b.context ?? packagePath(".").replace(/\/+$/, "");
      const dockerfile = b.dockerfile ?? (b.context === undefined ? `${context.replace(/\/+$/, "")}/${SERVER_DOCKERFILE}` : SERVER_DOCKERFILE);
      const imageName = pulumi.interpolate`${server}/${args.repository ?? "selfhosted-mcp"}:${args.tag ?? `v${packageVersion()}`}`;
      this.image = new docker.Image(`${name}-image`, {
        imageName,
        build: {
          context,
          dockerfile,
          platform: b.platform ?? "linux/amd64",
          args: {
            ...imageBuildArgs({
              context, baseImage: b.baseImage ?? "node:24-bookworm-slim", version: b.version ?? packageVersion(),
              ...(b.revision ? { revision: b.revision } : {}),
            }),
            ...b.args,
          },
        },
        registry: push,
      }, parent);
      this.digest = this.image.repoDigest;
    }
    this.registerOutputs({ digest: this.digest, registryServer: this.registryServer });
  }
}
