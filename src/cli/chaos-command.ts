import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Option, type Command } from "commander";
import { parse as parseYaml } from "yaml";
import {
  ChaosEngine,
  ChaosState,
  DEFAULT_CHAOS_LEVEL,
  DEFAULT_CHAOS_STATE_DIR,
  detectNetCapabilities,
  faketimeEnv,
  findFaketime,
  findStressNg,
  gameDayMarkdown,
  httpWatcher,
  loadExperimentFile,
  runGameDay,
  runSchedules,
  startProxyApi,
  type Journal,
  type Level,
} from "../chaos/index.js";
import { parseDuration } from "../core/index.js";
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "./output.js";

const out = (s: string): void => {
  process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
};

/** Least to most strict. */
const STRICTNESS: readonly Level[] = ["dev", "staging", "canary", "production", "dry-run"];

interface CommonOpts {
  config?: string;
  stateDir?: string;
}

function common(cmd: Command): Command {
  return cmd
    .addOption(new Option("-c, --config <file>", "YAML config file").env("NOVASRE_CONFIG"))
    .option("--state-dir <dir>", "ledger, heartbeat, stop flag and journals (default: chaos.state_dir)");
}

async function engineFor(
  opts: CommonOpts & { url?: string; token?: string; level?: string },
): Promise<ChaosEngine> {
  // Loaded here, not at the top: the whole config schema is most of the CLI's start-up time.
  const { loadConfig } = await import("../config/index.js");
  const cfg = await loadConfig(opts.config);
  const state = new ChaosState(resolve(opts.stateDir ?? cfg.chaos.state_dir));
  const level = (opts.level as Level | undefined) ?? cfg.chaos.level;
  // The config names the environment; the command line may only ask for something stricter.
  if (STRICTNESS.indexOf(level) < STRICTNESS.indexOf(cfg.chaos.level))
    throw new CliExit(
      EXIT_USAGE,
      `error: --level ${level} is less strict than chaos.level ${cfg.chaos.level} in the config; change the config to allow it`,
    );
  return new ChaosEngine({
    state,
    level,
    watchdog: cfg.chaos.watchdog,
    heartbeatIntervalMs: cfg.chaos.heartbeat_interval,
    heartbeatStaleMs: cfg.chaos.heartbeat_stale,
    ...(opts.url ? { watcher: httpWatcher(opts.url, opts.token ?? process.env["NOVASRE_TOKEN"]) } : {}),
    out: (l) => process.stderr.write(`${l}\n`),
  });
}

/**
 * Where `chaos stop` finds the ledger. An emergency stop must work at once and even when another part
 * of the config does not validate, so it reads only chaos.state_dir (the flag, then
 * NOVASRE_CHAOS__STATE_DIR, then the file, then the default) instead of loading the whole config.
 */
async function stopStateDir(opts: CommonOpts): Promise<string> {
  if (opts.stateDir) return resolve(opts.stateDir);
  const fromEnv = process.env["NOVASRE_CHAOS__STATE_DIR"];
  if (fromEnv) return resolve(fromEnv);
  if (opts.config) {
    let raw: unknown;
    try {
      raw = parseYaml(await readFile(opts.config, "utf8"));
    } catch (e) {
      throw new CliExit(
        EXIT_USAGE,
        `error: cannot read chaos.state_dir from ${opts.config} (${(e as Error).message.split("\n")[0]}); pass --state-dir`,
      );
    }
    const dir = (raw as { chaos?: { state_dir?: unknown } } | null)?.chaos?.state_dir;
    if (typeof dir === "string" && dir) return resolve(dir);
  }
  return resolve(DEFAULT_CHAOS_STATE_DIR);
}

function summary(j: Journal): string {
  const lines = [
    `${j.status.toUpperCase()}  ${j.experiment.title}  (${j.duration.toFixed(1)} s, level ${j.level}, journal ${j.id})`,
  ];
  for (const c of j.preflight) if (!c.ok) lines.push(`  pre-flight failed: ${c.check}: ${c.detail}`);
  for (const s of j.run)
    lines.push(`  ${s.type.padEnd(7)} ${s.name.padEnd(28)} ${s.status}${s.error ? `  ${s.error}` : ""}`);
  if (j.abort) lines.push(`  aborted: ${j.abort.reason}`);
  if (j.recovery.recovery_time_s !== undefined)
    lines.push(`  recovery: steady state back ${j.recovery.recovery_time_s.toFixed(2)} s after revert`);
  if (j.platform)
    lines.push(
      `  platform: incident ${j.platform.incident_id ?? "none"}, detect ${j.platform.time_to_detect_s ?? "—"} s, recover ${j.platform.time_to_recover_s ?? "—"} s`,
    );
  return lines.join("\n");
}

/** `novasre chaos ...`: runs on its own, without `novasre serve`. */
export function registerChaosCommand(program: Command): void {
  const chaos = program
    .command("chaos")
    .description("chaos experiments: validate, run, stop, proxies, game days");

  chaos
    .command("validate")
    .argument("<file>", "experiment (ours or Chaos Toolkit's; YAML or JSON)")
    .description("list every problem in FILE")
    .action(async (file: string) => {
      const l = await loadExperimentFile(file);
      if (l.problems.length) {
        const msg = l.problems.map((p) => `  ${p.path ? `${p.path}: ` : ""}${p.message}`).join("\n");
        throw new CliExit(
          EXIT_USAGE,
          `${file}: ${l.problems.length} problem(s) (${l.format} format)\n${msg}`,
        );
      }
      out(`${file}: ok (${l.format} format, ${l.experiment?.method.length ?? 0} step(s))`);
    });

  common(
    chaos
      .command("run")
      .argument("<file>")
      .description("run an experiment (reverts leftovers of a crashed run first)")
      .option("--dry-run", "print the exact apply and revert actions; change nothing")
      .addOption(
        new Option("--level <level>", "override chaos.level").choices([
          "dry-run",
          "dev",
          "staging",
          "canary",
          "production",
        ]),
      )
      .option("--yes-production", "confirm a production-level run")
      .option("--journal <file>", "also write the journal here")
      .option("--json", "print the journal as JSON")
      .option("--url <url>", "platform to watch for incidents (a running novasre serve)")
      .option("--token <token>", "API token for --url (env NOVASRE_TOKEN)"),
  ).action(
    async (
      file: string,
      opts: CommonOpts & {
        dryRun?: boolean;
        level?: string;
        yesProduction?: boolean;
        journal?: string;
        json?: boolean;
        url?: string;
        token?: string;
      },
    ) => {
      const l = await loadExperimentFile(file);
      if (!l.experiment || l.problems.length)
        throw new CliExit(EXIT_USAGE, `${file}: invalid; run novasre chaos validate ${file}`);
      const engine = await engineFor(opts);
      const dry = opts.dryRun || opts.level === "dry-run";
      if (!dry) await engine.recover();
      const j = await engine.run(l.experiment, {
        dryRun: dry,
        confirmProduction: !!opts.yesProduction,
        cwd: dirname(resolve(file)),
      });
      if (opts.journal) {
        mkdirSync(dirname(resolve(opts.journal)), { recursive: true });
        writeFileSync(opts.journal, JSON.stringify(j, null, 2));
      }
      out(opts.json ? JSON.stringify(j, null, 2) : dry ? [...j.plan, summary(j)].join("\n") : summary(j));
      if (j.status === "refused") throw new CliExit(EXIT_USAGE);
      if (j.status !== "completed" && j.status !== "dry-run") throw new CliExit(EXIT_FAILURE);
    },
  );

  common(
    chaos
      .command("stop")
      .description("EMERGENCY STOP: revert every active fault now and block new runs until `chaos clear`")
      .option("--reason <text>", "why", "emergency stop from the CLI")
      .option("--url <url>", "also stop through a running server's API (admin token)")
      .option("--token <token>", "admin API token for --url (env NOVASRE_TOKEN)"),
  ).action(async (opts: CommonOpts & { reason: string; url?: string; token?: string }) => {
    const state = new ChaosState(await stopStateDir(opts));
    const engine = new ChaosEngine({ state, level: DEFAULT_CHAOS_LEVEL, watchdog: false });
    const r = await engine.emergencyStop(`cli:${process.env["USER"] ?? "unknown"}`, opts.reason);
    out(
      `stopped: reverted ${r.reverted.length} fault(s) in ${Math.round(r.ms)} ms; new runs blocked until \`novasre chaos clear\``,
    );
    for (const x of r.reverted)
      out(`  ${x.fault} on ${x.target}${x.errors.length ? `  ERRORS: ${x.errors.join("; ")}` : ""}`);
    if (opts.url) {
      const token = opts.token ?? process.env["NOVASRE_TOKEN"];
      const res = await fetch(`${opts.url.replace(/\/$/, "")}/api/v1/chaos/stop`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ reason: opts.reason }),
      });
      out(`server ${opts.url}: ${res.status}`);
    }
    if (r.reverted.some((x) => x.errors.length)) throw new CliExit(EXIT_FAILURE);
  });

  common(chaos.command("clear").description("clear the emergency stop so runs may start again")).action(
    async (opts: CommonOpts) => {
      const engine = await engineFor(opts);
      out(engine.clearStop() ? "cleared" : "no emergency stop was set");
    },
  );

  common(chaos.command("recover").description("revert faults a crashed run left in the ledger")).action(
    async (opts: CommonOpts) => {
      const r = await (await engineFor(opts)).recover();
      out(`reverted ${r.reverted.length} fault(s)`);
    },
  );

  common(
    chaos.command("status").description("active faults, emergency stop, what this machine can do"),
  ).action(async (opts: CommonOpts) => {
    const engine = await engineFor(opts);
    const stop = engine.state.stopFlag();
    out(
      stop
        ? `EMERGENCY STOP set by ${stop.by} at ${new Date(stop.at).toISOString()}: ${stop.reason}`
        : "no emergency stop",
    );
    const pending = engine.state.ledger.pending();
    out(`${pending.length} active fault(s)`);
    for (const e of pending)
      out(`  ${e.id}  ${e.fault}  ${e.target}  since ${new Date(e.appliedAt).toISOString()} (pid ${e.pid})`);
    const caps = detectNetCapabilities();
    out(`stress-ng: ${findStressNg() ?? "not installed (built-in workers)"}`);
    out(`libfaketime: ${findFaketime() ?? "not installed (time-skew refused)"}`);
    out(
      `network: root=${caps.root} netns=${caps.ip} tbf=${caps.tbf} netem=${caps.netem} nft=${caps.nft} iptables-statistic=${caps.iptablesStatistic}`,
    );
    for (const [k, v] of Object.entries(caps.missing)) out(`  ${k}: ${v}`);
  });

  chaos
    .command("proxy")
    .description("run the fault proxy API (Toxiproxy-shaped) until interrupted")
    .option("--listen <host:port>", "API address", "127.0.0.1:8474")
    .option("--token-env <name>", "environment variable with a bearer token the API demands")
    .option("--heartbeat <file>", "remove every toxic when this file's mtime goes stale")
    .option("--stale <duration>", "staleness for --heartbeat", "3s")
    .action(async (opts: { listen: string; tokenEnv?: string; heartbeat?: string; stale: string }) => {
      const i = opts.listen.lastIndexOf(":");
      const token = opts.tokenEnv ? process.env[opts.tokenEnv] : undefined;
      if (opts.tokenEnv && !token) throw new CliExit(EXIT_USAGE, `error: ${opts.tokenEnv} is not set`);
      const api = await startProxyApi({
        host: opts.listen.slice(0, i),
        port: Number(opts.listen.slice(i + 1)),
        ...(token ? { token } : {}),
        ...(opts.heartbeat
          ? { heartbeat: { path: opts.heartbeat, staleMs: parseDuration(opts.stale) ?? 3000 } }
          : {}),
      });
      out(`chaos proxy API listening on ${api.url}`);
      await new Promise<void>((r) => {
        process.once("SIGINT", r);
        process.once("SIGTERM", r);
      });
      await api.close();
    });

  chaos
    .command("exec")
    .description("run a command whose clock time-skew faults can move (libfaketime)")
    .requiredOption("--clock-file <file>", "the file a time-skew fault writes the offset to")
    .argument("<argv...>", "command and arguments (after --)")
    .action(async (argv: string[], opts: { clockFile: string }) => {
      const env = faketimeEnv(resolve(opts.clockFile));
      if (!env)
        throw new CliExit(EXIT_USAGE, "error: libfaketime is not installed (Debian package faketime)");
      if (!existsSync(opts.clockFile)) writeFileSync(opts.clockFile, "+0\n");
      const [cmd, ...args] = argv;
      const child = spawn(cmd as string, args, { stdio: "inherit", env: { ...process.env, ...env } });
      const code = await new Promise<number>((r) => child.once("exit", (c) => r(c ?? 1)));
      if (code !== 0) throw new CliExit(code);
    });

  common(
    chaos
      .command("gameday")
      .argument("<file>", "game day YAML: title, experiments (in order)")
      .description("run a game day and write its report (Markdown and JSON)")
      .option("--out <dir>", "report directory", ".")
      .option("--dry-run", "plan every experiment; change nothing")
      .option("--url <url>", "platform to watch for incidents")
      .option("--token <token>", "API token for --url"),
  ).action(
    async (
      file: string,
      opts: CommonOpts & { out: string; dryRun?: boolean; url?: string; token?: string },
    ) => {
      const engine = await engineFor(opts);
      if (!opts.dryRun) await engine.recover();
      const report = await runGameDay(engine, file, { dryRun: !!opts.dryRun });
      mkdirSync(opts.out, { recursive: true });
      const base = join(opts.out, `gameday-${new Date(report.start).toISOString().replace(/[:.]/g, "-")}`);
      writeFileSync(`${base}.json`, JSON.stringify(report, null, 2));
      writeFileSync(`${base}.md`, gameDayMarkdown(report));
      out(`wrote ${base}.md and ${base}.json`);
      for (const r of report.results)
        out(`  ${r.journal?.status ?? "not run"}  ${r.file}${r.error ? `  ${r.error}` : ""}`);
    },
  );

  common(
    chaos
      .command("schedule")
      .argument("<file>", "schedules YAML: name, cron (5 fields, UTC), experiment")
      .description("run experiments on their cron schedules until interrupted"),
  ).action(async (file: string, opts: CommonOpts) => {
    const engine = await engineFor(opts);
    await engine.recover();
    const ac = new AbortController();
    process.once("SIGINT", () => ac.abort());
    process.once("SIGTERM", () => ac.abort());
    out(`scheduler started (${file})`);
    await runSchedules(engine, file, ac.signal, (name, j, err) =>
      out(
        j
          ? `${new Date().toISOString()} ${name}: ${summary(j)}`
          : `${new Date().toISOString()} ${name}: not run: ${err}`,
      ),
    );
  });
}
