// Remote scripts: plain bash files under ./scripts, rendered with an explicit block of inputs in front, and
// wrapped into the command string a `command.remote.Command` runs over SSH. The wrapper is POSIX sh: it writes
// the script to a private temp file and runs it with bash as root (sudo -n when the SSH user is not root).
// The same strings are what the local rehearsal executes; nothing here depends on Pulumi.
import { shellQuote } from "../../contract/shell.ts";
import { readPackageFile } from "../package-files.ts";

/** The bash scripts shipped with the package (infra/render/scripts/<name>.sh). */
export type ScriptName = "host-ready" | "host-limits" | "prepare" | "deploy" | "certificate" | "teardown" | "smoke-timer-install" | "smoke-timer-uninstall"
  | "monitoring-install" | "monitoring-uninstall";

export type ScriptInputs = Record<string, string | number>;

const HEREDOC = "SELFHOSTED_MCP_SCRIPT_EOF";
const INPUT_NAME = /^[A-Z][A-Z0-9_]*$/;

function source(file: string): string {
  const text = readPackageFile(`infra/render/scripts/${file}`);
  // The per-file shellcheck directive only makes sense at the top of a standalone file.
  return text.replace(/^# shellcheck shell=bash\n/m, "");
}

/**
 * Renders one complete bash script: inputs (read-only, shell-quoted), the shared helpers, then the body — or the
 * bodies of several scripts in order, one after the other in the same shell (e.g. host-ready, then host-limits).
 */
export function renderScript(name: ScriptName | readonly ScriptName[], inputs: ScriptInputs): string {
  const names: readonly ScriptName[] = typeof name === "string" ? [name] : name;
  if (names.length === 0) throw new Error("renderScript: name at least one script");
  const lines: string[] = [];
  for (const [key, value] of Object.entries(inputs)) {
    if (!INPUT_NAME.test(key)) throw new Error(`script input ${JSON.stringify(key)} must be UPPER_SNAKE_CASE`);
    const v = String(value);
    if (/[\r\n\0]/.test(v)) throw new Error(`script input ${key} must be a single line`);
    lines.push(`readonly ${key}=${shellQuote(v)}`);
  }
  const text = [
    "#!/usr/bin/env bash",
    `# selfhosted-mcp remote script: ${names.join(" + ")}. Rendered; do not edit on the host.`,
    "set -euo pipefail",
    "umask 077",
    `readonly SCRIPT_NAME=${shellQuote(names.join("+"))}`,
    "# --- inputs ---",
    ...lines,
    "# --- helpers ---",
    source("lib.sh").trimEnd(),
    ...names.flatMap((n) => [`# --- script${names.length > 1 ? `: ${n}` : ""} ---`, source(`${n}.sh`).trimEnd()]),
    "",
  ].join("\n");
  if (text.split("\n").includes(HEREDOC)) throw new Error(`script ${names.join(" + ")} contains the wrapper's delimiter ${HEREDOC}`);
  return text;
}

/**
 * The command string for a remote Command resource: POSIX sh that runs `script` with bash as root.
 * Elevation uses `sudo -n` only when the SSH user is not root (the deploy user has passwordless sudo).
 */
export function remoteCommand(script: string): string {
  return [
    "set -eu",
    'f=$(mktemp "${TMPDIR:-/tmp}/selfhosted-mcp.XXXXXX")',
    "trap 'rm -f \"$f\"' EXIT",
    `cat >"$f" <<'${HEREDOC}'`,
    script.trimEnd(),
    HEREDOC,
    'if [ "$(id -u)" -eq 0 ]; then bash "$f"; else sudo -n bash "$f"; fi',
    "",
  ].join("\n");
}

/** renderScript + remoteCommand. */
export function remoteScript(name: ScriptName, inputs: ScriptInputs): string {
  return remoteCommand(renderScript(name, inputs));
}

/**
 * `command` marked with the host it is meant for (a comment line, so the string — an input of the Command — changes
 * with the host and the engine updates the Command in place, re-running it on a new host).
 */
export function onHost(hostId: string, command: string): string {
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(hostId)) throw new Error(`host id ${JSON.stringify(hostId)} must be 1-128 letters, digits or . _ : -`);
  return `# selfhosted-mcp host: ${hostId}\n${command}`;
}
