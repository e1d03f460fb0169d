/** One scenario's outcome; the first eight keys are the documented report format. */
export interface ScenarioResult {
  name: string;
  detected: boolean;
  detect_s: number | null;
  diagnosed_right: boolean;
  diagnose_s: number | null;
  recovered: boolean;
  recover_s: number | null;
  automatic: boolean;
  target: string;
  fault: string;
  severity: string;
  expected_root_cause: string;
  incident: string | null;
  diagnosed_service: string | null;
  runbooks: string[];
  notes: string[];
}

export interface GameDaySummary {
  scenarios: number;
  /** Median time to detect; a scenario never detected counts as not detected within its duration (null if none was). */
  median_detect_s: number | null;
  /** Slowest recovery of a P0 scenario; null when a P0 scenario did not recover (or there is none: 0). */
  p0_max_recover_s: number | null;
  top1_right_share: number;
  automatic_share: number;
  false_incidents: number;
  safety_violations: number;
}

export interface GameDayReport {
  started: string;
  finished: string;
  quiet_minutes: number;
  scenarios: ScenarioResult[];
  false_incidents: number;
  safety_violations: number;
  violations: string[];
  summary: GameDaySummary;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function summarize(
  results: ScenarioResult[],
  falseIncidents: number,
  violations: number,
): GameDaySummary {
  const n = results.length;
  // Undetected scenarios sort last: the median is then an honest upper bound.
  const detects = results.map((r) => (r.detect_s === null ? Number.POSITIVE_INFINITY : r.detect_s));
  const med = median(detects);
  const p0 = results.filter((r) => r.severity === "P0");
  const p0max = p0.some((r) => !r.recovered) ? null : p0.reduce((m, r) => Math.max(m, r.recover_s ?? 0), 0);
  return {
    scenarios: n,
    median_detect_s: med === null || !Number.isFinite(med) ? null : med,
    p0_max_recover_s: p0max,
    top1_right_share: n ? round(results.filter((r) => r.diagnosed_right).length / n) : 0,
    automatic_share: n ? round(results.filter((r) => r.automatic).length / n) : 0,
    false_incidents: falseIncidents,
    safety_violations: violations,
  };
}

const s = (v: number | null) => (v === null ? "—" : `${v.toFixed(1)} s`);
const yes = (b: boolean) => (b ? "yes" : "**no**");

/** The report as Markdown: a table per scenario and the summary against the targets. */
export function reportMarkdown(r: GameDayReport): string {
  const m = r.summary;
  const lines = [
    "# NovaCron SRE game day",
    "",
    `${r.started} – ${r.finished}`,
    "",
    "| scenario | fault | target | detected | time to detect | top cause (expected) | time to diagnosis | recovered | time to recover | automatic | runbooks |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...r.scenarios.map(
      (x) =>
        `| ${x.name} | ${x.fault} | ${x.target} | ${yes(x.detected)} | ${s(x.detect_s)} | ${x.diagnosed_service ?? "—"} ${x.diagnosed_right ? "✓" : `✗ (${x.expected_root_cause})`} | ${s(x.diagnose_s)} | ${yes(x.recovered)} | ${s(x.recover_s)} | ${yes(x.automatic)} | ${x.runbooks.join(", ") || "—"} |`,
    ),
    "",
    "## Summary",
    "",
    "| figure | value | target |",
    "|---|---|---|",
    `| median time to detect | ${s(m.median_detect_s)} | under 10 s |`,
    `| slowest P0 recovery | ${m.p0_max_recover_s === null ? "a P0 scenario did not recover" : r.scenarios.some((x) => x.severity === "P0") ? s(m.p0_max_recover_s) : "no P0 scenario"} | within 60 s |`,
    `| right top-ranked cause | ${(m.top1_right_share * 100).toFixed(0)}% | at least 90% |`,
    `| automatic remediation | ${(m.automatic_share * 100).toFixed(0)}% | at least 95% |`,
    `| false incidents in ${r.quiet_minutes} fault-free minute(s) | ${m.false_incidents} | 0 |`,
    `| safety violations | ${m.safety_violations} | 0 |`,
    "",
  ];
  const notes = r.scenarios.filter((x) => x.notes.length);
  if (notes.length || r.violations.length) {
    lines.push("## Notes", "");
    for (const x of notes) lines.push(`- ${x.name}: ${x.notes.join("; ")}`);
    for (const v of r.violations) lines.push(`- safety: ${v}`);
    lines.push("");
  }
  return lines.join("\n");
}
