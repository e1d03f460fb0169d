/** Reading the NAB corpus from disk (the benchmark's I/O edge; the detectors and scorer stay pure). */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTimestamp } from "../../src/detect/csv-series.js";
import { prepareNabFile } from "../../src/detect/nab-scorer.js";
import type { NabPreparedFile, NabWindow } from "../../src/detect/nab-scorer.js";

/** repo-root/../shared/nab, the house location of public data. */
export const DEFAULT_NAB_DIR = fileURLToPath(new URL("../../../shared/nab", import.meta.url));

export interface NabFile {
  /** e.g. `realKnownCause/nyc_taxi.csv`, the key used by NAB's label files. */
  name: string;
  t: Float64Array;
  v: Float64Array;
  prepared: NabPreparedFile;
}

export function nabCorpusPresent(dir: string): boolean {
  return existsSync(join(dir, "data")) && existsSync(join(dir, "labels", "combined_windows.json"));
}

export function readWindows(dir: string): Map<string, NabWindow[]> {
  const raw = JSON.parse(readFileSync(join(dir, "labels", "combined_windows.json"), "utf8")) as Record<
    string,
    [string, string][]
  >;
  const out = new Map<string, NabWindow[]>();
  for (const [name, ws] of Object.entries(raw)) {
    out.set(
      name,
      ws.map(([a, b]) => ({ start: parseTimestamp(a), end: parseTimestamp(b) })),
    );
  }
  return out;
}

/** Loads every labelled data file, sorted by name so runs are reproducible. */
export function loadNabCorpus(dir: string): NabFile[] {
  const windows = readWindows(dir);
  const names = [...windows.keys()].sort();
  return names.map((name) => {
    const { t, v } = readRawRows(join(dir, "data", name));
    return { name, t, v, prepared: prepareNabFile(name, t, windows.get(name) ?? []) };
  });
}

/**
 * NAB scores every row as it stands (a few files repeat timestamps), so the corpus is read row for row
 * rather than through parseSeriesCsv, which would drop the repeats.
 */
function readRawRows(path: string): { t: Float64Array; v: Float64Array } {
  const lines = readFileSync(path, "utf8").split("\n");
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    const c = line.indexOf(",");
    const ts = parseTimestamp(line.slice(0, c));
    const val = Number(line.slice(c + 1));
    if (!Number.isFinite(ts) || !Number.isFinite(val)) throw new Error(`${path}:${i + 1}: unreadable row`);
    t.push(ts);
    v.push(val);
  }
  return { t: Float64Array.from(t), v: Float64Array.from(v) };
}

/** The anomaly_score column (third) of a published per-row result file, e.g. results/windowedGaussian/... */
export function readPublishedScores(dir: string, detector: string, name: string): Float64Array {
  const slash = name.indexOf("/");
  const path = join(dir, "results", detector, name.slice(0, slash), `${detector}_${name.slice(slash + 1)}`);
  const lines = readFileSync(path, "utf8").split("\n");
  const header = (lines[0] ?? "").split(",");
  const col = header.indexOf("anomaly_score");
  if (col < 0) throw new Error(`${path}: no anomaly_score column`);
  const out: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === "") continue;
    out.push(Number(line.split(",", col + 1)[col]));
  }
  return Float64Array.from(out);
}

export function listCategories(dir: string): string[] {
  return readdirSync(join(dir, "data"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
}

export interface PublishedScores {
  standard: number;
  reward_low_FP_rate: number;
  reward_low_FN_rate: number;
}

export function readScoreboard(dir: string): Record<string, PublishedScores> {
  return JSON.parse(readFileSync(join(dir, "results", "final_results.json"), "utf8")) as Record<
    string,
    PublishedScores
  >;
}
