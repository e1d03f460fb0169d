import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { detectorHelp, registerDetectCommand, runDetect } from "./detect-command.js";
import type { DetectIo } from "./detect-command.js";

function io(files: Record<string, string>): DetectIo & { out: string; err: string } {
  const s = {
    out: "",
    err: "",
    readFile: (p: string) => {
      const f = files[p];
      if (f === undefined) return Promise.reject(Object.assign(new Error("ENOENT"), { code: "ENOENT" }));
      return Promise.resolve(f);
    },
    stdout: (t: string) => {
      s.out += t;
    },
    stderr: (t: string) => {
      s.err += t;
    },
  };
  return s;
}

/** 5-minute samples of a noisy daily cycle with one large spike at row 1500. */
function csv(): string {
  const rows = ["timestamp,value"];
  let seed = 1;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < 1600; i++) {
    const t = Date.UTC(2026, 0, 1) + i * 300_000;
    const v = 100 + 30 * Math.sin((2 * Math.PI * t) / 86_400_000) + rnd() * 5 + (i === 1500 ? 400 : 0);
    rows.push(`${new Date(t).toISOString()},${v.toFixed(3)}`);
  }
  return rows.join("\n");
}

describe("novasre detect", () => {
  it("prints the anomalies with explanations, as text and as JSON, and exits 0", async () => {
    const s = io({ "a.csv": csv() });
    expect(await runDetect("a.csv", { detector: "robust" }, s)).toBe(0);
    expect(s.out).toMatch(/a\.csv: 1600 points, [1-9]\d* anomal/);
    expect(s.out).toContain("2026-01-06T05:00:00.000Z");
    expect(s.out).toMatch(/robust fired: observed 5\d\d\.\d+, expected \d+/);
    const j = io({ "a.csv": csv() });
    expect(await runDetect("a.csv", { json: true }, j)).toBe(0);
    const parsed = JSON.parse(j.out) as {
      points: number;
      anomalies: { timestamp: string; fired: string[] }[];
    };
    expect(parsed.points).toBe(1600);
    expect(parsed.anomalies.map((a) => a.timestamp)).toContain("2026-01-06T05:00:00.000Z");
  });

  it("exits 2 with one line on stderr for user errors", async () => {
    const cases: [string, { detector?: string; threshold?: string }, RegExp][] = [
      ["missing.csv", {}, /cannot read missing\.csv: no such file/],
      ["a.csv", { detector: "nope" }, /unknown detector "nope"/],
      ["a.csv", { threshold: "2" }, /--threshold must be a number in \[0, 1\]/],
      ["prose.md", {}, /not a timestamp,value CSV/],
      ["empty.csv", {}, /not a timestamp,value CSV/],
    ];
    for (const [file, opts, re] of cases) {
      const s = io({ "a.csv": csv(), "prose.md": "# Notes\nsome, prose\n", "empty.csv": "" });
      expect(await runDetect(file, opts, s)).toBe(2);
      expect(s.err).toMatch(re);
      expect(s.err.trim().split("\n")).toHaveLength(1);
      expect(s.out).toBe("");
    }
  });

  it("warns about dropped rows but still scores; a single point is not an error", async () => {
    const s = io({
      "b.csv": "t,v\n2026-01-01T00:00:00Z,1\n2026-01-01T00:05:00Z,\n",
      "one.csv": "2026-01-01T00:00:00Z,1\n",
    });
    expect(await runDetect("b.csv", {}, s)).toBe(0);
    expect(s.err).toMatch(/warning: b\.csv: 1 row\(s\) with an empty or non-numeric value dropped/);
    expect(await runDetect("one.csv", {}, s)).toBe(0);
    expect(s.out).toMatch(/only one point/);
  });

  it("registers a commander subcommand whose help lists every detector", () => {
    const program = new Command("novasre");
    const cmd = registerDetectCommand(program);
    expect(program.commands.map((c) => c.name())).toContain("detect");
    expect(cmd.options.map((o) => o.long)).toEqual(["--detector", "--threshold", "--json"]);
    expect(detectorHelp()).toMatch(
      /robust .*\n.*seasonal .*\n.*iforest .*\n.*lstm .*\n.*shift .*\n.*vote .*\n.*ensemble /,
    );
  });
});
