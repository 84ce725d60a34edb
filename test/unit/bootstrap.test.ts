import { describe, expect, it } from "vitest";
import { BOOTSTRAP_MAX_VALUES, meanInterval, normalQuantile } from "../../src/gate/bootstrap.js";
import { regressionCheck } from "../../src/gate/evaluate.js";
import { random } from "../helpers/random.js";

/** Roughly normal noise (a sum of uniforms), mean 0, sd about `sd`. */
function noise(rand: () => number, sd: number): number {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += rand();
  return (sum - 6) * sd;
}

describe("the paired bootstrap", () => {
  it("gives [0, 0] for identical data (every paired difference 0), by resampling and for large samples", () => {
    for (const n of [1, 200, BOOTSTRAP_MAX_VALUES + 1]) {
      const ci = meanInterval(new Array(n).fill(0), 0.95);
      expect(ci).toMatchObject({ mean: 0, low: 0, high: 0 });
      // The method a large sample of differing values would use: reports say how an interval was made.
      expect(ci?.method).toBe(n > BOOTSTRAP_MAX_VALUES ? "normal" : "bootstrap");
    }
    expect(meanInterval([0.7, 0.7, 0.7], 0.95)).toMatchObject({ mean: 0.7, low: 0.7, high: 0.7 });
    expect(meanInterval(new Array(BOOTSTRAP_MAX_VALUES + 1).fill(0.1), 0.95)).toMatchObject({
      mean: 0.1,
      low: 0.1,
      high: 0.1,
    });
  });

  it("is deterministic: the same values give the same interval, every time", () => {
    const rand = random(7);
    const values = Array.from({ length: 300 }, () => rand());
    const first = meanInterval(values, 0.95);
    expect(meanInterval([...values], 0.95)).toEqual(first);
    expect(meanInterval(Float64Array.from(values), 0.95)).toEqual(first);
  });

  it("excludes 0 for a clear shift and includes it for noise around an unchanged mean", () => {
    const rand = random(11);
    const shifted = Array.from({ length: 100 }, () => -0.1 + noise(rand, 0.1));
    const ci = meanInterval(shifted, 0.95);
    expect(ci?.high).toBeLessThan(0);
    expect(ci?.low).toBeLessThan(ci?.mean as number);
    const wobble = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 1 : -1) * 0.05 + noise(rand, 0.01));
    const around = meanInterval(wobble, 0.95);
    expect(around?.low).toBeLessThan(0);
    expect(around?.high).toBeGreaterThan(0);
  });

  it("covers the true mean about as often as its confidence says", () => {
    const rand = random(3);
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const sample = Array.from({ length: 60 }, () => 0.5 + noise(rand, 0.2));
      const ci = meanInterval(sample, 0.9, t + 1);
      if (ci && ci.low <= 0.5 && 0.5 <= ci.high) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.83);
    expect(covered / trials).toBeLessThan(0.96);
  });

  it("switches to the normal interval it converges to past BOOTSTRAP_MAX_VALUES, within the data's range", () => {
    const rand = random(5);
    const values = Array.from({ length: BOOTSTRAP_MAX_VALUES + 1 }, () => (rand() < 0.8 ? 1 : 0));
    const normal = meanInterval(values, 0.95);
    const boot = meanInterval(values.slice(0, BOOTSTRAP_MAX_VALUES), 0.95);
    expect(normal?.method).toBe("normal");
    expect(boot?.method).toBe("bootstrap");
    expect(Math.abs((normal?.low ?? 0) - (boot?.low ?? 1))).toBeLessThan(0.005);
    expect(Math.abs((normal?.high ?? 0) - (boot?.high ?? 1))).toBeLessThan(0.005);
    const nearlyAll = new Array(BOOTSTRAP_MAX_VALUES + 1).fill(1);
    nearlyAll[0] = 0;
    expect(meanInterval(nearlyAll, 0.95)?.high).toBeLessThanOrEqual(1);
  });

  it("with weights (trials per row), is the mean over results and brackets it, resampling rows whole", () => {
    // One row of 5 passing trials among 9 failing rows of one: 5 of 14 results pass, 1 of 10 rows.
    const values = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const weights = [5, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const ci = meanInterval(values, 0.95, undefined, weights);
    expect(ci?.mean).toBeCloseTo(5 / 14, 12);
    expect(ci?.low).toBeLessThanOrEqual(5 / 14);
    expect(ci?.high).toBeGreaterThanOrEqual(5 / 14);
    // Unweighted, the interval is the row mean's, which can leave the mean over results outside it.
    expect(meanInterval(values, 0.95)?.high).toBeLessThan(5 / 14);
    // Weights of one are no weights; order never matters.
    const rand = random(9);
    const many = Array.from({ length: 200 }, () => rand());
    expect(meanInterval(many, 0.95, undefined, new Array(200).fill(1))).toEqual(meanInterval(many, 0.95));
    const w = many.map((_, i) => 1 + (i % 3));
    const reversed = meanInterval([...many].reverse(), 0.95, undefined, [...w].reverse());
    expect(reversed).toEqual(meanInterval(many, 0.95, undefined, w));
    // Large samples: the normal interval around the same point, within the data's range.
    const big = Array.from({ length: BOOTSTRAP_MAX_VALUES + 1 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const bigWeights = big.map((v) => (v === 1 ? 3 : 1));
    const normal = meanInterval(big, 0.95, undefined, bigWeights);
    const results = 3 * Math.ceil(big.length / 4);
    const expected = results / (results + big.length - Math.ceil(big.length / 4));
    expect(normal?.method).toBe("normal");
    expect(normal?.mean).toBeCloseTo(expected, 10);
    expect(normal?.low).toBeLessThan(expected);
    expect(normal?.high).toBeGreaterThan(expected);
  });

  it("has no interval for no values", () => {
    expect(meanInterval([], 0.95)).toBeNull();
  });

  it("uses the standard normal quantile", () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 5);
  });
});

describe("the regression decision", () => {
  const options = { maxDrop: 0, confidence: 0.95, requireBaseline: false };
  const change = (diffs: number[]) => ({
    matched: diffs.length,
    estimate: meanInterval(diffs, 0.95),
    improvements: diffs.filter((d) => d > 0).length,
    regressions: diffs.filter((d) => d < 0).length,
  });
  const rand = random(17);

  it("fails a drop beyond noise and names the drop, its interval and the rows", () => {
    const diffs = Array.from({ length: 200 }, (_, i) => (i < 20 ? -1 : i < 24 ? 1 : 0));
    const check = regressionCheck("Factuality", change(diffs), options);
    expect(check.status).toBe("fail");
    expect(check.message).toMatch(
      /^Factuality dropped 8\.0% \[-\d+\.\d%, -\d+\.\d%\] at 95% over 200 matched rows; 20 regressed, 4 improved$/,
    );
  });

  it("says a drop over a few rows may be a noisy scorer's chance", () => {
    const one = regressionCheck("Factuality", change([-1]), options);
    expect(one.status).toBe("fail");
    expect(one.message).toMatch(
      /over 1 matched row; 1 regressed, 0 improved \(few rows: a noisy scorer can fail/,
    );
  });

  it("passes noise, an improvement, and a drop within --max-drop", () => {
    const wobble = Array.from({ length: 200 }, () => noise(rand, 0.01) * (rand() < 0.5 ? 1 : -1));
    expect(regressionCheck("s", change(wobble), options).message).toMatch(/within noise$/);
    const better = Array.from({ length: 200 }, (_, i) => (i < 30 ? 1 : 0));
    expect(regressionCheck("s", change(better), options)).toMatchObject({ status: "pass" });
    expect(regressionCheck("s", change(better), options).message).toMatch(/improved$/);
    const small = Array.from({ length: 200 }, (_, i) => (i < 10 ? -1 : 0));
    expect(regressionCheck("s", change(small), options).status).toBe("fail");
    const tolerated = regressionCheck("s", change(small), { ...options, maxDrop: 0.05 });
    expect(tolerated.status).toBe("pass");
    expect(tolerated.message).toMatch(/within --max-drop 5\.0%$/);
  });

  it("passes (or fails with --require-baseline) when no row matched", () => {
    const none = { matched: 0, estimate: null, improvements: 0, regressions: 0 };
    expect(regressionCheck("s", none, options).status).toBe("pass");
    expect(regressionCheck("s", none, { ...options, requireBaseline: true }).status).toBe("fail");
  });
});
