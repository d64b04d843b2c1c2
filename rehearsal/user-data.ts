// What the local droplet does with each part of the recorded cloud-config. On a real droplet cloud-init acts on
// every top-level key, write_files entry and runcmd entry; the rehearsal boots this machine instead and must not
// skip a step silently. `classifyUserData()` maps every top-level key and every entry of write_files, groups,
// users (and their fields), packages and runcmd either to an action droplet.ts applies, or to this reviewed list
// of what is not applied locally, with the reason. Anything else fails the boot, naming it: a new cloud-init step
// gets classified here (applied, or not with a reason) before the rehearsal boots with it.
import { parse as parseYaml } from "yaml";
import { readDebianPackages } from "./bootstrap.ts";

/** What droplet.ts applies; each has exactly one implementation there. */
export type BootAction = "group" | "user" | "sshd-drop-in" | "ssh-pwauth" | "package-installed" | "dockerd"
  | "remove-default-site" | "start-nginx" | "start-sshd";

type Rule = { action: BootAction; how: string } | { notApplied: string };

/** One classified part of the user-data: applied by `action` (with the part's value), or not applied locally. */
export type BootStep =
  | { what: string; action: BootAction; how: string; value: unknown }
  | { what: string; notApplied: string };

export interface CloudUser { name: string; groups?: string[] | string; shell?: string; sudo?: string | string[]; lock_passwd?: boolean; ssh_authorized_keys?: string[] }
export interface WriteFile { path: string; content?: string; permissions?: string; owner?: string }

/** Classifies one entry of a list-valued key; unknown fields of the entry go to `unclassified`. */
type EntryRule = (entry: unknown, unclassified: string[]) => { what: string; rule: Rule | undefined };

const WRITE_FILES: { path: string; rule: Rule }[] = [
  // A path ending in "/" covers every file below it.
  { path: "/etc/ssh/sshd_config.d/", rule: { action: "sshd-drop-in", how: "included in the private sshd's config on 127.0.0.1, in file-name order (Ubuntu's sshd_config includes sshd_config.d/*.conf first)" } },
  { path: "/etc/apt/apt.conf.d/20auto-upgrades", rule: { notApplied: "turns on unattended upgrades of this machine's packages" } },
  { path: "/etc/docker/daemon.json", rule: { notApplied: "this machine's dockerd is shared with the other tests; its settings (live-restore, log driver) would need a dockerd restart" } },
];
const WRITE_FILE_FIELDS = ["path", "content", "permissions", "owner"];

const RUNCMD: { command: string | string[]; rule: Rule }[] = [
  { command: ["systemctl", "enable", "--now", "docker", "unattended-upgrades"],
    rule: { action: "dockerd", how: "dockerd runs (the rehearsal starts it when none does); unattended-upgrades is not run here: it would upgrade this machine" } },
  { command: ["rm", "-f", "/etc/nginx/sites-enabled/default"], rule: { action: "remove-default-site", how: "removed (put back by --destroy)" } },
  { command: ["systemctl", "reload-or-restart", "nginx"], rule: { action: "start-nginx", how: "Debian's nginx started directly unless it runs (systemd is not PID 1 here)" } },
  { command: ["systemctl", "enable", "--now", "certbot.timer"],
    rule: { notApplied: "certbot's renewal timer needs systemd (not PID 1 here); the rehearsal's certificate is never due for renewal" } },
  { command: ["sh", "-c", "systemctl daemon-reload; systemctl restart ssh.socket 2>/dev/null || true; systemctl restart ssh"],
    rule: { action: "start-sshd", how: "the private sshd on 127.0.0.1 started with the drop-ins unless it runs" } },
];

const NOT_APPLIED_PACKAGES: Record<string, string> = {
  "unattended-upgrades": "would upgrade this machine's packages unattended (its config file is not applied either)",
};

const USER_FIELDS = ["name", "groups", "shell", "sudo", "lock_passwd", "ssh_authorized_keys"];

const fields = (entry: unknown): string[] => (entry && typeof entry === "object" ? Object.keys(entry) : []);

/** Top-level keys in the order cloud-init's modules act on them: a Rule for the key, or one for each entry. */
const KEYS: Record<string, Rule | EntryRule> = {
  write_files: (entry, unclassified) => {
    const path = String((entry as WriteFile).path);
    for (const f of fields(entry)) if (!WRITE_FILE_FIELDS.includes(f)) unclassified.push(`write_files ${path}: field ${f}`);
    const rule = WRITE_FILES.find((r) => (r.path.endsWith("/") ? path.startsWith(r.path) : path === r.path))?.rule;
    return { what: `write_files ${path}`, rule };
  },
  swap: { notApplied: "would create and enable a swap file on this shared machine" },
  groups: (entry) => ({ what: `groups ${JSON.stringify(entry)}`,
    rule: typeof entry === "string" ? { action: "group", how: "groupadd unless it exists (removed again by --destroy)" } : undefined }),
  users: (entry, unclassified) => {
    if (entry === "default") return { what: "users default", rule: { notApplied: "the cloud image's default user; this machine has none to create" } };
    const name = String((entry as CloudUser).name);
    for (const f of fields(entry)) if (!USER_FIELDS.includes(f)) unclassified.push(`users ${name}: field ${f}`);
    return { what: `users ${name}`, rule: typeof entry === "object" && entry
      ? { action: "user", how: "created with its groups, shell, locked password, authorized keys and sudo rules (removed again by --destroy)" } : undefined };
  },
  disable_root: { notApplied: "would rewrite root's authorized_keys on this machine; the droplet's sshd drop-in refuses root logins (PermitRootLogin no)" },
  ssh_pwauth: { action: "ssh-pwauth", how: "PasswordAuthentication in the private sshd's config, where cloud-init puts it (drop-in 50-cloud-init.conf)" },
  package_update: { notApplied: "this machine's package lists are .ci/bootstrap's business (it runs apt-get update before installing)" },
  package_upgrade: { notApplied: "upgrading this machine's packages is not the rehearsal's to do" },
  packages: (entry) => {
    const name = String(entry);
    const rule: Rule | undefined = NOT_APPLIED_PACKAGES[name] !== undefined ? { notApplied: NOT_APPLIED_PACKAGES[name] }
      : readDebianPackages().some((p) => p.name === name) ? { action: "package-installed", how: "installed by .ci/bootstrap (.ci/debian-packages); the boot checks that it is" }
      : undefined;
    return { what: `packages ${name}`, rule };
  },
  runcmd: (entry) => ({ what: `runcmd ${JSON.stringify(entry)}`,
    rule: RUNCMD.find((r) => JSON.stringify(r.command) === JSON.stringify(entry))?.rule }),
};

/**
 * Every part of the user-data, classified, in the order cloud-init acts on them. Throws naming every part that
 * is neither applied by the boot nor on the not-applied list.
 */
export function classifyUserData(userData: string): BootStep[] {
  if (!userData.startsWith("#cloud-config\n")) throw new Error("the droplet's user-data is not a #cloud-config document");
  const cc = (parseYaml(userData) ?? {}) as Record<string, unknown>;
  const steps: BootStep[] = [];
  const unclassified = Object.keys(cc).filter((k) => !(k in KEYS)).map((k) => `top-level key ${k}`);
  const add = (what: string, rule: Rule | undefined, value: unknown) => {
    if (!rule) unclassified.push(what);
    else steps.push("action" in rule ? { what, action: rule.action, how: rule.how, value } : { what, notApplied: rule.notApplied });
  };
  for (const [key, rule] of Object.entries(KEYS)) {
    if (!(key in cc)) continue;
    if (typeof rule !== "function") { add(key, rule, cc[key]); continue; }
    if (!Array.isArray(cc[key])) { unclassified.push(`${key} (not a list)`); continue; }
    for (const entry of cc[key] as unknown[]) {
      const { what, rule: entryRule } = rule(entry, unclassified);
      add(what, entryRule, entry);
    }
  }
  if (unclassified.length) {
    throw new Error("the droplet's user-data has parts the local droplet does not account for:\n" +
      unclassified.map((u) => `  ${u}\n`).join("") +
      "classify each in rehearsal/user-data.ts: apply it in the boot (rehearsal/droplet.ts), or list it as not applied locally with the reason");
  }
  return steps;
}

/** The parts not applied locally, as one log line (their reasons are above and in docs/rehearsal.md). */
export function notAppliedSummary(steps: BootStep[]): string {
  const parts = steps.flatMap((s) => ("notApplied" in s ? [s.what] : []));
  return `not applied locally (reasons: rehearsal/user-data.ts): ${parts.join("; ") || "nothing"}`;
}
