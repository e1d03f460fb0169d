import { describe, expect, it } from "vitest";
import { SCORING_DEFAULTS, SUPPRESSION_DEFAULTS, ScoreTrack, Suppressor } from "./scoring.js";
import { Rng, SortedWindow } from "./stats.js";

describe("SortedWindow", () => {
  it("matches brute-force median, MAD and quantiles over a sliding window", () => {
    const rng = new Rng(42);
    const w = new SortedWindow(37);
    const all: number[] = [];
    for (let i = 0; i < 500; i++) {
      const x = Math.round(rng.next() * 20); // many ties
      w.push(x);
      all.push(x);
      const win = all.slice(-37).sort((a, b) => a - b);
      const n = win.length;
      const med = n % 2 ? win[(n - 1) / 2]! : (win[n / 2 - 1]! + win[n / 2]!) / 2;
      expect(w.median()).toBe(med);
      const dev = win.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
      expect(w.mad(med)).toBe(dev[(n - 1) >> 1]);
      expect(w.countBelowOrEqual(10)).toBe(win.filter((v) => v <= 10).length);
    }
  });
});

describe("scores", () => {
  it("maps surprise into [0, 1) without saturating and scores warm-up (NaN) as 0", () => {
    const tr = new ScoreTrack({ ...SCORING_DEFAULTS, calibrationHalfLifePoints: 0 });
    expect(tr.score(Number.NaN)).toBe(0);
    expect(tr.score(0)).toBe(0);
    const a = tr.score(100);
    const b = tr.score(10_000);
    expect(a).toBeLessThan(b);
    expect(b).toBeLessThan(1);
  });

  it("calibrates: a repeat of a recent surprise scores less than the first, and recovers as it decays", () => {
    const tr = new ScoreTrack({ ...SCORING_DEFAULTS, calibrationHalfLifePoints: 10 });
    const first = tr.score(50);
    const repeat = tr.score(50);
    expect(first).toBeGreaterThan(0);
    expect(repeat).toBeLessThan(0.5 * first);
    for (let i = 0; i < 100; i++) tr.score(0);
    expect(tr.score(50)).toBeGreaterThan(0.9 * first);
  });

  it("suppresses: at any threshold a burst alerts once, at its start", () => {
    const sup = new Suppressor({ ...SUPPRESSION_DEFAULTS, suppressPoints: 5, suppressFactor: 0.5 });
    const out = [0, 0.8, 0.7, 0.8, 0.6, 0, 0, 0, 0, 0, 0, 0.8].map((s) => sup.apply(s));
    expect(out).toEqual([0, 0.8, 0.35, 0.4, 0.3, 0, 0, 0, 0, 0, 0, 0.8]);
    for (const threshold of [0.5, 0.75]) {
      const alerts = out.map((s, i) => (s >= threshold ? i : -1)).filter((i) => i >= 0);
      expect(alerts).toEqual([1, 11]);
    }
  });
});

describe("Suppressor window maximum", () => {
  it("matches a brute-force scan of the last suppressPoints raw scores, also after a restore", () => {
    const rng = new Rng(3);
    const n = 7;
    let sup = new Suppressor({ ...SUPPRESSION_DEFAULTS, suppressPoints: n, suppressFactor: 0.5 });
    const raw: number[] = [];
    for (let i = 0; i < 400; i++) {
      const x = rng.next() < 0.3 ? 0 : Math.round(rng.next() * 10) / 10; // ties and zeros
      const max = Math.max(0, ...raw.slice(-n));
      expect(sup.apply(x)).toBe(x > max ? x : x * 0.5);
      raw.push(x);
      if (i === 200) {
        const again = new Suppressor({ ...SUPPRESSION_DEFAULTS, suppressPoints: n, suppressFactor: 0.5 });
        again.restore(JSON.parse(JSON.stringify(sup.snapshot())));
        sup = again;
      }
    }
  });
});

describe("Suppressor refractory period", () => {
  it("zeroes the scores after an alert, also rising ones, then alerts again; a restore keeps the count", () => {
    const opts = { suppressPoints: 0, suppressFactor: 1, refractoryPoints: 3, alertThreshold: 0.5 };
    let sup = new Suppressor(opts);
    const run = (xs: number[]) => xs.map((x) => sup.apply(x));
    // 0.6 alerts; 0.7 and 0.9 would each beat it, yet are the same event.
    expect(run([0.1, 0.6, 0.7])).toEqual([0.1, 0.6, 0]);
    const again = new Suppressor(opts);
    again.restore(JSON.parse(JSON.stringify(sup.snapshot())));
    sup = again;
    expect(run([0.9, 0.2, 0.8, 0.4, 0.7])).toEqual([0, 0, 0.8, 0, 0]);
    // Below the alert level nothing starts a quiet period.
    expect(run([0, 0.4, 0.45, 0.3])).toEqual([0, 0.4, 0.45, 0.3]);
  });

  it("restores an older snapshot without a count, and refuses a bad one", () => {
    const sup = new Suppressor({ ...SUPPRESSION_DEFAULTS, alertThreshold: 0.5 });
    sup.restore({ recent: [0.1] });
    expect(sup.apply(0.6)).toBe(0.6);
    expect(sup.apply(0.9)).toBe(0);
    expect(() => sup.restore({ recent: [], quiet: -1 })).toThrow(/bad state/);
    expect(() => sup.restore({ recent: [], quiet: "3" })).toThrow(/bad state/);
  });
});
