/**
 * Root-cause ranking on fault-injection cases laid out as `<dir>/.../<service>-<fault>/<case>/normal.csv`
 * and `anomalous.csv` (default: the Sock Shop development split in ../shared/rca).
 *
 *   npx tsx bench/rca.ts [--data DIR]
 *
 * Each case is fed as normal rows followed by anomalous rows on one continuous 1 s time axis (the real
 * recordings are days apart; re-timing them hides that gap, so the onset estimator has to find the fault
 * from the values alone). Runs: onset estimated by us (the headline figures), onset given 60 s after the
 * true boundary (`_late60`), onset given exactly (`_given`, the setting of the published BARO figures), and
 * the plain BARO maximum instead of the held level (`_plain_max`, onset estimated).
 * Prints progress to stderr and one JSON object as the last line of stdout; writes bench/results/rca.json.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { concatTables, parseNumericCsv, rankRootCauses, tableToFrame } from "../src/rca/index.js";
import type { MetricFrame, MetricSeries } from "../src/rca/index.js";

const LATE_ONSET_SECONDS = 60;
const TOP_K = 5;
const SYNTH_SERVICES = 50;
const SYNTH_METRICS = 20;
const SYNTH_SAMPLES = 600;
const SYNTH_RUNS = 5;
const ONSET_TRIALS = 40;

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const dataArg = process.argv.indexOf("--data");
const dataDir =
  dataArg >= 0 && process.argv[dataArg + 1]
    ? process.argv[dataArg + 1]!
    : fileURLToPath(new URL("../../shared/rca/", import.meta.url));

function findCases(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    const entries = readdirSync(d).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    if (entries.includes("normal.csv") && entries.includes("anomalous.csv")) out.push(d);
    for (const e of entries) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** `<service>-<fault>`: the fault is the last dash-separated part, the service may contain dashes. */
function truthOf(caseDir: string): { service: string; fault: string } {
  const folder = basename(dirname(caseDir));
  const at = folder.lastIndexOf("-");
  return at > 0
    ? { service: folder.slice(0, at), fault: folder.slice(at + 1) }
    : { service: folder, fault: "" };
}

function loadCase(caseDir: string): { frame: MetricFrame; boundaryTime: number } {
  const normal = parseNumericCsv(readFileSync(join(caseDir, "normal.csv"), "utf8"));
  const anomalous = parseNumericCsv(readFileSync(join(caseDir, "anomalous.csv"), "utf8"));
  const table = concatTables(normal, anomalous);
  const ti = table.header.indexOf("time");
  const t0 = ti >= 0 && Number.isFinite(table.columns[ti]![0]!) ? table.columns[ti]![0]! : 0;
  if (ti >= 0) for (let i = 0; i < table.rows; i++) table.columns[ti]![i] = t0 + i;
  return { frame: tableToFrame(table), boundaryTime: t0 + normal.rows };
}

function rankOf(service: string, ranked: string[]): number {
  const i = ranked.indexOf(service);
  return i < 0 ? Infinity : i + 1;
}

function accuracy(ranks: number[]): { ac: number[]; avg5: number } {
  const ac = Array.from(
    { length: TOP_K },
    (_, k) => ranks.filter((r) => r <= k + 1).length / Math.max(1, ranks.length),
  );
  return { ac, avg5: ac.reduce((a, b) => a + b, 0) / TOP_K };
}

/** Deterministic PRNG (mulberry32) so the synthetic timing input is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function synthetic(): { frame: MetricFrame; culprit: string } {
  const rand = rng(42);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const onset = Math.floor(SYNTH_SAMPLES * 0.6);
  const culprit = "svc-17";
  const series: MetricSeries[] = [];
  const kinds = ["cpu", "mem", "latency", "errors"] as const;
  for (let s = 0; s < SYNTH_SERVICES; s++) {
    for (let m = 0; m < SYNTH_METRICS; m++) {
      const values = new Float64Array(SYNTH_SAMPLES);
      const base = 10 + 100 * rand();
      for (let i = 0; i < SYNTH_SAMPLES; i++) values[i] = base + gauss() * base * 0.05;
      const service = `svc-${s}`;
      if (service === culprit && m < 3)
        for (let i = onset; i < SYNTH_SAMPLES; i++) values[i] = values[i]! + base;
      if (s === 18 && m === 0)
        for (let i = onset + 5; i < SYNTH_SAMPLES; i++) values[i] = values[i]! + base * 0.3;
      series.push({ name: `${service}_m${m}`, service, kind: kinds[m % kinds.length]!, values });
    }
  }
  return { frame: { times: Float64Array.from({ length: SYNTH_SAMPLES }, (_, i) => i), series }, culprit };
}

/**
 * Synthetic incidents without the stitch between two recordings that the real cases have: the change
 * point is anywhere in the middle 70% of the window, the culprit moves 1-2 metrics by 4-10 noise widths
 * (a step or a ramp), two other services follow 3-20 s later and weaker, some metrics trend or spike.
 * Measures the onset estimator where the fault is the only change.
 */
function onsetTrials(): { within10: number; medianAbsErr: number; ac1: number; ac1PlainMax: number } {
  const rand = rng(7);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const n = 600;
  const errs: number[] = [];
  let hits = 0;
  let plainHits = 0;
  for (let trial = 0; trial < ONSET_TRIALS; trial++) {
    const cp = Math.floor(n * (0.15 + 0.7 * rand()));
    const culprit = Math.floor(rand() * 20);
    const followers = [
      (culprit + 1 + Math.floor(rand() * 19)) % 20,
      (culprit + 1 + Math.floor(rand() * 19)) % 20,
    ];
    const series: MetricSeries[] = [];
    for (let s = 0; s < 20; s++) {
      for (let m = 0; m < 5; m++) {
        const sd = 1 + 4 * rand();
        const base = 50 + 100 * rand();
        const values = new Float64Array(n);
        for (let i = 0; i < n; i++) values[i] = base + sd * gauss();
        if (m === 4 && s % 5 === 0) for (let i = 0; i < n; i++) values[i] = values[i]! + (i * sd) / 100;
        if (m === 3 && s % 4 === 0) values[Math.floor(rand() * n)] = base + 30 * sd;
        if (s === culprit && m < 1 + Math.floor(rand() * 2)) {
          const size = (4 + 6 * rand()) * sd;
          const ramp = rand() < 0.5;
          for (let i = cp; i < n; i++)
            values[i] = values[i]! + (ramp ? size * Math.min(1, (i - cp) / 60) : size);
        } else if (followers.includes(s) && m === 2) {
          const lag = 3 + Math.floor(rand() * 18);
          for (let i = cp + lag; i < n; i++) values[i] = values[i]! + 2 * sd;
        }
        series.push({ name: `s${s}_m${m}`, service: `s${s}`, kind: "other", values });
      }
    }
    const frame: MetricFrame = { times: Float64Array.from({ length: n }, (_, i) => i), series };
    const r = rankRootCauses(frame);
    errs.push(Math.abs(r.onset.index - cp));
    if (r.candidates[0]?.service === `s${culprit}`) hits++;
    const plain = rankRootCauses(frame, { scoring: { persistenceSamples: 1 } });
    if (plain.candidates[0]?.service === `s${culprit}`) plainHits++;
  }
  errs.sort((a, b) => a - b);
  return {
    within10: errs.filter((e) => e <= 10).length / errs.length,
    medianAbsErr: errs[Math.floor(errs.length / 2)]!,
    ac1: hits / ONSET_TRIALS,
    ac1PlainMax: plainHits / ONSET_TRIALS,
  };
}

const cases = existsSync(dataDir) ? findCases(dataDir) : [];
if (cases.length === 0) {
  console.error(`no cases under ${dataDir}`);
  process.exit(1);
}

const ranksEst: number[] = [];
const ranksLate: number[] = [];
const ranksGiven: number[] = [];
const ranksPlainMax: number[] = [];
const onsetErrors: number[] = [];
let kindHits = 0;
let msTotal = 0;
for (const c of cases) {
  const truth = truthOf(c);
  const { frame, boundaryTime } = loadCase(c);
  const t0 = performance.now();
  const est = rankRootCauses(frame);
  msTotal += performance.now() - t0;
  const late = rankRootCauses(frame, { onsetTime: boundaryTime + LATE_ONSET_SECONDS });
  const given = rankRootCauses(frame, { onsetTime: boundaryTime });
  ranksGiven.push(
    rankOf(
      truth.service,
      given.candidates.map((x) => x.service),
    ),
  );
  const plain = rankRootCauses(frame, { scoring: { persistenceSamples: 1 } });
  ranksPlainMax.push(
    rankOf(
      truth.service,
      plain.candidates.map((x) => x.service),
    ),
  );
  const rEst = rankOf(
    truth.service,
    est.candidates.map((x) => x.service),
  );
  const rLate = rankOf(
    truth.service,
    late.candidates.map((x) => x.service),
  );
  ranksEst.push(rEst);
  ranksLate.push(rLate);
  onsetErrors.push(est.onset.time - boundaryTime);
  if (rEst === 1 && est.candidates[0]?.kind === truth.fault) kindHits++;
  const top = est.candidates
    .slice(0, 3)
    .map((x) => `${x.service}:${x.metric}`)
    .join(" ");
  console.error(
    `${relative(dataDir, c)}  rank=${rEst} late60=${rLate} onsetErr=${est.onset.time - boundaryTime}s  top: ${top}`,
  );
}

const synth = synthetic();
rankRootCauses(synth.frame); // warm-up: JIT, so the timing is of steady-state code
const ts = performance.now();
let synthTop = "";
for (let i = 0; i < SYNTH_RUNS; i++) synthTop = rankRootCauses(synth.frame).candidates[0]?.service ?? "";
const ms50x20 = (performance.now() - ts) / SYNTH_RUNS;

const trials = onsetTrials();
const e = accuracy(ranksEst);
const l = accuracy(ranksLate);
const g = accuracy(ranksGiven);
const pm = accuracy(ranksPlainMax);
const absErr = onsetErrors.map(Math.abs).sort((a, b) => a - b);
const round = (x: number, d = 4): number => Number(x.toFixed(d));
const result = {
  cases: cases.length,
  ac1: round(e.ac[0]!),
  ac3: round(e.ac[2]!),
  avg5: round(e.avg5),
  ac1_late60: round(l.ac[0]!),
  ac3_late60: round(l.ac[2]!),
  avg5_late60: round(l.avg5),
  ac1_given: round(g.ac[0]!),
  avg5_given: round(g.avg5),
  ac1_plain_max: round(pm.ac[0]!),
  avg5_plain_max: round(pm.avg5),
  ms_per_case: round(msTotal / cases.length, 2),
  onset_abs_err_median_s: absErr[Math.floor(absErr.length / 2)] ?? 0,
  onset_abs_err_max_s: absErr[absErr.length - 1] ?? 0,
  onset_within_10s: round(absErr.filter((x) => x <= 10).length / absErr.length),
  kind_ac1: round(kindHits / cases.length),
  ms_50x20: round(ms50x20, 1),
  synthetic_onset_trials: ONSET_TRIALS,
  synthetic_onset_within_10s: round(trials.within10),
  synthetic_onset_abs_err_median_s: trials.medianAbsErr,
  synthetic_ac1: round(trials.ac1),
  synthetic_ac1_plain_max: round(trials.ac1PlainMax),
  synthetic_50x20_top1_correct: synthTop === synth.culprit,
  data: relative(repoRoot, dataDir) || ".",
};
mkdirSync(join(repoRoot, "bench", "results"), { recursive: true });
writeFileSync(join(repoRoot, "bench", "results", "rca.json"), JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result));
