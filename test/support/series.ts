import { Rng } from "../../src/detect/stats.js";

/** Sample spacing of the synthetic series (ms): 5 minutes, as most NAB files. */
export const FIVE_MIN = 300_000;
/** First sample time of the synthetic series: a Monday, so weekly terms start at a known phase. */
export const T0 = Date.UTC(2026, 0, 5);

/** A daily sine (50 +- 20) with uniform noise `noiseWidth` wide, 5-minute samples; deterministic per seed. */
export function dailySeries(
  n: number,
  { seed = 7, noiseWidth = 4 }: { seed?: number; noiseWidth?: number } = {},
): { t: number[]; v: number[] } {
  const rng = new Rng(seed);
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < n; i++) {
    const ti = T0 + i * FIVE_MIN;
    t.push(ti);
    v.push(50 + 20 * Math.sin((2 * Math.PI * ti) / 86_400_000) + (rng.next() - 0.5) * noiseWidth);
  }
  return { t, v };
}
