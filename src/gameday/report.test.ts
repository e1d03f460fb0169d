import { describe, expect, it } from "vitest";
import { reportMarkdown, summarize, type GameDayReport, type ScenarioResult } from "./report.js";

function result(over: Partial<ScenarioResult>): ScenarioResult {
  return {
    name: "s",
    detected: true,
    detect_s: 4,
    diagnosed_right: true,
    diagnose_s: 8,
    recovered: true,
    recover_s: 20,
    automatic: true,
    target: "payments",
    fault: "latency",
    severity: "P1",
    expected_root_cause: "payments",
    incident: "inc_1",
    diagnosed_service: "payments",
    runbooks: ["shop-restart"],
    notes: [],
    ...over,
  };
}

describe("game day summary", () => {
  it("takes the median detection with undetected scenarios counted as slowest", () => {
    const s = summarize(
      [result({ detect_s: 2 }), result({ detect_s: 6 }), result({ detected: false, detect_s: null })],
      0,
      0,
    );
    expect(s.median_detect_s).toBe(6);
    expect(summarize([result({ detect_s: null, detected: false })], 0, 0).median_detect_s).toBeNull();
  });

  it("reports the slowest P0 recovery, or null when a P0 did not recover", () => {
    const rs = [
      result({ severity: "P0", recover_s: 30 }),
      result({ severity: "P0", recover_s: 45 }),
      result({ recover_s: 99 }),
    ];
    expect(summarize(rs, 0, 0).p0_max_recover_s).toBe(45);
    rs.push(result({ severity: "P0", recovered: false, recover_s: null }));
    expect(summarize(rs, 0, 0).p0_max_recover_s).toBeNull();
  });

  it("counts shares of right causes and automatic repairs", () => {
    const s = summarize(
      [result({}), result({ diagnosed_right: false }), result({ automatic: false }), result({})],
      2,
      1,
    );
    expect(s).toMatchObject({
      top1_right_share: 0.75,
      automatic_share: 0.75,
      false_incidents: 2,
      safety_violations: 1,
    });
  });

  it("renders every scenario and the targets in Markdown", () => {
    const scenarios = [
      result({ name: "payments slow" }),
      result({ name: "gateway down", diagnosed_right: false, diagnosed_service: "orders", notes: ["late"] }),
    ];
    const r: GameDayReport = {
      started: "2026-01-01T00:00:00.000Z",
      finished: "2026-01-01T00:10:00.000Z",
      quiet_minutes: 2,
      scenarios,
      false_incidents: 0,
      safety_violations: 0,
      violations: [],
      summary: summarize(scenarios, 0, 0),
    };
    const md = reportMarkdown(r);
    expect(md).toContain("| payments slow |");
    expect(md).toContain("✗ (payments)");
    expect(md).toContain("- gateway down: late");
    expect(md).toContain("| right top-ranked cause | 50% | at least 90% |");
  });
});
