// `npm run rehearse` — deploy the example stack to a local droplet VM exactly as `pulumi up` would to a droplet,
// then call it over HTTPS with an MCP client. `npm run rehearse -- --destroy` runs the recorded delete scripts and
// stops everything the rehearsal started. Options: --state-dir DIR (default .rehearsal/); --config KEY=VALUE
// (repeatable; kept for the instance's later runs, KEY= removes it: stack-settings.ts); --drill alerts (drill-alerts.ts).
import { parseArgs } from "node:util";
import { rehearse, destroy } from "./rehearsal.ts";
import { drillAlerts } from "./drill-alerts.ts";
import { ensureHostPrograms, requireRoot } from "./bootstrap.ts";
import { DEFAULT_STATE_DIR } from "./state.ts";
import { StepError } from "./execute.ts";
import { parseSettings, applySettings, SettingError } from "./stack-settings.ts";
import { ensureStateDir } from "./state.ts";

const { values } = parseArgs({
  options: {
    destroy: { type: "boolean", default: false },
    "state-dir": { type: "string", default: DEFAULT_STATE_DIR },
    config: { type: "string", multiple: true, default: [] },
    drill: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

const log = (l: string) => console.log(`[rehearse] ${l}`);
/** A drill delay: from the step that made the condition true (or the recovery); negative when an earlier step did. */
const after = (what: string, ms: number) => (ms >= 0 ? `${what} after ${(ms / 1000).toFixed(1)} s`
  : `${what} ${(-ms / 1000).toFixed(1)} s before its own step ended (an earlier step made it so)`);

async function main(): Promise<number> {
  if (values.help) {
    console.log("usage: npm run rehearse [-- --destroy] [-- --state-dir DIR] [-- --config KEY=VALUE ...]");
    console.log("  --config KEY=VALUE  a stack config value (non-secret) for this instance, kept for its later runs; KEY= removes it");
    console.log("  --drill alerts      deploy with the on-droplet alerting on, make every alert condition true, and wait for each");
    console.log("                      notification (webhook and e-mail) to arrive, then resolve (rehearsal/drill-alerts.ts)");
    return 0;
  }
  const stateDir = values["state-dir"]!;
  requireRoot();
  if (values.destroy) {
    const t = Date.now();
    await destroy({ stateDir, log });
    log(`destroyed in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return 0;
  }
  if (values.drill !== undefined && values.drill !== "alerts") throw new SettingError(`--drill takes alerts, not ${JSON.stringify(values.drill)}`);
  const changes = parseSettings(values.config!);
  const started = Date.now();
  await ensureHostPrograms(log);
  const config = applySettings(ensureStateDir(stateDir), changes);
  if (Object.keys(config).length) log(`stack config of this instance: ${Object.entries(config).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  if (values.drill === "alerts") {
    const d = await drillAlerts({ stateDir, log, config });
    console.log(["", "  Alert drill passed: every alert arrived by webhook and e-mail, then resolved.",
      ...Object.keys(d.fired).map((n) => `  ${n.padEnd(24)} ${after("firing", d.fired[n]!)}, ${after("resolved", d.resolved[n]!)}`),
      `  On the droplet: every daemon on 127.0.0.1 only; alertmanager.yml 0600; memory (MiB) ${Object.entries(d.memoryMb).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
      `  Took ${((Date.now() - started) / 1000).toFixed(1)} s. The next plain \`npm run rehearse\` turns the drill's monitoring off again.`, ""].join("\n"));
    return 0;
  }
  const r = await rehearse({ stateDir, log, config });
  const ran = r.steps.filter((s) => s.op !== "same");
  log(`executed ${ran.length} step(s): ${ran.map((s) => `${s.op} ${s.name}`).join(", ") || "nothing changed"}`);
  log(`phases (ms): ${Object.entries(r.timings).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  console.log([
    "",
    `  URL:      ${r.url}/mcp   (the rehearsal's client dials 127.0.0.1:${r.vm.ports.https}, the droplet VM's forwarded 443)`,
    `  Token:    ${r.token}   (Authorization: Bearer …; API key from ${stateDir}/secrets.json)`,
    `  CA:       ${r.services.acme.rootPemPath}   (pebble's root; trust it to call the server yourself)`,
    `  Try:      curl --cacert ${r.services.acme.rootPemPath} --connect-to mcp.example.test:443:127.0.0.1:${r.vm.ports.https} https://mcp.example.test/health`,
    `  SSH:      ${r.vm.sshCommand}   (the droplet VM, qemu PID ${r.vm.qemuPid})`,
    `  Tools:    ${r.check.tools.join(", ")}`,
    `  Teardown: npm run rehearse -- --destroy${stateDir === DEFAULT_STATE_DIR ? "" : ` --state-dir ${stateDir}`}`,
    `  Took ${((Date.now() - started) / 1000).toFixed(1)} s`,
    "",
  ].join("\n"));
  return 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  if (e instanceof StepError) console.error(`[rehearse] FAILED at ${e.resource}:\n${e.output}`);
  else if (e instanceof SettingError) console.error(`[rehearse] ${e.message}`);
  else console.error(`[rehearse] FAILED: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
