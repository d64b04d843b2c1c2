// One rehearsal droplet: a qemu (TCG) VM booted from the cached disk image (image.ts) with the EXACT user-data the
// program registered, consumed by real cloud-init from a NoCloud seed. The instance owns everything it makes, all
// under its state directory: its SSH key, its overlay disk and seed, the qemu process (by PID), the loopback ports
// forwarded to the guest (SSH, 80, 443) and the reverse tunnel that lets the guest reach the host's registry, ACME
// CA and upstream stand-in on the SAME loopback addresses the program was configured with. Nothing of it lives in a
// host-global place, so any number of instances run side by side; destroy() stops the processes by PID and removes
// the directory.
//
// Why a reverse SSH tunnel (and not a TLS registry with a name): the image the host pushes is
// `127.0.0.1:PORT/repo@sha256:…`; with `ssh -R 127.0.0.1:P:127.0.0.1:P` for each host service, the guest's
// loopback answers on the same ports, so the guest's docker pulls under the same name (127.0.0.0/8 registries are
// insecure-by-default for docker: daemon.json stays the product's), certbot reaches the same ACME URL, and the
// containers (--network host) reach the same UPSTREAM_URL. It uses only what the product's sshd allows (the
// deploy user, its key, sshd's default AllowTcpForwarding yes).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { run, runOk, startDaemon, waitFor, distinctFreePorts, type RunResult } from "../../test/support/proc.ts";
import { readJson, writeJson, pidAlive, stopPid } from "../state.ts";
import type { VmImage } from "./image.ts";
import { holdPorts, releasePorts } from "./held-ports.ts";
import { muxOptions, stopControlMaster } from "./ssh-control.ts";

/** Host loopback ports forwarded into the guest (guest sshd listens on `ssh` itself: the stack's sshPort). */
export interface VmPorts { ssh: number; http: number; https: number }

export interface VmRecord {
  ports: VmPorts;
  keyPath: string;
  publicKey: string;
  /** Set once booted. */
  qemuPid?: number;
  tunnelPid?: number;
  tunnelPorts?: number[];
  userDataHash?: string;
  user?: string;
  memoryMb?: number;
  vcpus?: number;
  /** When the last hard power-off (a resize) stopped qemu, epoch ms. */
  poweredOffAt?: number;
}

export interface BootSpec {
  image: VmImage;
  userData: string;
  /** The droplet's name (cloud-init's local-hostname, like DigitalOcean's metadata). */
  hostname: string;
  memoryMb: number;
  vcpus: number;
  /** Bound on boot until the deploy user's SSH answers (TCG boots take 1-3 min on a quiet machine; default 20 min). */
  timeoutMs?: number;
}

export const QEMU = "qemu-system-x86_64";
/**
 * vCPUs the VM gets at least: TCG runs one host thread per vCPU, and a 1-vCPU guest boots (cloud-init, dockerd)
 * about half as fast; the droplet's memory is what the rehearsal must reproduce, its CPU cannot be anyway.
 */
const TCG_MIN_VCPUS = 2;
/**
 * AppArmor off in the guest: compiling its profiles at every boot (apparmor.service, then dockerd's docker-default)
 * took 60 s and more of emulated CPU per boot under TCG. The droplet enforces them; nothing the rehearsal proves
 * depends on them (docs/rehearsal.md, "What differs").
 */
const KERNEL_CMDLINE_EXTRA = "apparmor=0";
/**
 * The guest's CPU model: `max`. The plainer qemu64 (SSE2, no AVX) emulated 12-18 % faster one VM at a time (boot to
 * cloud-init done 103-106 vs 118-119 s, `docker run node` 10.9-12.8 vs 13.4-14.2 s), but its guest has no usable TSC
 * and keeps time with the HPET, whose every read is an emulated device access: in CI (two VMs and the host tests on 2
 * cores) the first deploy's remote steps took 492 s instead of 331 s with it.
 */
const CPU_MODEL = "max";

/** Fails with the install command when qemu (or the seed/overlay tools) is missing. */
export async function requireQemu(): Promise<void> {
  const missing: string[] = [];
  for (const p of [QEMU, "qemu-img", "genisoimage"]) if ((await run("sh", ["-c", `command -v ${p}`])).code !== 0) missing.push(p);
  if (missing.length) {
    throw new Error(`the rehearsal boots its droplet as a qemu VM, and ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} missing: ` +
      "run `bash .ci/bootstrap` as root (or apt-get install -y --no-install-recommends qemu-system-x86 qemu-utils genisoimage)");
  }
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

export class DropletVm {
  readonly dir: string;
  private rec: VmRecord;

  private constructor(dir: string, rec: VmRecord) { this.dir = dir; this.rec = rec; }

  /**
   * The instance of a state dir: its key and ports, made on first use and reused (they are stack config). Until
   * qemu binds them, the forwarded ports are held by listeners of this process, so that no other port pick (this
   * instance's registry and pebble, another instance) is handed the same port meanwhile: a free-port pick only
   * asks the kernel for a port nobody holds, and qemu exits with "Could not set up host forwarding rule" when one
   * was taken (seen: the instance's own pebble got its VM's port 80 forward between the pick and the boot).
   */
  static async open(stateDir: string): Promise<DropletVm> {
    const dir = join(stateDir, "vm");
    const known = readJson<VmRecord>(join(dir, "vm.json"));
    if (known && existsSync(known.keyPath)) {
      const vm = new DropletVm(dir, known);
      if (!vm.running) await holdPorts(Object.values(vm.ports));
      return vm;
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keyPath = join(dir, "deploy_ed25519");
    rmSync(keyPath, { force: true }); rmSync(`${keyPath}.pub`, { force: true });
    await runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "selfhosted-mcp-rehearsal", "-f", keyPath]);
    const ports = await distinctFreePorts(3);
    const vm = new DropletVm(dir, { keyPath, publicKey: readFileSync(`${keyPath}.pub`, "utf8").trim(),
      ports: { ssh: ports[0]!, http: ports[1]!, https: ports[2]! } });
    vm.save();
    await holdPorts(Object.values(vm.ports));
    return vm;
  }

  /** The instance recorded in a state dir, if any (for destroy). */
  static existing(stateDir: string): DropletVm | undefined {
    const rec = readJson<VmRecord>(join(stateDir, "vm", "vm.json"));
    return rec ? new DropletVm(join(stateDir, "vm"), rec) : undefined;
  }

  get ports(): VmPorts { return this.rec.ports; }
  get keyPath(): string { return this.rec.keyPath; }
  get publicKey(): string { return this.rec.publicKey; }
  get user(): string { return this.rec.user ?? "deploy"; }
  get qemuPid(): number | undefined { return this.rec.qemuPid; }
  get tunnelPid(): number | undefined { return this.rec.tunnelPid; }
  get running(): boolean { return pidAlive(this.rec.qemuPid); }
  get memoryMb(): number | undefined { return this.rec.memoryMb; }
  get vcpus(): number | undefined { return this.rec.vcpus; }
  get poweredOffAt(): number | undefined { return this.rec.poweredOffAt; }
  /** The command a person types to get a shell on the droplet. */
  get sshCommand(): string { return `ssh -p ${this.ports.ssh} -i ${this.keyPath} ${this.user}@127.0.0.1`; }
  consoleLog(lines = 40): string {
    try { return readFileSync(join(this.dir, "console.log"), "utf8").trimEnd().split("\n").slice(-lines).join("\n"); } catch { return ""; }
  }

  private save(): void { writeJson(join(this.dir, "vm.json"), this.rec); }

  /**
   * Boots the droplet (idempotent: a running VM with the same user-data and size is kept, like a droplet that
   * exists). A running VM whose memory or vCPUs differ from the spec is RESIZED the way the DigitalOcean provider
   * resizes a droplet in place (terraform-provider-digitalocean droplet/resource_droplet.go, Update on a `size`
   * change: DropletActions.PowerOff — a hard power-off, "like pulling the power cord" — then Resize, then PowerOn):
   * qemu is stopped without a guest shutdown, then started again on the same disk with the new size; the guest's
   * unflushed page cache is lost exactly as on the droplet. A changed user-data would replace the droplet on
   * DigitalOcean: here it is an error naming --destroy.
   */
  async boot(spec: BootSpec): Promise<"booted" | "running" | "resized"> {
    const udHash = sha(spec.userData);
    if (this.rec.userDataHash && this.rec.userDataHash !== udHash) {
      throw new Error("the droplet's user-data changed since it was booted (DigitalOcean would replace the droplet): " +
        "run `npm run rehearse -- --destroy` (with the same --state-dir) and rehearse again");
    }
    const vcpus = Math.max(TCG_MIN_VCPUS, spec.vcpus);
    const resize = this.running && (this.rec.memoryMb !== spec.memoryMb || this.rec.vcpus !== vcpus);
    if (this.running && !resize) return "running";
    if (resize) await this.powerOff();
    const users = (parseYaml(spec.userData) as { users?: ({ name?: string } | string)[] }).users ?? [];
    const user = users.map((u) => (typeof u === "object" ? u.name : undefined)).find(Boolean);
    if (!user) throw new Error("the droplet's user-data creates no user to connect as");
    Object.assign(this.rec, { userDataHash: udHash, user, memoryMb: spec.memoryMb, vcpus });
    const overlay = join(this.dir, "disk.qcow2");
    // First boot: a fresh overlay and seed. A stopped VM (e.g. after the host restarted) boots its own disk again.
    if (!existsSync(overlay)) {
      await runOk("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", spec.image.disk, overlay]);
      const seed = join(this.dir, "seed");
      mkdirSync(seed, { recursive: true });
      writeFileSync(join(seed, "user-data"), spec.userData);
      // instance-id: unique per instance and user-data, so cloud-init runs its once-per-instance modules.
      writeFileSync(join(seed, "meta-data"), `instance-id: rehearsal-${sha(this.dir + udHash).slice(0, 16)}\nlocal-hostname: ${spec.hostname}\n`);
      await runOk("genisoimage", ["-quiet", "-output", join(this.dir, "seed.iso"), "-volid", "cidata", "-joliet", "-rock",
        join(seed, "user-data"), join(seed, "meta-data")]);
    }
    const { ssh, http, https } = this.ports;
    await releasePorts(Object.values(this.ports));
    const d = startDaemon(QEMU, [
      "-accel", "tcg", "-cpu", CPU_MODEL, "-m", String(spec.memoryMb), "-smp", String(this.rec.vcpus), "-nodefaults",
      "-kernel", spec.image.kernel, "-initrd", spec.image.initrd,
      "-append", `root=/dev/vda rw console=ttyS0 net.ifnames=0 ${KERNEL_CMDLINE_EXTRA}`,
      "-drive", `file=${overlay},format=qcow2,if=virtio`,
      "-drive", `file=${join(this.dir, "seed.iso")},format=raw,if=virtio,readonly=on`,
      "-netdev", `user,id=n0,hostfwd=tcp:127.0.0.1:${ssh}-:${ssh},hostfwd=tcp:127.0.0.1:${http}-:80,hostfwd=tcp:127.0.0.1:${https}-:443`,
      "-device", "virtio-net-pci,netdev=n0,romfile=", "-device", "virtio-rng-pci",
      "-display", "none", "-vga", "none", "-monitor", "none", "-serial", `file:${join(this.dir, "console.log")}`,
    ], join(this.dir, "qemu.log"));
    this.rec.qemuPid = d.pid;
    this.save();
    try {
      await waitFor(`the droplet VM to boot and its ${user} user to log in over SSH on 127.0.0.1:${ssh}`, async () => {
        if (!pidAlive(d.pid)) throw new Error(`qemu exited:\n${d.log()}`);
        // A generous banner timeout: under TCG on a busy machine sshd may take tens of seconds to answer.
        return (await this.ssh("true", { timeoutMs: 90_000, connectTimeoutS: 60, direct: true })).code === 0;
      }, { timeoutMs: spec.timeoutMs ?? 1_200_000, intervalMs: 2_000 });
    } catch (e) {
      await this.stopVm();
      throw new Error(`${(e as Error).message}\n--- console (last lines)\n${this.consoleLog()}`);
    }
    return resize ? "resized" : "booted";
  }

  /**
   * A hard power-off: qemu ends on SIGTERM without telling the guest (no ACPI event), the way DigitalOcean's
   * power_off action cuts a droplet's power. The disk keeps what the guest had written to it; the forwarded ports
   * are held again until the next power-on. The tunnel keeper reconnects by itself once SSH answers again.
   */
  private async powerOff(): Promise<void> {
    await stopPid(this.rec.qemuPid, 20_000);
    await stopControlMaster(this.dir);
    Object.assign(this.rec, { qemuPid: undefined, poweredOffAt: Date.now() });
    this.save();
    await holdPorts(Object.values(this.ports));
  }

  /** ssh argv (without the command) as the deploy user, the way a person or the deploy would connect. */
  sshArgs(connectTimeoutS = 15): string[] {
    return ["-p", String(this.ports.ssh), "-i", this.keyPath, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
      "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
      "-o", `ConnectTimeout=${connectTimeoutS}`, `${this.user}@127.0.0.1`];
  }

  /**
   * Runs a shell command in the guest as the deploy user (use `sudo -n` for root). Never throws on exit code.
   * Multiplexed over one held SSH connection (ssh-control.ts) while the VM runs; `direct` always connects anew
   * (what the deploy's own commands do: @pulumi/command dials per command, see rehearsal/ssh-dial.ts).
   */
  ssh(command: string, opts: { timeoutMs?: number; input?: string; connectTimeoutS?: number; direct?: boolean } = {}): Promise<RunResult> {
    const mux = opts.direct || !this.running ? [] : muxOptions(this.dir, this.sshArgs(60));
    return run("ssh", [...mux, ...this.sshArgs(opts.connectTimeoutS), command], { timeoutMs: opts.timeoutMs ?? 120_000, input: opts.input });
  }


  async sshOk(command: string, opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    const r = await this.ssh(command, opts);
    if (r.code !== 0) throw new Error(`in the droplet: ${command} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  /** Writes a file in the guest as root (mode 0644), e.g. the private ACME CA's bundle the operator provides. */
  async installFile(path: string, content: string): Promise<void> {
    await this.sshOk(`sudo -n install -D -m 0644 /dev/stdin '${path}'`, { input: content });
  }

  /**
   * Holds `ssh -N -R 127.0.0.1:P:127.0.0.1:P` for each port (host loopback = guest loopback for them), reconnecting
   * after a reboot; returns once the guest reaches the first port (also when the keeper already ran: after a power
   * cycle it reconnects by itself, but only once the guest's sshd is back). The keeper loop ends with its state dir
   * or by PID.
   */
  async startTunnel(ports: number[], probeUrl: string): Promise<void> {
    if (!pidAlive(this.rec.tunnelPid) || JSON.stringify(this.rec.tunnelPorts) !== JSON.stringify(ports)) await this.startTunnelKeeper(ports);
    const pid = this.rec.tunnelPid;
    // Bounded at 5 min: under TCG on a busy machine one SSH login alone can take tens of seconds.
    let last = "";
    try {
      await waitFor(`the droplet to reach ${probeUrl} through the tunnel`, async () => {
        if (!pidAlive(pid)) throw new Error("the tunnel keeper exited");
        const r = await this.ssh(`curl -sS -o /dev/null -m 10 ${probeUrl}`, { timeoutMs: 60_000 });
        last = `exit ${r.code}: ${r.stderr.trim()}`;
        return r.code === 0;
      }, { timeoutMs: 300_000, intervalMs: 2_000 });
    } catch (e) {
      const log = readFileSync(join(this.dir, "tunnel.log"), "utf8").trimEnd().split("\n").slice(-10).join("\n");
      throw new Error(`${(e as Error).message}\nlast probe: ${last}\n--- tunnel log (last lines)\n${log}`);
    }
  }

  /** (Re)starts the keeper loop of the tunnel's ssh for these ports. */
  private async startTunnelKeeper(ports: number[]): Promise<void> {
    await stopPid(this.rec.tunnelPid);
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const forwards = ports.flatMap((p) => ["-R", `127.0.0.1:${p}:127.0.0.1:${p}`]);
    const ssh = ["ssh", "-N", "-o", "ExitOnForwardFailure=yes", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
      ...forwards, ...this.sshArgs(60)].map(q).join(" ");
    // The pause between reconnects is a retry backoff (the guest may be rebooting), not a synchronisation.
    const loop = `while [ -d ${q(this.dir)} ]; do ${ssh}; sleep 2; done`;
    const d = startDaemon("bash", ["-c", loop], join(this.dir, "tunnel.log"));
    Object.assign(this.rec, { tunnelPid: d.pid, tunnelPorts: ports });
    this.save();
  }

  private async stopVm(): Promise<void> {
    await releasePorts(Object.values(this.ports));
    await stopPid(this.rec.tunnelPid);
    await stopControlMaster(this.dir);
    await stopPid(this.rec.qemuPid, 20_000);
    Object.assign(this.rec, { tunnelPid: undefined, qemuPid: undefined });
    if (existsSync(this.dir)) this.save();
  }

  /** The droplet is deleted: tunnel and qemu stopped by PID, disk, seed, keys and logs removed. */
  async destroy(): Promise<void> {
    await this.stopVm();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
