import { describe, expect, it } from "vitest";
import { createDetector, DETECTOR_DESCRIPTIONS, DETECTOR_NAMES, restoreDetector } from "./index.js";
import { dailySeries, FIVE_MIN, T0 } from "../../test/support/series.js";

describe("every detector", () => {
  it("has a one-line description", () => {
    for (const n of DETECTOR_NAMES) expect(DETECTOR_DESCRIPTIONS[n]).toMatch(/\S/);
  });

  for (const name of DETECTOR_NAMES) {
    it(`${name}: scores the anomaly it is built for far above the normal samples, with finite scores in [0, 1]`, () => {
      // The coarse forecaster learns from 2-hour block means: it needs a longer history before it speaks.
      const n = name === "coarse" ? 4000 : 1500;
      const at = n - 100;
      const { t, v } = dailySeries(n);
      // The window members test windows, not points: give them a sustained shift instead of a spike;
      // the stuck-value member, a value that stops changing.
      const sustained = name === "shift" || name === "coarse";
      if (sustained) for (let i = at; i < n; i++) v[i] = (v[i] as number) + 200;
      else if (name === "stuck") for (let i = at; i < n; i++) v[i] = v[at] as number;
      else v[at] = (v[at] as number) + 200;
      const d = createDetector(name);
      const scores = t.map((ti, i) => d.update(ti, v[i] as number).score);
      for (const s of scores) {
        expect(Number.isFinite(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
      }
      const normalMax = Math.max(...scores.slice(at - 400, at));
      expect(Math.max(...scores.slice(at, sustained || name === "stuck" ? n : at + 20))).toBeGreaterThan(
        normalMax,
      );
    });
  }

  for (const name of DETECTOR_NAMES) {
    it(`${name}: a snapshot restored into a new detector continues exactly like the original`, () => {
      // The coarse and stuck members get a series on which they fire after the split, which falls inside
      // a block and inside the run that fires; the others, 900 noisy samples.
      const long = name === "coarse" || name === "stuck";
      const n = long ? 4000 : 900;
      const split = long ? 3005 : 600;
      const { t, v } = dailySeries(n, { seed: 11 });
      if (name === "coarse") for (let i = 3300; i < n; i++) v[i] = (v[i] as number) + 200;
      if (name === "stuck")
        for (let i = 0; i < n; i++) v[i] = i >= 3000 && i < 3100 ? 4 : Math.floor(i / 3) % 7;
      const a = createDetector(name);
      for (let i = 0; i < split; i++) a.update(t[i] as number, v[i] as number);
      const snap = JSON.parse(JSON.stringify(a.snapshot())) as unknown;
      const restored = restoreDetector(snap);
      expect(restored.status === "error" ? restored.error : "ok").toBe("ok");
      if (restored.status !== "ok") return;
      const b = restored.value;
      let max = 0;
      for (let i = split; i < n; i++) {
        const r = a.update(t[i] as number, v[i] as number);
        expect(b.update(t[i] as number, v[i] as number)).toEqual(r);
        max = Math.max(max, r.score);
      }
      if (long) expect(max).toBeGreaterThan(0);
    });
  }
});

describe("online, bad input, explanations", () => {
  it("is online: a sample's score does not depend on later samples", () => {
    const { t, v } = dailySeries(800, { seed: 3 });
    const a = createDetector("ensemble");
    const b = createDetector("ensemble");
    const sa = t.map((ti, i) => a.update(ti, v[i] as number).score);
    const v2 = v.map((x, i) => (i >= 700 ? x * 5 : x));
    const sb = t.map((ti, i) => b.update(ti, v2[i] as number).score);
    expect(sb.slice(0, 700)).toEqual(sa.slice(0, 700));
  });

  it("ignores NaN, infinite and out-of-order samples without changing its state", () => {
    const { t, v } = dailySeries(400, { seed: 5 });
    const a = createDetector("ensemble");
    const b = createDetector("ensemble");
    for (let i = 0; i < 300; i++) {
      a.update(t[i] as number, v[i] as number);
      b.update(t[i] as number, v[i] as number);
    }
    const bad = [
      b.update(t[299] as number, Number.NaN),
      b.update(Number.NaN, 1),
      b.update((t[100] as number) - 1, 5),
      b.update(t[299] as number, Number.POSITIVE_INFINITY),
    ];
    for (const r of bad) {
      expect(r.score).toBe(0);
      expect(r.anomaly).toBe(false);
      expect(r.ignored).toMatch(/finite|older/);
    }
    for (let i = 300; i < 400; i++)
      expect(b.update(t[i] as number, v[i] as number)).toEqual(a.update(t[i] as number, v[i] as number));
  });

  it("scores a repeated timestamp as a new sample and copes with gaps", () => {
    const d = createDetector("ensemble");
    const { t, v } = dailySeries(400, { seed: 9 });
    for (let i = 0; i < 400; i++) {
      const ti = i < 200 ? (t[i] as number) : (t[i] as number) + 30 * 86_400_000; // a 30-day gap
      const r = d.update(ti, v[i] as number);
      expect(Number.isFinite(r.score)).toBe(true);
      if (i === 50) expect(d.update(ti, v[i] as number).ignored).toBeUndefined();
    }
  });

  for (const name of DETECTOR_NAMES) {
    it(`${name}: a constant series scores 0 and a single point is fine`, () => {
      const d = createDetector(name);
      const scores: number[] = [];
      // The coarse forecaster needs 90 two-hour blocks before it speaks.
      const n = name === "coarse" ? 4000 : 1300;
      for (let i = 0; i < n; i++) scores.push(d.update(T0 + i * FIVE_MIN, 42).score);
      expect(Math.max(...scores)).toBe(0);
      // Leaving the constant is the anomaly, except for the stuck-value member: to it a constant series
      // is one run, never judged, and a new value starts a short run.
      let jump = 0;
      for (let i = n; i < n + 40; i++) jump = Math.max(jump, d.update(T0 + i * FIVE_MIN, 90).score);
      if (name === "stuck") expect(jump).toBe(0);
      else expect(jump).toBeGreaterThan(0);
      const one = createDetector(name).update(T0, 1);
      expect(one.score).toBe(0);
      expect(one.expected).toBeNull();
    });
  }

  it("explains a firing: which detectors fired, expected versus observed", () => {
    const { t, v } = dailySeries(1500, { seed: 13 });
    v[1400] = (v[1400] as number) + 300;
    const d = createDetector("ensemble");
    const results = t.map((ti, i) => d.update(ti, v[i] as number));
    const hit = results[1400];
    if (hit === undefined) throw new Error("no result at the spike");
    expect(hit.anomaly).toBe(true);
    expect(hit.fired.length).toBeGreaterThan(0);
    expect(hit.explanation).toContain("fired");
    expect(hit.explanation).toMatch(/observed [\d.]+, expected [\d.]+/);
    expect(Math.abs((hit.expected ?? Number.NaN) - 50)).toBeLessThan(40);
  });

  it("a member listed in maxFactors joins by maximum, scaled, instead of the weighted mean", () => {
    // A square wave, then one spike: only the resonance member sees anything here (stuck needs a run).
    const n = 2400;
    const t = Array.from({ length: n }, (_, i) => T0 + i * FIVE_MIN);
    const v = t.map((_, i) => (Math.floor(i / 20) % 2) * 10 + ((i * 7919) % 13) / 65);
    v[2000] = 30;
    const alone = createDetector("resonance");
    const byMax = createDetector("ensemble", {
      ensemble: { members: ["stuck", "resonance"], weights: [1], maxFactors: { resonance: 0.045 } },
    });
    const inMean = createDetector("ensemble", {
      ensemble: { members: ["stuck", "resonance"], weights: [1, 1], maxFactors: {} },
    });
    let hits = 0;
    let alerts = 0;
    for (let i = 0; i < n; i++) {
      const a = alone.update(t[i] as number, v[i] as number);
      const m = byMax.update(t[i] as number, v[i] as number);
      const w = inMean.update(t[i] as number, v[i] as number);
      if (a.score === 0) continue;
      hits++;
      expect(m.score).toBeCloseTo(0.045 * a.score, 12);
      expect(w.score).toBeCloseTo(0.5 * a.score, 12);
      expect(m.anomaly).toBe(0.045 * a.score >= 0.0265);
      if (m.anomaly) {
        alerts++;
        expect(m.fired).toEqual(["resonance"]);
      }
    }
    expect(hits).toBeGreaterThan(0);
    expect(alerts).toBeGreaterThan(0);
  });

  it("restore rejects a snapshot of another detector or garbage, as a value", () => {
    const d = createDetector("robust");
    expect(d.restore(createDetector("seasonal").snapshot()).status).toBe("error");
    expect(d.restore({ hello: 1 }).status).toBe("error");
    expect(restoreDetector("nope").status).toBe("error");
    const snap = createDetector("robust").snapshot();
    expect(
      d.restore({
        ...snap,
        state: { lastT: null, members: [{ values: "x" }], tracks: [{ ref: 0 }], suppressor: { recent: [] } },
      }).status,
    ).toBe("error");
    // Options travel inside the snapshot; options a member refuses are a malformed snapshot, not a throw.
    const ens = createDetector("ensemble").snapshot();
    const bad = restoreDetector({ ...ens, options: { members: { coarse: { blockPoints: 0 } } } });
    expect(bad.status === "error" ? bad.error : "ok").toMatch(
      /snapshot options are malformed: .*blockPoints/,
    );
  });
});
