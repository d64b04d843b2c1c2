// `selfhosted-mcp usage`: per-credential, per-tool usage totals for a period, from the server's usage ledger
// (contract/usage-ledger.ts) — read from a ledger file (`--file`), or on the droplet over SSH (`--ssh`): the query
// runs inside the running server container (`docker exec … node`, read-only open of /data/usage.sqlite on the
// `<app>-data` volume, see contract/run-contract.ts and infra/render/deployment-plan.ts), so the droplet needs
// nothing beyond what the deployment installed, and no ledger file leaves it. Exit 0 ok, 1 failure, 2 bad usage.
import { parseArgs } from "node:util";
import { spawn } from "node:child_process";
import { DatabaseSync } from "node:sqlite";
import { LEDGER_FILE, MAX_TOTAL_ROWS, TOTALS_SQL, totalsScript, type UsageTotal } from "../contract/usage-ledger.ts";
import { shellCommand } from "../contract/shell.ts";

export const USAGE_HELP = `usage: selfhosted-mcp usage (--file <ledger> | --ssh <user@host>) [options]

  --file <path>          a ledger file: usage.sqlite from the server's DATA_DIR, or a copy of it
  --ssh <user@host>      read the ledger on the droplet (the deploy user; needs docker access)
  --ssh-port <n>         SSH port (default 22)
  --identity <file>      SSH private key (ssh -i)
  --known-hosts <file>   known_hosts file to use (ssh -o UserKnownHostsFile=…)
  --app <name>           the deployment's app name: the ledger is on volume <app>-data (default mcp)
  --data-dir <path>      where that volume is mounted in the container (default /data)
  --since <date>         start of the period, inclusive: YYYY-MM-DD or an ISO 8601 time (default: 1st of this month, UTC)
  --until <date>         end of the period, exclusive (default: now); the period is at most ${"366"} days
  --json                 print JSON instead of a table
`;

export class UsageError extends Error {}

const MAX_PERIOD_DAYS = 366;
const SSH_TIMEOUT_MS = 60_000;
/** Most bytes read from the remote query (MAX_TOTAL_ROWS rows of bounded fields fit well inside). */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface UsageReport { since: string; until: string; source: string; truncated: boolean; totals: UsageTotal[] }

function parseTime(name: string, v: string): Date {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime())) throw new UsageError(`--${name}: "${v}" is not a date (YYYY-MM-DD) or an ISO 8601 time`);
  return d;
}

/** [since, until) as ISO strings; bounded to MAX_PERIOD_DAYS. */
export function period(since: string | undefined, until: string | undefined, now = new Date()): { since: string; until: string } {
  const s = since ? parseTime("since", since) : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const u = until ? parseTime("until", until) : now;
  if (u <= s) throw new UsageError(`--until (${u.toISOString()}) must be after --since (${s.toISOString()})`);
  if (u.getTime() - s.getTime() > MAX_PERIOD_DAYS * 86_400_000) throw new UsageError(`the period is longer than ${MAX_PERIOD_DAYS} days: run one report per year`);
  return { since: s.toISOString(), until: u.toISOString() };
}

function fromFile(file: string, p: { since: string; until: string }): UsageTotal[] {
  let db: DatabaseSync;
  try { db = new DatabaseSync(file, { readOnly: true }); } catch (e) { throw new Error(`cannot open ledger ${file}: ${(e as Error).message}`); }
  try { return db.prepare(TOTALS_SQL).all(p.since, p.until, MAX_TOTAL_ROWS + 1).map((r) => ({ ...r }) as unknown as UsageTotal); } finally { db.close(); }
}

export interface SshTarget { target: string; port: number; identity?: string; knownHosts?: string; app: string; dataDir: string }

/** The command the droplet's shell runs: find the running container that mounts <app>-data, run node in it (script on stdin). */
export function remoteCommand(app: string): string {
  const volume = `${app}-data`;
  const find = shellCommand(["docker", "ps", "--quiet", "--filter", `volume=${volume}`, "--filter", "status=running"]);
  return `c=$(${find} | head -n 1); [ -n "$c" ] || { echo "no running container mounts volume ${volume} (is --app right? is the server up?)" >&2; exit 3; }; ` +
    `exec docker exec -i "$c" node --input-type=module -`;
}

async function overSsh(t: SshTarget, p: { since: string; until: string }): Promise<UsageTotal[]> {
  const args = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-p", String(t.port)];
  if (t.identity) args.push("-i", t.identity);
  if (t.knownHosts) args.push("-o", `UserKnownHostsFile=${t.knownHosts}`, "-o", "StrictHostKeyChecking=accept-new");
  args.push(t.target, remoteCommand(t.app));
  const script = totalsScript(`${t.dataDir.replace(/\/+$/, "")}/${LEDGER_FILE}`, p.since, p.until);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), SSH_TIMEOUT_MS);
    child.stdout.on("data", (d) => { stdout += d; if (stdout.length > MAX_OUTPUT_BYTES) child.kill("SIGKILL"); });
    child.stderr.on("data", (d) => { if (stderr.length < 4096) stderr += d; });
    child.on("error", (e) => { clearTimeout(timer); reject(new Error(`cannot run ssh: ${e.message}`)); });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`ssh ${t.target}: ${signal ? `killed (${signal}: timeout ${SSH_TIMEOUT_MS} ms or output over ${MAX_OUTPUT_BYTES} bytes)` : `exit ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ""}`));
    });
    child.stdin.on("error", () => {});
    child.stdin.end(script);
  });
  const rows = JSON.parse(out) as unknown;
  if (!Array.isArray(rows)) throw new Error(`ssh ${t.target}: unexpected answer ${out.slice(0, 200)}`);
  return rows as UsageTotal[];
}

export function formatUsage(r: UsageReport): string {
  const head = `usage ${r.since} .. ${r.until} (${r.source})\n`;
  if (r.totals.length === 0) return `${head}no billable calls in this period\n`;
  const rows = [["CREDENTIAL", "TOOL", "CALLS", "UNITS"], ...r.totals.map((t) => [t.credential, t.tool, String(t.calls), String(t.units)])];
  rows.push(["TOTAL", "", String(r.totals.reduce((a, t) => a + t.calls, 0)), String(r.totals.reduce((a, t) => a + t.units, 0))]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return head + rows.map(line).join("\n") + "\n" + (r.truncated ? `(truncated to the first ${MAX_TOTAL_ROWS} rows)\n` : "");
}

/** Runs `selfhosted-mcp usage <argv>`; returns the exit code. Throws UsageError on bad arguments. */
export async function usageMain(argv: string[], write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      file: { type: "string" }, ssh: { type: "string" }, "ssh-port": { type: "string" }, identity: { type: "string" },
      "known-hosts": { type: "string" }, app: { type: "string" }, "data-dir": { type: "string" },
      since: { type: "string" }, until: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) { write(USAGE_HELP); return 0; }
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals.join(" ")}`);
  if (!values.file === !values.ssh) throw new UsageError("give exactly one of --file <ledger> and --ssh <user@host>");
  if (values.ssh !== undefined && !/^([A-Za-z0-9._][A-Za-z0-9._-]*@)?[A-Za-z0-9][A-Za-z0-9.:-]*$/.test(values.ssh)) throw new UsageError(`--ssh: "${values.ssh}" is not user@host`);
  const port = Number(values["ssh-port"] ?? 22);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--ssh-port: "${values["ssh-port"]}" is not a port (1-65535)`);
  const app = values.app ?? "mcp";
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(app)) throw new UsageError(`--app: "${app}" must start with a-z and contain only a-z, 0-9, - (max 31), like the deployment's app`);
  const dataDir = values["data-dir"] ?? "/data";
  if (!/^\/[A-Za-z0-9._/-]*$/.test(dataDir)) throw new UsageError(`--data-dir: "${dataDir}" must be an absolute path of letters, digits, . _ - /`);
  const p = period(values.since, values.until);
  const rows = values.file
    ? fromFile(values.file, p)
    : await overSsh({ target: values.ssh!, port, identity: values.identity, knownHosts: values["known-hosts"], app, dataDir }, p);
  const report: UsageReport = {
    ...p, source: values.file ? `file ${values.file}` : `ssh ${values.ssh} volume ${app}-data`,
    truncated: rows.length > MAX_TOTAL_ROWS, totals: rows.slice(0, MAX_TOTAL_ROWS),
  };
  write(values.json ? JSON.stringify(report) + "\n" : formatUsage(report));
  return 0;
}
