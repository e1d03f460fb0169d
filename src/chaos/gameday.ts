import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { describeIssues, durationSchema, ValidationError } from "../core/index.js";
import { parseCron, nextRun } from "./cron.js";
import type { ChaosEngine, Journal } from "./engine.js";
import { loadExperimentFile } from "./validate.js";

export const gameDaySchema = z
  .object({
    title: z.string().min(1),
    description: z.string().default(""),
    experiments: z
      .array(z.string().min(1))
      .min(1)
      .describe("experiment files, relative to this file, in order"),
    stop_on_failure: z.boolean().default(true),
    /** Pause between experiments, so the system settles. */
    pause: durationSchema().default(0),
  })
  .strict();
export type GameDay = z.output<typeof gameDaySchema>;

export interface GameDayReport {
  title: string;
  start: number;
  end: number;
  results: { file: string; journal?: Journal; error?: string }[];
}

async function loadYaml<T>(file: string, schema: z.ZodType<T>): Promise<T> {
  const doc: unknown = parseYaml(await readFile(file, "utf8"));
  const r = schema.safeParse(doc);
  if (!r.success) throw new ValidationError(`${file} is invalid`, describeIssues(schema, r.error.issues));
  return r.data;
}

export function loadGameDay(file: string): Promise<GameDay> {
  return loadYaml(file, gameDaySchema);
}

/** Runs a game day's experiments in order; stops at the first that does not complete, unless told not to. */
export async function runGameDay(
  engine: ChaosEngine,
  file: string,
  opts: { dryRun?: boolean } = {},
): Promise<GameDayReport> {
  const gd = await loadGameDay(file);
  const report: GameDayReport = { title: gd.title, start: Date.now(), end: 0, results: [] };
  for (const [i, rel] of gd.experiments.entries()) {
    const path = resolve(dirname(file), rel);
    const loaded = await loadExperimentFile(path);
    if (!loaded.experiment || loaded.problems.length) {
      report.results.push({
        file: rel,
        error: loaded.problems.map((p) => `${p.path}: ${p.message}`).join("; "),
      });
      if (gd.stop_on_failure) break;
      continue;
    }
    const journal = await engine.run(loaded.experiment, { ...opts, cwd: dirname(path) });
    report.results.push({ file: rel, journal });
    const ok = journal.status === "completed" || journal.status === "dry-run";
    if (!ok && gd.stop_on_failure) break;
    if (i < gd.experiments.length - 1 && gd.pause) await new Promise((r) => setTimeout(r, gd.pause));
  }
  report.end = Date.now();
  return report;
}

const secs = (v: number | undefined) => (v === undefined ? "—" : `${v.toFixed(1)} s`);

/** The game day report in Markdown: what was injected, detected, remediated, recovery times, debrief draft. */
export function gameDayMarkdown(r: GameDayReport): string {
  const lines = [
    `# Game day: ${r.title}`,
    "",
    `${new Date(r.start).toISOString()} – ${new Date(r.end).toISOString()} (${((r.end - r.start) / 1000).toFixed(0)} s)`,
    "",
    "| # | experiment | status | injected | platform detected | incident opened | platform recovered | steady state back after revert |",
    "|---|---|---|---|---|---|---|---|",
  ];
  r.results.forEach((res, i) => {
    const j = res.journal;
    if (!j) return lines.push(`| ${i + 1} | ${res.file} | not run: ${res.error ?? ""} | | | | | |`);
    const injected =
      j.run
        .filter((s) => s.type === "fault")
        .map((s) => s.name)
        .join(", ") || "—";
    const p = j.platform;
    lines.push(
      `| ${i + 1} | ${j.experiment.title} | ${j.status}${j.abort ? ` (${j.abort.reason})` : ""} | ${injected} | ${secs(p?.time_to_detect_s)} | ${secs(p?.time_to_open_s)} | ${secs(p?.time_to_recover_s)} | ${secs(j.recovery.recovery_time_s)} |`,
    );
    return lines.length;
  });
  lines.push("", "## What happened", "");
  for (const res of r.results) {
    const j = res.journal;
    if (!j) continue;
    lines.push(`### ${j.experiment.title}`, "");
    for (const s of j.run)
      lines.push(
        `- ${new Date(s.start).toISOString().slice(11, 23)} ${s.type} ${s.name}: ${s.status}${s.error ? ` — ${s.error}` : ""}`,
      );
    if (j.steady_states.after)
      lines.push(`- steady state after: ${j.steady_states.after.met ? "met" : "NOT met"}`);
    if (j.platform?.incident_id) lines.push(`- platform incident: ${j.platform.incident_id}`);
    else if (j.platform) lines.push("- the platform opened no incident for this fault");
    lines.push("");
  }
  lines.push(
    "## Debrief (draft)",
    "",
    ...r.results.flatMap((res) => {
      const j = res.journal;
      if (!j) return [`- ${res.file} did not run: why, and is the experiment still valid?`];
      const out: string[] = [];
      if (j.deviated)
        out.push(
          `- ${j.experiment.title}: the steady state did not come back within the recovery timeout. What kept it down?`,
        );
      if (j.platform && !j.platform.incident_id)
        out.push(`- ${j.experiment.title}: no incident was opened. Which alert should have fired?`);
      if (j.platform?.time_to_detect_s !== undefined)
        out.push(
          `- ${j.experiment.title}: detected after ${secs(j.platform.time_to_detect_s)}. Is that within the target?`,
        );
      if (j.abort)
        out.push(`- ${j.experiment.title}: aborted (${j.abort.reason}). Was the guard right to fire?`);
      if (!out.length) out.push(`- ${j.experiment.title}: ${j.status}. Anything surprising?`);
      return out;
    }),
    "- What did we learn, and what do we change (alerts, runbooks, capacity)?",
    "",
  );
  return lines.join("\n");
}

export const scheduleFileSchema = z
  .object({
    schedules: z
      .array(
        z
          .object({ name: z.string().min(1), cron: z.string().min(1), experiment: z.string().min(1) })
          .strict(),
      )
      .min(1),
  })
  .strict();

/** Runs experiments on their cron schedules (UTC) until `signal` aborts; one run at a time. */
export async function runSchedules(
  engine: ChaosEngine,
  file: string,
  signal: AbortSignal,
  onRun: (name: string, j: Journal | undefined, error?: string) => void = () => undefined,
): Promise<void> {
  const sf = await loadYaml(file, scheduleFileSchema);
  const crons = sf.schedules.map((s) => {
    try {
      return { ...s, cron: parseCron(s.cron) };
    } catch (e) {
      throw new ValidationError(`schedule ${s.name}: ${(e as Error).message}`);
    }
  });
  while (!signal.aborted) {
    const now = Date.now();
    const next = crons
      .map((c) => ({ c, at: nextRun(c.cron, now) }))
      .filter((x): x is { c: (typeof crons)[number]; at: number } => x.at !== undefined)
      .sort((a, b) => a.at - b.at)[0];
    if (!next) return;
    await new Promise<void>((r) => {
      const t = setTimeout(r, next.at - Date.now());
      signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
    });
    if (signal.aborted) return;
    const path = resolve(dirname(file), next.c.experiment);
    const loaded = await loadExperimentFile(path);
    if (!loaded.experiment) onRun(next.c.name, undefined, loaded.problems.map((p) => p.message).join("; "));
    else onRun(next.c.name, await engine.run(loaded.experiment, { cwd: dirname(path) }));
  }
}
