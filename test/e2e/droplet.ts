// The local "droplet": this machine plays the host the program creates. `prepareDroplet()` makes what the stack
// config needs before the program is evaluated (SSH key pair, sshd port); `bootDroplet()` then does what
// cloud-init does on first boot with the *recorded* user-data — creates its users and groups (docker group,
// passwordless sudo, authorized keys), applies its sshd fragment to a private sshd on 127.0.0.1, removes
// nginx's default site and starts Debian's nginx (no systemd here), and marks cloud-init finished so the
// program's `cloud-init status --wait` returns. `wipeDroplet()` undoes all of it (the "droplet deleted").
import { mkdirSync, writeFileSync, readFileSync, existsSync, rmSync, symlinkSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { parse as parseYaml } from "yaml";
import { run, runOk, startDaemon, waitFor, freePort } from "../support/proc.ts";
import { readJson, writeJson, pidAlive, stopPid } from "./state.ts";

export interface DropletKeys { sshPort: number; userKeyPath: string; publicKey: string; hostKeyPath: string }

interface CloudUser { name: string; groups?: string[] | string; shell?: string; sudo?: string | string[]; ssh_authorized_keys?: string[] }
interface CloudConfig { groups?: (string | Record<string, unknown>)[]; users?: (CloudUser | string)[]; write_files?: { path: string; content?: string }[] }

/** What boot changed on this machine, so wipe can undo exactly that. */
interface BootRecord {
  createdUsers: string[];
  createdGroups: string[];
  sudoersFiles: string[];
  sshdPid?: number;
  nginxStarted: boolean;
  removedDefaultSite: boolean;
  cloudInitMarker: boolean;
  /** Entries of WATCHED_DIRS and docker volumes that existed before the first boot. */
  before: Record<string, string[]>;
}

/**
 * Directories whose new entries belong to the "droplet" (a deleted droplet takes them along): what the deploy
 * scripts and certbot create under them is removed by wipe. Entries under the shared ones (/var/lib, /var/www)
 * only when the recorded plan names them, so nothing else on this machine is touched.
 */
const WATCHED_DIRS: { dir: string; onlyIfPlanned: boolean }[] = [
  { dir: "/etc/letsencrypt", onlyIfPlanned: false },
  { dir: "/etc/nginx", onlyIfPlanned: false },
  { dir: "/etc/nginx/conf.d", onlyIfPlanned: false },
  { dir: "/etc/nginx/sites-enabled", onlyIfPlanned: false },
  { dir: "/var/lib", onlyIfPlanned: true },
  { dir: "/var/www", onlyIfPlanned: true },
  { dir: "/var/log", onlyIfPlanned: true },
  { dir: "/var/log/nginx", onlyIfPlanned: true },
  { dir: "/usr/local/sbin", onlyIfPlanned: true },
];
const VOLUMES = "docker volumes";

async function snapshot(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const { dir } of WATCHED_DIRS) out[dir] = existsSync(dir) ? readdirSync(dir) : [];
  const v = await run("docker", ["volume", "ls", "-q"]);
  out[VOLUMES] = v.code === 0 ? v.stdout.split("\n").filter(Boolean) : [];
  return out;
}

const DEFAULT_SITE = "/etc/nginx/sites-enabled/default";
const CLOUD_INIT_RUN = "/run/cloud-init";
const bootFile = (stateDir: string) => join(stateDir, "droplet.json");

/** SSH keys and the sshd port; reused by later runs (so the stack config, and thus the plan, stays the same). */
export async function prepareDroplet(stateDir: string): Promise<DropletKeys> {
  const file = join(stateDir, "droplet-keys.json");
  const known = readJson<DropletKeys>(file);
  if (known && existsSync(known.userKeyPath) && existsSync(known.hostKeyPath)) return known;
  const dir = join(stateDir, "ssh");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const userKeyPath = join(dir, "deploy_ed25519");
  const hostKeyPath = join(dir, "ssh_host_ed25519_key");
  for (const k of [userKeyPath, hostKeyPath]) {
    rmSync(k, { force: true }); rmSync(`${k}.pub`, { force: true });
    await runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "selfhosted-mcp-rehearsal", "-f", k]);
  }
  const keys: DropletKeys = { sshPort: await freePort(), userKeyPath, hostKeyPath,
    publicKey: readFileSync(`${userKeyPath}.pub`, "utf8").trim() };
  writeJson(file, keys);
  return keys;
}

/** cloud-init's first boot, with the user-data the program recorded for the droplet. Idempotent. */
export async function bootDroplet(stateDir: string, keys: DropletKeys, userData: string): Promise<void> {
  const rec: BootRecord = readJson<BootRecord>(bootFile(stateDir)) ?? { createdUsers: [], createdGroups: [], sudoersFiles: [],
    nginxStarted: false, removedDefaultSite: false, cloudInitMarker: false, before: await snapshot() };
  const save = () => writeJson(bootFile(stateDir), rec);
  if (!userData.startsWith("#cloud-config")) throw new Error("the droplet's user-data is not a #cloud-config document");
  const cc = parseYaml(userData) as CloudConfig;

  for (const g of cc.groups ?? []) {
    const name = typeof g === "string" ? g : Object.keys(g)[0]!;
    if ((await run("getent", ["group", name])).code !== 0) {
      await runOk("groupadd", [name]); rec.createdGroups.push(name); save();
    }
  }
  for (const u of cc.users ?? []) {
    if (typeof u === "string") continue; // "default": the image's default user, none here
    await ensureUser(u, rec);
    save();
  }

  const fragments = (cc.write_files ?? []).filter((f) => f.path.startsWith("/etc/ssh/sshd_config.d/")).map((f) => f.content ?? "");
  if (!pidAlive(rec.sshdPid)) {
    rec.sshdPid = await startSshd(stateDir, keys, fragments);
    save();
  }

  // runcmd's effect on nginx (systemd is not PID 1 here, so the host's nginx is started directly).
  if (lstatExists(DEFAULT_SITE)) { rmSync(DEFAULT_SITE); rec.removedDefaultSite = true; save(); }
  if (!(await nginxRunning())) {
    for (const port of [80, 443]) {
      if (!(await portFree(port))) throw new Error(`port ${port} is in use by another program; the droplet's nginx needs 80 and 443 (stop it, or tear down the other rehearsal)`);
    }
    await runOk("nginx", []);
    rec.nginxStarted = true; save();
  }

  if (!existsSync(join(CLOUD_INIT_RUN, "result.json"))) {
    const now = Math.floor(Date.now() / 1000);
    const stage = { errors: [], start: now, finished: now };
    mkdirSync(CLOUD_INIT_RUN, { recursive: true });
    writeFileSync(join(CLOUD_INIT_RUN, "status.json"), JSON.stringify({ v1: { datasource: "DataSourceNone",
      "init-local": stage, init: stage, "modules-config": stage, "modules-final": stage, stage: null } }));
    writeFileSync(join(CLOUD_INIT_RUN, "result.json"), JSON.stringify({ v1: { datasource: "DataSourceNone", errors: [] } }));
    rec.cloudInitMarker = true; save();
  }
}

async function ensureUser(u: CloudUser, rec: BootRecord): Promise<void> {
  const groups = (Array.isArray(u.groups) ? u.groups : (u.groups ?? "").split(",")).map((g) => g.trim()).filter(Boolean);
  for (const g of groups) {
    if ((await run("getent", ["group", g])).code !== 0) { await runOk("groupadd", [g]); rec.createdGroups.push(g); }
  }
  if ((await run("id", [u.name])).code !== 0) {
    await runOk("useradd", ["--create-home", "--shell", u.shell ?? "/bin/sh", ...(groups.length ? ["--groups", groups.join(",")] : []), u.name]);
    rec.createdUsers.push(u.name);
  }
  await runOk("passwd", ["-l", u.name]); // lock_passwd (cloud-init's default)
  const home = (await runOk("getent", ["passwd", u.name])).stdout.split(":")[5]!;
  if (u.ssh_authorized_keys?.length) {
    mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, ".ssh", "authorized_keys"), u.ssh_authorized_keys.join("\n") + "\n", { mode: 0o600 });
    await runOk("chown", ["-R", `${u.name}:`, join(home, ".ssh")]);
  }
  if (u.sudo) {
    const file = `/etc/sudoers.d/90-rehearsal-${u.name}`;
    const rules = (Array.isArray(u.sudo) ? u.sudo : [u.sudo]).map((r) => `${u.name} ${r}`).join("\n") + "\n";
    writeFileSync(file, rules, { mode: 0o440 });
    await runOk("visudo", ["-c", "-f", file]);
    if (!rec.sudoersFiles.includes(file)) rec.sudoersFiles.push(file);
  }
}

async function startSshd(stateDir: string, keys: DropletKeys, fragments: string[]): Promise<number> {
  const conf = join(stateDir, "sshd_config");
  // Base: where this private sshd lives, plus Ubuntu's stock settings the cloud image ships with
  // (UsePAM, AcceptEnv LANG LC_*, the sftp subsystem); then the program's own hardening fragment.
  writeFileSync(conf, [
    "ListenAddress 127.0.0.1",
    `HostKey ${keys.hostKeyPath}`,
    `PidFile ${join(stateDir, "sshd.pid")}`,
    "UsePAM yes",
    "AcceptEnv LANG LC_*",
    "Subsystem sftp /usr/lib/openssh/sftp-server",
    "PrintMotd no",
    ...fragments,
    "",
  ].join("\n"), { mode: 0o600 });
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const check = await run("/usr/sbin/sshd", ["-t", "-f", conf]);
  if (check.code !== 0) throw new Error(`sshd rejected its config (${conf}):\n${check.stderr}`);
  const port = /^\s*Port\s+(\d+)/m.exec(fragments.join("\n"))?.[1];
  if (port && Number(port) !== keys.sshPort) throw new Error(`the user-data's sshd Port ${port} differs from the connection's sshPort ${keys.sshPort}`);
  const d = startDaemon("/usr/sbin/sshd", ["-D", "-e", "-f", conf, ...(port ? [] : ["-p", String(keys.sshPort)])], join(stateDir, "sshd.log"));
  await waitFor("sshd to accept connections", async () => {
    if (!pidAlive(d.pid)) throw new Error(`sshd exited:\n${d.log()}`);
    return (await run("ssh-keyscan", ["-p", String(keys.sshPort), "-T", "2", "127.0.0.1"], { timeoutMs: 5_000 })).stdout.includes("ssh-ed25519");
  }, { timeoutMs: 15_000, intervalMs: 200 });
  return d.pid;
}

async function nginxRunning(): Promise<boolean> {
  const pid = Number(readFileIfExists("/run/nginx.pid").trim());
  return pidAlive(pid || undefined);
}

/**
 * The "droplet is destroyed": undo what boot did (users, sudoers, sshd, nginx, cloud-init marker) and remove
 * what was created on the host since (certificates, state, nginx files, data volumes). `planText` is the
 * recorded plan (JSON) — the names it mentions decide what under the shared directories is ours.
 */
export async function wipeDroplet(stateDir: string, planText: string): Promise<string[]> {
  const rec = readJson<BootRecord>(bootFile(stateDir));
  if (!rec) return [];
  const removed: string[] = [];
  await stopPid(rec.sshdPid);
  if (rec.nginxStarted && (await nginxRunning())) {
    await run("nginx", ["-s", "quit"]);
    await waitFor("nginx to quit", async () => !(await nginxRunning()), { timeoutMs: 15_000 }).catch(() => undefined);
  }
  const now = await snapshot();
  for (const { dir, onlyIfPlanned } of WATCHED_DIRS) {
    for (const e of now[dir] ?? []) {
      if ((rec.before[dir] ?? []).includes(e) || (onlyIfPlanned && !planText.includes(`${dir}/${e}`))) continue;
      rmSync(join(dir, e), { recursive: true, force: true });
      removed.push(join(dir, e));
    }
  }
  for (const v of now[VOLUMES] ?? []) {
    if ((rec.before[VOLUMES] ?? []).includes(v) || !planText.includes(v)) continue;
    const r = await run("docker", ["volume", "rm", v]);
    if (r.code === 0) removed.push(`docker volume ${v}`);
  }
  if (rec.removedDefaultSite && !lstatExists(DEFAULT_SITE)) symlinkSync("/etc/nginx/sites-available/default", DEFAULT_SITE);
  for (const f of rec.sudoersFiles) rmSync(f, { force: true });
  for (const u of rec.createdUsers) await run("userdel", ["--remove", u]);
  for (const g of rec.createdGroups.reverse()) if (g !== "docker") await run("groupdel", [g]);
  if (rec.cloudInitMarker) rmSync(CLOUD_INIT_RUN, { recursive: true, force: true });
  rmSync(bootFile(stateDir), { force: true });
  return removed;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

function lstatExists(p: string): boolean {
  try { lstatSync(p); return true; } catch { return false; }
}

function readFileIfExists(p: string): string {
  try { return readFileSync(p, "utf8"); } catch { return ""; }
}

