import { describe, expect, it } from "vitest";
import {
  loadNabCorpus,
  nabCorpusPresent,
  readPublishedScores,
  readScoreboard,
  DEFAULT_NAB_DIR,
} from "../../bench/lib/nab-corpus.js";
import {
  nabProbationRows,
  prepareNabFile,
  scaledSigmoid,
  scoreNabAllProfiles,
  scoreNabCorpus,
  NAB_PROFILES,
} from "./nab-scorer.js";

describe("NAB scoring primitives", () => {
  it("uses NAB's probation: 15% of rows, at most 750", () => {
    expect(nabProbationRows(1000)).toBe(150);
    expect(nabProbationRows(4032)).toBe(604);
    expect(nabProbationRows(22695)).toBe(750);
  });

  it("weights early detections near +1, late ones near 0 and far false positives at -1", () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.9866, 4);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3.5)).toBe(-1);
  });

  it("scores a hand-made corpus: earliest detection per window, sigmoid-weighted false positives", () => {
    // 100 rows, probation 15, one window over rows 40..49.
    const t = Float64Array.from({ length: 100 }, (_, i) => i * 1000);
    const file = prepareNabFile("f", t, [{ start: 40_000, end: 49_000 }]);
    const none = new Float64Array(100);
    const std = NAB_PROFILES.standard;
    expect(scoreNabCorpus([file], [none], std).normalised).toBe(0);
    const first = new Float64Array(100);
    first[40] = 1;
    const r = scoreNabCorpus([file], [first], std);
    expect(r.normalised).toBeCloseTo(100, 6);
    // A detection far before the window costs a full fpWeight; the sweep then prefers threshold 0.9.
    const withFp = Float64Array.from(first);
    withFp[20] = 0.9;
    const r2 = scoreNabCorpus([file], [withFp], std);
    expect(r2.threshold).toBe(1);
    const both = Float64Array.from(first);
    both[20] = 1;
    const r3 = scoreNabCorpus([file], [both], std);
    expect(r3.raw).toBeCloseTo(1 - std.fpWeight, 6);
    // A late detection earns less than an early one.
    const late = new Float64Array(100);
    late[48] = 1;
    expect(scoreNabCorpus([file], [late], std).raw).toBeLessThan(r.raw);
  });
});

const present = nabCorpusPresent(DEFAULT_NAB_DIR);
if (!present)
  console.log(`NAB corpus not found at ${DEFAULT_NAB_DIR}: skipping the published-score reproduction`);

describe.skipIf(!present)("NAB scorer against published results", () => {
  it("reproduces windowedGaussian's published scores from its per-row output and gives the null detector 0", () => {
    const corpus = loadNabCorpus(DEFAULT_NAB_DIR);
    expect(corpus.length).toBe(58);
    const files = corpus.map((f) => f.prepared);
    const wg = corpus.map((f) => readPublishedScores(DEFAULT_NAB_DIR, "windowedGaussian", f.name));
    const published = readScoreboard(DEFAULT_NAB_DIR).windowedGaussian;
    const ours = scoreNabAllProfiles(files, wg).scores;
    expect(published).toBeDefined();
    expect(Math.abs(ours.standard - published!.standard)).toBeLessThan(0.01);
    expect(Math.abs(ours.reward_low_FP_rate - published!.reward_low_FP_rate)).toBeLessThan(0.01);
    expect(Math.abs(ours.reward_low_FN_rate - published!.reward_low_FN_rate)).toBeLessThan(0.01);
    const nulls = scoreNabAllProfiles(
      files,
      corpus.map((f) => new Float64Array(f.t.length)),
    ).scores;
    expect(nulls).toEqual({ standard: 0, reward_low_FP_rate: 0, reward_low_FN_rate: 0 });
  });
});
