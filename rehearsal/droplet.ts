// The local "droplet": this machine plays the host the program creates. `prepareDroplet()` makes what the stack
// config needs before the program is evaluated (SSH key pair, sshd port); `bootDroplet()` then does what
// cloud-init does on first boot with the *recorded* user-data: every part of it is first classified
// (user-data.ts: applied here, or on the reviewed not-applied list with a reason; anything else fails the boot),
// then the applied parts run in cloud-init's order — groups and users (docker group, passwordless sudo,
// authorized keys), its sshd drop-ins for a private sshd on 127.0.0.1, the packages checked, runcmd's nginx and
// sshd steps (no systemd here: Debian's nginx is started directly) — and cloud-init is marked finished so the
// program's `cloud-init status --wait` returns. `wipeDroplet()` undoes all of it (the "droplet deleted").
import { mkdirSync, writeFileSync, readFileSync, existsSync, rmSync, symlinkSync, lstatSync, readdirSync } from "node:fs";
import { join, basename } from "node:path";
import { createServer } from "node:net";
import { run, runOk, startDaemon, waitFor, freePort } from "../test/support/proc.ts";
import { ensureDockerd } from "../test/support/docker.ts";
import { readJson, writeJson, pidAlive, stopPid } from "./state.ts";
import { classifyUserData, type BootAction, type BootStep, type CloudUser, type WriteFile } from "./user-data.ts";
import { CONNLIMIT_CHAIN, CONNLIMIT_UNIT, DEFAULT_CONNLIMIT_SCRIPT_PATH } from "../nginx/connlimit.ts";

export interface DropletKeys { sshPort: number; userKeyPath: string; publicKey: string; hostKeyPath: string }

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
  /** This machine's nginx.conf before the first boot: host-ready edits it (worker limits), wipe puts it back. */
  nginxConf?: string;
  /** Whether the connection-cap chain (host-ready's iptables rule) existed before the first boot. */
  connlimitBefore?: boolean;
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
const NGINX_CONF = "/etc/nginx/nginx.conf";
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

/** What the applied steps share: the boot record and the sshd drop-ins collected before sshd starts. */
interface BootContext { stateDir: string; keys: DropletKeys; rec: BootRecord; save: () => void; sshdDropIns: Map<string, string> }

/** One implementation per action user-data.ts may classify a part of the user-data as. */
const APPLY: Record<BootAction, (value: unknown, c: BootContext) => Promise<void>> = {
  group: async (name, c) => { await ensureGroup(String(name), c.rec); c.save(); },
  user: async (u, c) => { await ensureUser(u as CloudUser, c.rec); c.save(); },
  "sshd-drop-in": async (f, c) => { c.sshdDropIns.set(basename((f as WriteFile).path), (f as WriteFile).content ?? ""); },
  "ssh-pwauth": async (on, c) => { c.sshdDropIns.set("50-cloud-init.conf", `PasswordAuthentication ${on ? "yes" : "no"}\n`); },
  "package-installed": async (name) => {
    const r = await run("dpkg-query", ["-W", "-f=${Status}", String(name)]);
    if (!r.stdout.includes("install ok installed")) throw new Error(`the droplet's user-data installs package ${String(name)}, which is not installed here: run \`bash .ci/bootstrap\` as root`);
  },
  dockerd: async () => ensureDockerd(),
  "remove-default-site": async (_, c) => {
    if (lstatExists(DEFAULT_SITE)) { rmSync(DEFAULT_SITE); c.rec.removedDefaultSite = true; c.save(); }
  },
  "start-nginx": async (_, c) => {
    if (await nginxRunning()) return;
    for (const port of [80, 443]) {
      if (!(await portFree(port))) throw new Error(`port ${port} is in use by another program; the droplet's nginx needs 80 and 443 (stop it, or tear down the other rehearsal)`);
    }
    await runOk("nginx", []);
    c.rec.nginxStarted = true; c.save();
  },
  "start-sshd": async (_, c) => {
    if (pidAlive(c.rec.sshdPid)) return;
    const dropIns = [...c.sshdDropIns.keys()].sort().map((k) => c.sshdDropIns.get(k)!);
    c.rec.sshdPid = await startSshd(c.stateDir, c.keys, dropIns);
    c.save();
  },
};

/**
 * cloud-init's first boot, with the user-data the program recorded for the droplet. Idempotent. Fails before
 * changing anything when a part of the user-data is not classified; returns every part, applied or not.
 */
export async function bootDroplet(stateDir: string, keys: DropletKeys, userData: string): Promise<BootStep[]> {
  const steps = classifyUserData(userData);
  const rec: BootRecord = readJson<BootRecord>(bootFile(stateDir)) ?? { createdUsers: [], createdGroups: [], sudoersFiles: [],
    nginxStarted: false, removedDefaultSite: false, cloudInitMarker: false, before: await snapshot(),
    nginxConf: existsSync(NGINX_CONF) ? readFileSync(NGINX_CONF, "utf8") : undefined,
    connlimitBefore: (await run("iptables", ["-w", "-n", "-L", CONNLIMIT_CHAIN])).code === 0 };
  const c: BootContext = { stateDir, keys, rec, save: () => writeJson(bootFile(stateDir), rec), sshdDropIns: new Map() };
  for (const s of steps) if ("action" in s) await APPLY[s.action](s.value, c);

  if (!existsSync(join(CLOUD_INIT_RUN, "result.json"))) {
    const now = Math.floor(Date.now() / 1000);
    const stage = { errors: [], start: now, finished: now };
    mkdirSync(CLOUD_INIT_RUN, { recursive: true });
    writeFileSync(join(CLOUD_INIT_RUN, "status.json"), JSON.stringify({ v1: { datasource: "DataSourceNone",
      "init-local": stage, init: stage, "modules-config": stage, "modules-final": stage, stage: null } }));
    writeFileSync(join(CLOUD_INIT_RUN, "result.json"), JSON.stringify({ v1: { datasource: "DataSourceNone", errors: [] } }));
    rec.cloudInitMarker = true; c.save();
  }
  return steps;
}

async function ensureGroup(name: string, rec: BootRecord): Promise<void> {
  if ((await run("getent", ["group", name])).code !== 0) { await runOk("groupadd", [name]); rec.createdGroups.push(name); }
}

async function ensureUser(u: CloudUser, rec: BootRecord): Promise<void> {
  const groups = (Array.isArray(u.groups) ? u.groups : (u.groups ?? "").split(",")).map((g) => g.trim()).filter(Boolean);
  for (const g of groups) await ensureGroup(g, rec);
  if ((await run("id", [u.name])).code !== 0) {
    await runOk("useradd", ["--create-home", "--shell", u.shell ?? "/bin/sh", ...(groups.length ? ["--groups", groups.join(",")] : []), u.name]);
    rec.createdUsers.push(u.name);
  }
  if (u.lock_passwd !== false) await runOk("passwd", ["-l", u.name]); // lock_passwd: cloud-init's default is true
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
  // Where this private sshd lives; then the user-data's drop-ins (first value wins in sshd, and Ubuntu's
  // sshd_config includes sshd_config.d/*.conf before its own settings); then the stock settings the cloud image
  // ships with (UsePAM, AcceptEnv LANG LC_*, the sftp subsystem).
  writeFileSync(conf, [
    "ListenAddress 127.0.0.1",
    `HostKey ${keys.hostKeyPath}`,
    `PidFile ${join(stateDir, "sshd.pid")}`,
    ...fragments,
    "UsePAM yes",
    "AcceptEnv LANG LC_*",
    "Subsystem sftp /usr/lib/openssh/sftp-server",
    "PrintMotd no",
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
  await undoHostLimits(rec);
  if (rec.removedDefaultSite && !lstatExists(DEFAULT_SITE)) symlinkSync("/etc/nginx/sites-available/default", DEFAULT_SITE);
  for (const f of rec.sudoersFiles) rmSync(f, { force: true });
  for (const u of rec.createdUsers) await run("userdel", ["--remove", u]);
  for (const g of rec.createdGroups.reverse()) if (g !== "docker") await run("groupdel", [g]);
  if (rec.cloudInitMarker) rmSync(CLOUD_INIT_RUN, { recursive: true, force: true });
  rmSync(bootFile(stateDir), { force: true });
  return removed;
}

/** What host-ready's host limits did to this machine (nginx.conf worker limits, the iptables cap): undone. */
async function undoHostLimits(rec: BootRecord): Promise<void> {
  if (rec.nginxConf !== undefined && existsSync(NGINX_CONF) && readFileSync(NGINX_CONF, "utf8") !== rec.nginxConf) writeFileSync(NGINX_CONF, rec.nginxConf);
  if (rec.connlimitBefore) return;
  for (const ipt of ["iptables", "ip6tables"]) {
    for (let i = 0; i < 10 && (await run(ipt, ["-w", "-D", "INPUT", "-j", CONNLIMIT_CHAIN])).code === 0; i++);
    await run(ipt, ["-w", "-F", CONNLIMIT_CHAIN]);
    await run(ipt, ["-w", "-X", CONNLIMIT_CHAIN]);
  }
  rmSync(`/etc/systemd/system/${CONNLIMIT_UNIT}.service`, { force: true });
  rmSync(DEFAULT_CONNLIMIT_SCRIPT_PATH, { force: true });
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

