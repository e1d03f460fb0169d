import { parseColumnName, inferKind, DEFAULT_COMPONENT_SUFFIXES } from "./metric-name.js";
import type { MetricFrame, MetricSeries } from "./types.js";

export interface CsvTable {
  header: string[];
  /** Column-major numeric cells; empty, `nan`, `null` and unparsable cells are NaN. */
  columns: Float64Array[];
  rows: number;
}

function parseCell(cell: string): number {
  const s = cell.trim();
  if (s === "") return Number.NaN;
  const v = Number(s);
  return Number.isFinite(v) ? v : Number.NaN;
}

/** Parses a numeric CSV with a header row (no quoting: metric exports do not use it). */
export function parseNumericCsv(text: string): CsvTable {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = (lines[0] ?? "").split(",").map((h) => h.trim());
  const rows = Math.max(0, lines.length - 1);
  const columns = header.map(() => new Float64Array(rows));
  for (let r = 0; r < rows; r++) {
    const cells = lines[r + 1]!.split(",");
    for (let c = 0; c < header.length; c++) columns[c]![r] = parseCell(cells[c] ?? "");
  }
  return { header, columns, rows };
}

/** Appends the rows of `b` after `a`, matching columns by name (a column missing in one side is NaN there). */
export function concatTables(a: CsvTable, b: CsvTable): CsvTable {
  const header = [...a.header];
  for (const h of b.header) if (!header.includes(h)) header.push(h);
  const rows = a.rows + b.rows;
  const columns = header.map((h) => {
    const out = new Float64Array(rows).fill(Number.NaN);
    const ia = a.header.indexOf(h);
    const ib = b.header.indexOf(h);
    if (ia >= 0) out.set(a.columns[ia]!, 0);
    if (ib >= 0) out.set(b.columns[ib]!, a.rows);
    return out;
  });
  return { header, columns, rows };
}

/**
 * Turns a table with a time column and `<service>_<metric>` columns into a frame. Columns that do not
 * follow the naming are skipped.
 */
export function tableToFrame(
  table: CsvTable,
  opts: { timeColumn?: string; componentSuffixes?: readonly string[] } = {},
): MetricFrame {
  const timeColumn = opts.timeColumn ?? "time";
  const ti = table.header.indexOf(timeColumn);
  const times = ti >= 0 ? table.columns[ti]! : Float64Array.from({ length: table.rows }, (_, i) => i);
  const series: MetricSeries[] = [];
  table.header.forEach((name, i) => {
    if (i === ti) return;
    const parsed = parseColumnName(name, opts.componentSuffixes ?? DEFAULT_COMPONENT_SUFFIXES);
    if (!parsed) return;
    series.push({ name, service: parsed.service, kind: inferKind(parsed.metric), values: table.columns[i]! });
  });
  return { times, series };
}
