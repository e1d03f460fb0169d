import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import {
  builtinScenarioFile,
  loadScenarioFile,
  reportMarkdown,
  runGameDay,
  startDemo,
  GameDayAborted,
  type GameDayProgress,
  type GameDayReport,
} from "../gameday/index.js";
import { CliExit, EXIT_USAGE } from "./output.js";

/** Fault-free minutes measured for false incidents before the first fault, unless told otherwise. */
export const DEFAULT_QUIET_MINUTES = 2;
/** Warm-up before the game day: the probes and the RCA need a normal period to compare with (s). */
export const DEMO_WARMUP_S = 30;

export interface GameDayIo {
  out(line: string): void;
  err(line: string): void;
  /** Resolves on Ctrl-C / SIGTERM. */
  interrupted(): Promise<string>;
}

const defaultIo: GameDayIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  interrupted: () =>
    new Promise((r) => {
      process.once("SIGINT", () => r("SIGINT"));
      process.once("SIGTERM", () => r("SIGTERM"));
    }),
};

const num = (what: string, min: number, max: number) =>
  z.coerce
    .number({ message: `${what} must be a number` })
    .min(min, `${what} must be at least ${min}`)
    .max(max, `${what} must be at most ${max}`);

const optsSchema = z.object({
  scenarios: z.string().optional(),
  report: z.string().optional(),
  quietMinutes: num("--quiet-minutes", 0, 24 * 60).default(DEFAULT_QUIET_MINUTES),
  port: num("--port", 0, 65_535).int().optional(),
  data: z.string().optional(),
  rate: num("--rate", 1, 1_000).default(20),
  warmup: num("--warmup", 0, 3_600).default(DEMO_WARMUP_S),
  gameday: z.boolean().default(true),
  keepRunning: z.boolean().default(false),
});

function clock(startedAt: number): string {
  const s = Math.floor((Date.now() - startedAt) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** One progress line per step the platform takes, so a person can follow the loop live. */
export function progressLine(e: GameDayProgress, total: number): string {
  const tag = "scenario" in e ? `[${e.index + 1}/${total}] ${e.scenario.name}` : "[quiet]";
  switch (e.type) {
    case "quiet":
      return `${tag} fault-free period ${Math.round(e.elapsedMs / 1000)}/${Math.round(e.totalMs / 1000)} s, incidents opened: ${e.incidents}`;
    case "steady":
      return `${tag}: shop steady (waited ${(e.waitedMs / 1000).toFixed(0)} s)`;
    case "injected":
      return `${tag}: fault injected: ${e.description}`;
    case "detected":
      return `${tag}: detected after ${e.seconds.toFixed(1)} s: incident ${e.incident.id} (${e.incident.severity}) ${e.incident.title}`;
    case "diagnosed":
      return `${tag}: root cause ranked after ${e.seconds.toFixed(1)} s: ${e.service ?? "none"} ${e.right ? "(right)" : `(expected ${e.scenario.expect.rootCause})`}`;
    case "remediation":
      return `${tag}: runbook ${e.runbook} ${e.status} at ${e.seconds.toFixed(1)} s`;
    case "waiting":
      return `${tag}: ${e.seconds.toFixed(0)} s, waiting for ${e.stage}`;
    case "done": {
      const r = e.result;
      return `${tag}: ${r.recovered ? `recovered after ${r.recover_s?.toFixed(1)} s${r.automatic ? " automatically" : ""}` : "NOT recovered by the platform"}`;
    }
  }
}

export function summaryLines(r: GameDayReport): string[] {
  const m = r.summary;
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  return [
    `median time to detect   ${m.median_detect_s === null ? "n/a" : `${m.median_detect_s.toFixed(1)} s`}  (target < 10 s)`,
    `slowest P0 recovery     ${m.p0_max_recover_s === null ? "a P0 did not recover" : r.scenarios.some((x) => x.severity === "P0") ? `${m.p0_max_recover_s.toFixed(1)} s` : "no P0 scenario"}  (target <= 60 s)`,
    `right top-ranked cause  ${pct(m.top1_right_share)}  (target >= 90%)`,
    `automatic remediation   ${pct(m.automatic_share)}  (target >= 95%)`,
    `false incidents         ${m.false_incidents} in ${r.quiet_minutes} fault-free minute(s)  (target 0)`,
    `safety violations       ${m.safety_violations}  (target 0)`,
  ];
}

/** `novasre demo` and `novasre gameday`: the platform watching the demo shop, then a game day. */
export async function runDemoCommand(
  raw: Record<string, unknown>,
  mode: "demo" | "gameday",
  io: GameDayIo = defaultIo,
): Promise<GameDayReport | undefined> {
  const parsed = optsSchema.safeParse(raw);
  if (!parsed.success)
    throw new CliExit(EXIT_USAGE, `error: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  const o = parsed.data;
  if (mode === "gameday" && (!o.scenarios || !o.report))
    throw new CliExit(EXIT_USAGE, "error: novasre gameday needs --scenarios FILE and --report FILE");
  const scenarioFile = resolve(o.scenarios ?? builtinScenarioFile());
  // A bad scenario file is the user's mistake: say so before starting anything.
  const scenarios = o.gameday ? await loadScenarioFile(scenarioFile) : [];
  const reportFile = resolve(o.report ?? "novasre-demo-report.json");
  const mdFile = reportFile.replace(/\.json$/i, "") + ".md";

  const started = Date.now();
  io.err("starting the platform and the demo shop (six services; a few seconds)...");
  const demo = await startDemo({
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.data ? { dataDir: resolve(o.data) } : {}),
    rate: o.rate,
  });
  const abort = new AbortController();
  void io.interrupted().then((why) => {
    io.err(`stopping (${why}): removing any fault, then stopping the shop and the platform...`);
    abort.abort();
  });
  try {
    io.out(`NovaCron SRE is watching the demo shop`);
    io.out(`  API              ${demo.apiUrl}/api/v1/incidents   (token: ${demo.token})`);
    io.out(`  OpenAPI          ${demo.apiUrl}/openapi.json`);
    io.out(`  platform metrics ${demo.apiUrl}/metrics`);
    io.out(`  shop gateway     ${demo.shop.gatewayUrl}/api/catalog   (load: ${o.rate} req/s)`);
    io.out(`  data and logs    ${demo.dataDir}${o.data ? "" : " (temporary, removed on exit)"}`);
    if (!o.gameday) {
      io.out("Ctrl-C stops everything.");
      await new Promise<void>((r) => abort.signal.addEventListener("abort", () => r(), { once: true }));
      return undefined;
    }
    io.out(`  scenarios        ${scenarioFile} (${scenarios.length})`);
    io.out(`  report           ${reportFile} and ${mdFile}`);
    if (o.warmup > 0) {
      io.err(
        `${clock(started)} warming up ${o.warmup} s: the probes and the root-cause ranking learn the normal shop`,
      );
      await new Promise<void>((r) => {
        const t = setTimeout(r, o.warmup * 1000);
        abort.signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
      });
    }
    const report = await runGameDay(demo.shop, demo.platform, {
      scenarios,
      quietMs: o.quietMinutes * 60_000,
      signal: abort.signal,
      onProgress: (e) => io.err(`${clock(started)} ${progressLine(e, scenarios.length)}`),
    });
    await mkdir(dirname(reportFile), { recursive: true });
    await writeFile(reportFile, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(mdFile, reportMarkdown(report));
    io.out("");
    for (const l of summaryLines(report)) io.out(l);
    io.out(`report: ${reportFile}`);
    io.out(JSON.stringify(report.summary));
    if (o.keepRunning && !abort.signal.aborted) {
      io.out("the platform and the shop keep running; Ctrl-C stops everything.");
      await new Promise<void>((r) => abort.signal.addEventListener("abort", () => r(), { once: true }));
    }
    return report;
  } catch (err) {
    if (err instanceof GameDayAborted) throw new CliExit(130, "game day stopped; every fault was removed");
    throw err;
  } finally {
    await demo.stop();
  }
}

function options(cmd: Command): Command {
  return cmd
    .option(
      "--quiet-minutes <n>",
      "fault-free minutes measured for false incidents first",
      String(DEFAULT_QUIET_MINUTES),
    )
    .option("--port <n>", "platform port (default 8480, or a free one when taken)")
    .option("--data <dir>", "keep the platform database, shop files and logs in DIR (default: temporary)")
    .option("--rate <n>", "requests per second of the shop's load", "20")
    .option("--warmup <s>", "seconds of normal traffic before the game day", String(DEMO_WARMUP_S));
}

export function registerGameDayCommands(program: Command, io: GameDayIo = defaultIo): void {
  options(
    program
      .command("demo")
      .description(
        "the main job: the platform watching the demo shop under load, then a game day of faults it must detect, diagnose and repair, with a report",
      )
      .option("--scenarios <file>", "scenario file (default: the built-in game day, scenarios/builtin.yaml)")
      .option("--report <file>", "JSON report path; the Markdown goes beside it", "novasre-demo-report.json")
      .option("--no-gameday", "only run the platform and the shop, until Ctrl-C")
      .option("--keep-running", "after the game day, keep everything running until Ctrl-C"),
  ).action(async (opts: Record<string, unknown>) => {
    await runDemoCommand(opts, "demo", io);
  });
  options(
    program
      .command("gameday")
      .description("run a scenario file against the demo shop under the platform's watch and write a report")
      .requiredOption("--scenarios <file>", "scenario file (YAML list; docs/gameday.md)")
      .requiredOption("--report <file>", "JSON report path; the Markdown goes beside it"),
  ).action(async (opts: Record<string, unknown>) => {
    await runDemoCommand(opts, "gameday", io);
  });
}
