// The image run exactly as the deployment runs it (contract/run-contract.ts) on a real dockerd:
// healthy, hardened, reachable by a real MCP client on 127.0.0.1, data kept across a container replacement,
// and a clean graceful stop.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, runOk } from "../support/proc.ts";
import {
  buildServerImage, containerLogs, inspect, removeContainers, startContainer, uniqueName, waitHealthy, type ContainerState,
  type StartedContainer,
} from "../support/server-image.ts";
import { call, connect } from "../server/mcp-client.ts";
import { startUpstreamStub, type UpstreamStub } from "../support/upstream-stub.ts";

const API_KEY = `img-test-key-${randomUUID()}`;
const ENV = { AUTH_MODE: "api-key", API_KEYS: API_KEY, LOG_LEVEL: "info" };
const auth = { authorization: `Bearer ${API_KEY}` };

interface ContainerInspect {
  State: ContainerState;
  Config: { User: string; Labels: Record<string, string> };
  HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[]; SecurityOpt: string[]; Memory: number; NanoCpus: number;
    PidsLimit: number; RestartPolicy: { Name: string }; NetworkMode: string; Tmpfs: Record<string, string>;
    LogConfig: { Type: string; Config: Record<string, string> } };
  Mounts: { Type: string; Name: string; Destination: string }[];
}

describe("server container under the run contract", () => {
  let image: string;
  let tmp: string;
  let upstream: UpstreamStub;
  const started: StartedContainer[] = [];
  const volume = uniqueName("mcp-img-vol");
  const start = async (name = uniqueName("mcp-img")) => {
    const c = await startContainer(image, { dir: tmp, env: { ...ENV, UPSTREAM_URL: upstream.url }, name, volume, spec: { labels: { "io.selfhosted-mcp.test": "image" } }, wait: false });
    started.push(c);
    await waitHealthy(c.name);
    return c;
  };

  before(async () => {
    image = await buildServerImage();
    tmp = mkdtempSync(join(tmpdir(), "container-test-"));
    upstream = await startUpstreamStub(); // the weather API's local fake, on 127.0.0.1 (host network reaches it)
  });

  after(async () => {
    await removeContainers(started.map((c) => c.name), [volume]);
    await upstream?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("becomes healthy with the contract's hardening, limits, volume and labels in force", async () => {
    const c = await start();
    const info = await inspect<ContainerInspect>(c.name);
    assert.equal(info.State.Health?.Status, "healthy");
    assert.equal(info.Config.User, "node");
    assert.equal(info.Config.Labels["io.selfhosted-mcp.test"], "image");
    const h = info.HostConfig;
    assert.equal(h.ReadonlyRootfs, true);
    assert.deepEqual(h.CapDrop, ["ALL"]);
    assert.ok(h.SecurityOpt.some((o) => o.startsWith("no-new-privileges")), String(h.SecurityOpt));
    assert.equal(h.Memory, 512 * 1024 * 1024);
    assert.equal(h.NanoCpus, 1e9);
    assert.equal(h.PidsLimit, 256);
    assert.equal(h.RestartPolicy.Name, "unless-stopped");
    assert.equal(h.NetworkMode, "host");
    assert.match(h.Tmpfs["/tmp"] ?? "", /noexec/);
    assert.equal(h.LogConfig.Type, "json-file");
    assert.deepEqual(info.Mounts.map((m) => [m.Type, m.Name, m.Destination]), [["volume", volume, "/data"]]);

    // enforced by the kernel, not just recorded: uid 1000, no capabilities, no_new_privs, read-only root
    const status = await runOk("docker", ["exec", c.name, "sh", "-c", "id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/1/status"]);
    assert.match(status.stdout, /^1000\nCapEff:\s+0000000000000000\nNoNewPrivs:\s+1\n$/);
    const write = await run("docker", ["exec", c.name, "sh", "-c", "touch /app/x"]);
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /Read-only file system/);
    await runOk("docker", ["exec", c.name, "sh", "-c", "touch /tmp/ok /data/ok && rm /tmp/ok /data/ok"]);

    // bound to loopback on the host network: /livez, the deep /health (store + upstream) and /metrics answer
    assert.equal((await fetch(`${c.url}/livez`)).status, 200);
    assert.equal((await fetch(`${c.url}/health`)).status, 200);
    assert.match(await (await fetch(`http://127.0.0.1:${c.metricsPort}/metrics`)).text(), /^# HELP /m);
  });

  it("is reached by a real MCP client over 127.0.0.1 (API key from the env file), tools work end to end", async () => {
    const c = started.at(-1)!;
    const denied = await fetch(`${c.url}/mcp`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    assert.equal(denied.status, 401);
    const client = await connect(`${c.url}/mcp`, auth);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes("save_note") && names.includes("get_note"), names.join(","));
      assert.ok(client.getServerVersion()?.name, "server identified itself in initialize");
      const forecast = await call(client, "get_forecast", { latitude: 52.52, longitude: 13.41, days: 2 });
      assert.equal(forecast.isError, undefined, JSON.stringify(forecast));
      assert.equal((forecast.structuredContent as { days: unknown[] }).days.length, 2);
    } finally {
      await client.close();
    }
  });

  it("keeps data written through save_note when the container is replaced (same volume)", async () => {
    const first = started.at(-1)!;
    const client = await connect(`${first.url}/mcp`, auth);
    const saved = await call(client, "save_note", { request_id: `img-${randomUUID()}`, title: "survives", body: "replacement", tags: ["image"] });
    await client.close();
    assert.equal(saved.isError, undefined, JSON.stringify(saved));
    const id = (saved.structuredContent as { note: { id: string } }).note.id;

    await runOk("docker", ["stop", first.name]);
    await runOk("docker", ["rm", first.name]);
    const second = await start(uniqueName("mcp-img-replaced"));
    const again = await connect(`${second.url}/mcp`, auth);
    try {
      const got = await call(again, "get_note", { id });
      assert.equal(got.isError, undefined, JSON.stringify(got));
      assert.deepEqual((got.structuredContent as { note: { title: string; body: string } }).note,
        { ...(saved.structuredContent as { note: object }).note });
      // search_notes runs in a worker thread (server/src/search.ts): it must start from the single-file bundle, on
      // the read-only root filesystem, and read the volume's database.
      const found = await call(again, "search_notes", { query: "SURVIVES" });
      assert.equal(found.isError, undefined, JSON.stringify(found));
      assert.deepEqual((found.structuredContent as { notes: Array<{ id: string }> }).notes.map((n) => n.id), [id]);
    } finally {
      await again.close();
    }
  });

  it("docker stop ends it through the graceful path: exit 0 well inside the stop timeout", async () => {
    const c = started.at(-1)!;
    const stopTimeout = 30;
    const t0 = performance.now();
    await runOk("docker", ["stop", "--timeout", String(stopTimeout), c.name], { timeoutMs: (stopTimeout + 15) * 1000 });
    const elapsedS = (performance.now() - t0) / 1000;
    const state = (await inspect<ContainerInspect>(c.name)).State;
    assert.equal(state.Status, "exited");
    assert.equal(state.ExitCode, 0);
    assert.ok(elapsedS < stopTimeout / 2, `stopped after ${elapsedS.toFixed(1)} s (SIGKILL comes at ${stopTimeout} s)`);
    const events = (await containerLogs(c.name)).split("\n").filter((l) => l.startsWith("{"))
      .map((l) => (JSON.parse(l) as { event?: string; signal?: string }));
    assert.ok(events.some((e) => e.event === "shutdown" && e.signal === "SIGTERM"), "shutdown log line");
    assert.ok(events.some((e) => e.event === "stopped"), "stopped log line");
  });

  it("listens on the contract's unix socket in a root-owned sticky directory; another user connects through a symlink", async () => {
    // What the deployment does on the host: /…/sockets/<app>/<slot> (root, 1733) mounted per slot, live.sock -> slot.
    const sockets = mkdtempSync(join(tmpdir(), "container-sockets-"));
    chmodSync(sockets, 0o755);
    mkdirSync(join(sockets, "blue"), { mode: 0o1733 });
    chmodSync(join(sockets, "blue"), 0o1733);
    const c = await startContainer(image, { dir: tmp, env: { ...ENV, UPSTREAM_URL: upstream.url }, volume,
      spec: { socketDir: join(sockets, "blue") } });
    started.push(c);
    symlinkSync("blue/mcp.sock", join(sockets, "live.sock"));
    const sock = join(sockets, "blue", "mcp.sock");
    assert.ok(statSync(sock).isSocket());
    assert.equal(statSync(sock).mode & 0o777, 0o666);
    assert.equal(statSync(sock).uid, 1000, "created by the container's user");
    // nobody (uid 65534) stands in for nginx's worker user: it reaches the server through the symlink.
    const r = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-fsS", "--unix-socket",
      join(sockets, "live.sock"), "http://localhost/health"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"status":"healthy"/);
    await runOk("docker", ["stop", c.name]);
    assert.equal(existsSync(sock), false, "the server removes its socket when it stops");
    rmSync(sockets, { recursive: true, force: true });
  });
});
