import { describe, expect, it } from "vitest";
import { CoarseSeasonal, COARSE_DEFAULTS } from "./coarse-seasonal.js";
import { SeasonalForecaster } from "./seasonal-forecaster.js";
import { dailySeries } from "../../test/support/series.js";

describe("CoarseSeasonal", () => {
  it("is the seasonal forecaster stepped once per block with the block's mean, at the block's last sample", () => {
    const { t, v } = dailySeries(4000, { seed: 3, noiseWidth: 8 });
    const coarse = new CoarseSeasonal();
    const k = COARSE_DEFAULTS.blockPoints;
    const plain = new SeasonalForecaster(COARSE_DEFAULTS.seasonal);
    let spoke = 0;
    for (let i = 0; i < t.length; i++) {
      const out = coarse.step(t[i] as number, v[i] as number);
      if ((i + 1) % k !== 0) {
        expect(out).toEqual({ surprise: 0, expected: null });
        continue;
      }
      const block = v.slice(i + 1 - k, i + 1);
      const ref = plain.step(t[i] as number, block.reduce((a, b) => a + b, 0) / k);
      expect(out).toEqual(ref);
      if (!Number.isNaN(out.surprise)) spoke++;
    }
    // 166 blocks, of which the forecaster needs 60 to fit and 30 residuals before it scores.
    expect(spoke).toBe(166 - 60 - 30);
  });

  it("sees a sustained small shift that the per-sample forecaster barely notices", () => {
    const { t, v } = dailySeries(5000, { seed: 5, noiseWidth: 8 });
    // About 0.9 standard deviations of the noise (uniform, 8 wide), for a day.
    for (let i = 4500; i < 4788; i++) v[i] = (v[i] as number) + 2;
    const coarse = new CoarseSeasonal();
    const fine = new SeasonalForecaster({ ...COARSE_DEFAULTS.seasonal, refitIntervalMs: 3_600_000 });
    const c: number[] = [];
    const f: number[] = [];
    for (let i = 0; i < t.length; i++) {
      c.push(coarse.step(t[i] as number, v[i] as number).surprise);
      f.push(fine.step(t[i] as number, v[i] as number).surprise);
    }
    const max = (a: number[], from: number, to: number): number =>
      Math.max(...a.slice(from, to).filter((x) => !Number.isNaN(x)));
    // Against its own normal days, each forecaster's largest surprise during the shift:
    const coarseGain = max(c, 4500, 4788) / max(c, 3500, 4500);
    const fineGain = max(f, 4500, 4788) / max(f, 3500, 4500);
    expect(coarseGain).toBeGreaterThan(2);
    expect(coarseGain).toBeGreaterThan(2 * fineGain);
  });

  it("a snapshot restored into a new member continues exactly like the original; bad states throw", () => {
    const { t, v } = dailySeries(3000, { seed: 9, noiseWidth: 8 });
    const a = new CoarseSeasonal();
    for (let i = 0; i < 2510; i++) a.step(t[i] as number, v[i] as number);
    const b = new CoarseSeasonal();
    b.restore(JSON.parse(JSON.stringify(a.snapshot())) as unknown);
    for (let i = 2510; i < 3000; i++)
      expect(b.step(t[i] as number, v[i] as number)).toEqual(a.step(t[i] as number, v[i] as number));
    const snap = a.snapshot() as Record<string, unknown>;
    expect(() => new CoarseSeasonal().restore({ ...snap, count: COARSE_DEFAULTS.blockPoints })).toThrow(
      /bad state/,
    );
    expect(() => new CoarseSeasonal().restore({ ...snap, inner: {} })).toThrow(/bad state/);
    expect(() => new CoarseSeasonal().restore({ ...snap, count: 0, sum: 12.5 })).toThrow(/bad state/);
  });
});
