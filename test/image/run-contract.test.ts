// The run contract as data: which flags it renders, how it rejects bad specs, and that its shell rendering
// survives a real `sh` (every word comes back byte for byte).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  dockerRunArgs, dockerRunCommand, resolveRunSpec, type RunSpec,
} from "../../contract/run-contract.ts";
import { InvalidArgsError } from "../../contract/args-error.ts";
import { shellCommand, shellQuote } from "../../contract/shell.ts";
import { spawnSync } from "node:child_process";

/** Runs a script with sh and returns the NUL-separated words it printed. */
function shWords(script: string): string[] {
  const r = spawnSync("sh", ["-c", script], { encoding: "utf8", timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\0").slice(0, -1);
}

const spec: RunSpec = {
  image: "127.0.0.1:5000/mcp@sha256:" + "a".repeat(64), name: "mcp-weather-green", envFile: "/etc/selfhosted-mcp/weather.env",
  port: 8001, metricsPort: 9091, volume: "mcp-weather-data", labels: { "io.selfhosted-mcp.slot": "green" },
};

/** Value following a flag (all of them when it repeats). */
const values = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

describe("run contract", () => {
  it("renders the hardening, limits, volume, env file, host network and labels", () => {
    const args = dockerRunArgs(spec);
    assert.deepEqual(args.slice(0, 4), ["run", "--detach", "--name", "mcp-weather-green"]);
    assert.equal(args.at(-1), spec.image);
    for (const flag of ["--read-only"]) assert.ok(args.includes(flag), flag);
    assert.deepEqual(values(args, "--network"), ["host"]);
    assert.deepEqual(values(args, "--tmpfs"), ["/tmp:rw,noexec,nosuid,nodev,size=64m"]);
    assert.deepEqual(values(args, "--cap-drop"), ["ALL"]);
    assert.deepEqual(values(args, "--security-opt"), ["no-new-privileges"]);
    assert.deepEqual(values(args, "--memory"), ["512m"]);
    assert.deepEqual(values(args, "--memory-swap"), ["512m"]);
    assert.deepEqual(values(args, "--cpus"), ["1"]);
    assert.deepEqual(values(args, "--pids-limit"), ["256"]);
    assert.deepEqual(values(args, "--restart"), ["unless-stopped"]);
    assert.deepEqual(values(args, "--stop-timeout"), ["30"]);
    assert.deepEqual(values(args, "--mount"), ["type=volume,source=mcp-weather-data,target=/data"]);
    assert.deepEqual(values(args, "--env-file"), ["/etc/selfhosted-mcp/weather.env"]);
    assert.deepEqual(values(args, "--env"),
      ["HOST=127.0.0.1", "PORT=8001", "METRICS_HOST=127.0.0.1", "METRICS_PORT=9091", "DATA_DIR=/data"]);
    assert.deepEqual(values(args, "--log-opt"), ["max-size=10m", "max-file=3"]);
    assert.deepEqual(values(args, "--label"), ["io.selfhosted-mcp.slot=green"]);
    assert.ok(!args.includes("--health-start-interval"), "start interval only when asked (needs Docker >= 25)");
    // the env file comes before the per-slot --env flags, so the slot's values win
    assert.ok(args.indexOf("--env-file") < args.indexOf("--env"));
  });

  it("applies overrides", () => {
    const args = dockerRunArgs({ ...spec, memoryMb: 1024, cpus: 0.5, stopTimeoutSeconds: 20, healthInterval: "1s",
      healthStartInterval: "500ms", restart: "no", dataDir: "/var/lib/mcp", host: "::1" });
    assert.deepEqual(values(args, "--memory"), ["1024m"]);
    assert.deepEqual(values(args, "--cpus"), ["0.5"]);
    assert.deepEqual(values(args, "--stop-timeout"), ["20"]);
    assert.deepEqual(values(args, "--health-interval"), ["1s"]);
    assert.deepEqual(values(args, "--health-start-interval"), ["500ms"]);
    assert.deepEqual(values(args, "--restart"), ["no"]);
    assert.deepEqual(values(args, "--mount"), ["type=volume,source=mcp-weather-data,target=/var/lib/mcp"]);
    assert.ok(values(args, "--env").includes("HOST=::1"));
    const withKeys = dockerRunArgs({ ...spec, secretFiles: [{ source: "/etc/selfhosted-mcp/keys", target: "/run/secrets/keys" }] });
    assert.deepEqual(values(withKeys, "--mount"), ["type=volume,source=mcp-weather-data,target=/data",
      "type=bind,source=/etc/selfhosted-mcp/keys,target=/run/secrets/keys,readonly"]);
    const withSocket = dockerRunArgs({ ...spec, socketDir: "/var/lib/selfhosted-mcp/sockets/weather/green" });
    assert.ok(values(withSocket, "--mount").includes("type=bind,source=/var/lib/selfhosted-mcp/sockets/weather/green,target=/run/selfhosted-mcp"),
      "the slot's socket directory is mounted writable");
    assert.ok(values(withSocket, "--env").includes("LISTEN_SOCKET=/run/selfhosted-mcp/mcp.sock"));
    assert.ok(!values(args, "--env").some((e) => e.startsWith("LISTEN_SOCKET=")), "no socket unless socketDir is set");
  });

  it("rejects bad specs naming the key and the fix", () => {
    const bad: [Partial<RunSpec>, RegExp][] = [
      [{ name: "bad name" }, /RunSpec name: .*letters, digits/],
      [{ volume: "" }, /RunSpec volume/],
      [{ envFile: "relative.env" }, /RunSpec envFile: envFile must be an absolute path/],
      [{ port: 70000 }, /RunSpec port/],
      [{ metricsPort: 8001 }, /RunSpec metricsPort: metricsPort must differ from port/],
      [{ memoryMb: 4 }, /RunSpec memoryMb: must be at least 6 \(docker's minimum, MB\)/],
      [{ cpus: 0 }, /RunSpec cpus: must be a positive number of CPUs/],
      [{ host: "0.0.0.0" as "127.0.0.1" }, /RunSpec host/],
      [{ labels: { "Bad Key": "x" } }, /RunSpec labels\.Bad Key: label keys must be lower-case/],
      [{ healthInterval: "soon" }, /RunSpec healthInterval: must be a duration/],
      // would otherwise be read by docker as an option, or smuggle options into --mount
      [{ image: "--privileged" }, /RunSpec image: image must be an image reference/],
      [{ dataDir: "/data,readonly=false" }, /RunSpec dataDir: dataDir must be an absolute path/],
      [{ socketDir: "/run/x,readonly" }, /RunSpec socketDir: socketDir must be an absolute path/],
      [{ secretFiles: [{ source: "keys", target: "/run/secrets/keys" }] }, /RunSpec secretFiles\[0\]\.source: secretFiles\[\]\.source must be an absolute path/],
    ];
    for (const [patch, message] of bad) {
      assert.throws(() => dockerRunArgs({ ...spec, ...patch }), (e: unknown) => e instanceof InvalidArgsError && message.test(e.message),
        JSON.stringify(patch));
    }
    assert.throws(() => resolveRunSpec({ ...spec, privileged: true } as RunSpec), /RunSpec privileged: is not a known argument/);
  });

  it("quotes words so sh reads them back unchanged", () => {
    assert.equal(shellQuote("plain-word_1.2:/x=y"), "plain-word_1.2:/x=y");
    assert.equal(shellQuote(""), "''");
    assert.equal(shellQuote("it's $HOME `x`"), `'it'\\''s $HOME \`x\`'`);
    fc.assert(fc.property(fc.array(fc.string({ unit: "binary", maxLength: 20 }).map((s) => s.replaceAll("\0", "")),
      { minLength: 1, maxLength: 5 }), (words) => {
      assert.deepEqual(shWords(`for w in ${words.map(shellQuote).join(" ")}; do printf '%s\\0' "$w"; done`), words);
    }), { numRuns: 60 });
  });

  it("renders a complete docker command line that sh splits back into the same argv", () => {
    const line = dockerRunCommand({ ...spec, labels: { "io.example.note": "blue slot; rm -rf / 'x'" } });
    assert.ok(line.startsWith("docker run --detach --name mcp-weather-green "));
    assert.deepEqual(shWords(`set -- ${line}; for w in "$@"; do printf '%s\\0' "$w"; done`),
      ["docker", ...dockerRunArgs({ ...spec, labels: { "io.example.note": "blue slot; rm -rf / 'x'" } })]);
    assert.equal(shellCommand(["a b", "c"]), "'a b' c");
  });
});
