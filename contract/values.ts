// The value rules several parts share, each defined once (zod schemas with the message a user sees): the public
// domain (nginx server_name, certificate, PUBLIC_URL), the app name (containers, volume, nginx zones, units),
// an image pinned by digest (what the host pulls), and an absolute host path (interpolated into scripts, nginx
// config and unit files, so no spaces or quotes). The stack config, the components and the renderers all use these,
// so a value the stack accepts is never refused later inside the deployment.
// This module imports nothing of the project (contract/ is the bottom layer).
import * as z from "zod";

/** A DNS name of at least two labels, lower case, last label starting with a letter (RFC 1035 §2.3.1, RFC 1123 §2.1). */
export const DOMAIN_PATTERN = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const DOMAIN_MESSAGE = "must be a DNS name such as mcp.example.com (lower case; no scheme, port, path or wildcard)";
export const domain = z.string().regex(DOMAIN_PATTERN, DOMAIN_MESSAGE);

/** Short name of a server on its host: containers `<app>-blue|green`, volume `<app>-data`, nginx zones, units. */
export const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;
export const appName = z.string().regex(APP_NAME_PATTERN, "must start with a-z and contain only a-z, 0-9 and - (at most 31 characters)");

/**
 * Name of one of several servers behind a gateway (its tools are `<name>__<tool>`, its route `/<name>/mcp`): an app
 * name without `_` (the first `__` ends it) and at most 20 characters (room for tool names within 64).
 */
export const SERVER_NAME_SOURCE = "[a-z][a-z0-9-]{0,19}";
export const serverName = z.string().regex(new RegExp(`^${SERVER_NAME_SOURCE}$`),
  "must start with a-z and contain only a-z, 0-9 and - (at most 20 characters; no _: the gateway's names are <server>__<tool>)");

/** An image reference pinned by digest, `repo@sha256:<64 hex>`: immutable, so every host runs the same bytes. */
export const DIGEST_REF_PATTERN = /^[a-zA-Z0-9][^\s@]*@sha256:[a-f0-9]{64}$/;
export const digestRef = z.string().regex(DIGEST_REF_PATTERN, "must be an image pinned by digest (repo@sha256:<64 hex>)");

/** An absolute path on the host, safe unquoted in shell, nginx and systemd files. */
export const absPath = z.string().regex(/^\/[A-Za-z0-9._~/-]*$/,
  "must be an absolute path made of letters, digits and . _ ~ / - (no spaces or quotes)")
  .refine((p) => !p.split("/").includes(".."), "must not contain '..'");

/** An environment variable name the env file and `docker run --env` carry: upper snake case (POSIX XBD 8.1 portable names). */
export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

/** One line: a value written into an env file (`NAME=value` per line) cannot hold a line break. */
export const singleLine = z.string().refine((v) => !/[\r\n]/.test(v), "must be a single line");
