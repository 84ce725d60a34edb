/**
 * Confidence intervals for a mean, by a percentile bootstrap with a fixed seed: the same values always give the
 * same interval, so re-running a gate on the same data gives the same verdict.
 */

import { stable } from "../summary/stable.js";

/** The generator's seed for every interval evalrun computes (any constant works; this one is documented). */
export const BOOTSTRAP_SEED = 0x5eed;

/** Resamples per interval: enough for stable 2.5% / 97.5% percentiles (50 draws beyond each). */
export const RESAMPLES = 2000;

/**
 * Past this many values the bootstrap's cost (RESAMPLES × n draws, ~7 ns each) buys nothing: its distribution of
 * the mean is then normal to within the resampling noise, so the normal interval it converges to is used instead.
 */
export const BOOTSTRAP_MAX_VALUES = 5000;

export interface Interval {
  low: number;
  high: number;
  /** How it was computed: resampling, or the normal approximation for large samples. */
  method: "bootstrap" | "normal";
}

export interface MeanEstimate extends Interval {
  mean: number;
  n: number;
}

/**
 * The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9), for the normal
 * interval of large samples.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const tail = (q: number) =>
    (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
    (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
  );
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return sum / values.length;
}

/**
 * The mean of `values` with a two-sided interval at `confidence` (e.g. 0.95): the 2.5th and 97.5th percentiles of
 * the means of RESAMPLES resamples drawn with replacement. Null for no values. The values are sorted first, so
 * the interval depends on them alone, never on the order rows finished, were stored or were sharded in.
 * With `weights` (each row's count of results), the mean is over results, Σ w·v / Σ w, as the summary's is, and
 * rows are resampled whole (a row's trials stay together).
 */
export function meanInterval(
  input: ArrayLike<number>,
  confidence: number,
  seed: number = BOOTSTRAP_SEED,
  weights?: ArrayLike<number>,
): MeanEstimate | null {
  const n = input.length;
  if (n === 0) return null;
  if (weights && !allOnes(weights)) return weightedInterval(input, weights, confidence, seed);
  // Identical values (every row passed, a re-run that changed nothing) have an exact interval, and a sum that
  // no order changes: no copy, no sort, no resampling. One pass finds them and sums them, term by term in the
  // order mean() would.
  const first = input[0] as number;
  let same = true;
  let sum = first;
  for (let i = 1; i < n; i++) {
    const v = input[i] as number;
    if (v !== first) {
      same = false;
      break;
    }
    sum += v;
  }
  if (same) {
    const m = stable(sum / n);
    return { mean: m, low: m, high: m, method: n > BOOTSTRAP_MAX_VALUES ? "normal" : "bootstrap", n };
  }
  const values = Float64Array.from(input).sort();
  const m = mean(values);
  const alpha = 1 - confidence;
  if (n > BOOTSTRAP_MAX_VALUES) {
    let squares = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const v = values[i] as number;
      squares += (v - m) ** 2;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    // The bootstrap's own spread of the mean (divisor n): the interval it would converge to. No resample's mean
    // leaves the data's range, so neither does the interval (a 99.9% pass rate must not reach past 100%).
    const se = Math.sqrt(squares / n / n);
    const z = normalQuantile(1 - alpha / 2);
    return {
      mean: stable(m),
      low: stable(Math.max(min, m - z * se)),
      high: stable(Math.min(max, m + z * se)),
      method: "normal",
      n,
    };
  }
  // Every resample of identical values has their mean (an eval that passes every row, a re-run that changed
  // nothing): the interval is exact without drawing 2,000 resamples.
  if (values[0] === values[n - 1])
    return { mean: stable(m), low: stable(m), high: stable(m), method: "bootstrap", n };
  const means = new Float64Array(RESAMPLES);
  // Mulberry32 (a small, fast 32-bit generator), inlined: this loop runs RESAMPLES × n times.
  const scale = n / 4294967296;
  let s = seed >>> 0;
  for (let b = 0; b < RESAMPLES; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      sum += values[(((t ^ (t >>> 14)) >>> 0) * scale) | 0] as number;
    }
    means[b] = sum / n;
  }
  return percentiles(means, m, alpha, n);
}

function percentiles(means: Float64Array, m: number, alpha: number, n: number): MeanEstimate {
  means.sort();
  const lowAt = Math.floor((RESAMPLES * alpha) / 2);
  const highAt = Math.ceil(RESAMPLES * (1 - alpha / 2)) - 1;
  return {
    mean: stable(m),
    low: stable(means[Math.max(0, lowAt)] as number),
    high: stable(means[Math.min(RESAMPLES - 1, highAt)] as number),
    method: "bootstrap",
    n,
  };
}

function allOnes(weights: ArrayLike<number>): boolean {
  for (let i = 0; i < weights.length; i++) if (weights[i] !== 1) return false;
  return true;
}

/**
 * meanInterval over rows of unequal weight (trials, or scores null on some trials): the ratio Σ w·v / Σ w of each
 * resample of whole rows. Its point is the mean over results that the summary prints, so the interval brackets
 * the number shown beside it; rows averaged with equal weight (what the interval was before) could leave it outside.
 */
function weightedInterval(
  input: ArrayLike<number>,
  weights: ArrayLike<number>,
  confidence: number,
  seed: number,
): MeanEstimate {
  const n = input.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (input[a] as number) - (input[b] as number) || (weights[a] as number) - (weights[b] as number),
  );
  const values = Float64Array.from(order, (i) => input[i] as number);
  const w = Float64Array.from(order, (i) => weights[i] as number);
  let total = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    total += w[i] as number;
    weighted += (w[i] as number) * (values[i] as number);
  }
  const m = weighted / total;
  const alpha = 1 - confidence;
  if (values[0] === values[n - 1])
    return { mean: stable(m), low: stable(m), high: stable(m), method: "bootstrap", n };
  if (n > BOOTSTRAP_MAX_VALUES) {
    // The ratio estimator's linearised spread: Σ w²(v − m)² / (Σ w)², the bootstrap's limit; clamped to the data.
    let spread = 0;
    for (let i = 0; i < n; i++) spread += ((w[i] as number) * ((values[i] as number) - m)) ** 2;
    const se = Math.sqrt(spread) / total;
    const z = normalQuantile(1 - alpha / 2);
    return {
      mean: stable(m),
      low: stable(Math.max(values[0] as number, m - z * se)),
      high: stable(Math.min(values[n - 1] as number, m + z * se)),
      method: "normal",
      n,
    };
  }
  const means = new Float64Array(RESAMPLES);
  const scale = n / 4294967296;
  let s = seed >>> 0;
  for (let b = 0; b < RESAMPLES; b++) {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const at = (((t ^ (t >>> 14)) >>> 0) * scale) | 0;
      sum += (w[at] as number) * (values[at] as number);
      count += w[at] as number;
    }
    means[b] = sum / count;
  }
  return percentiles(means, m, alpha, n);
}
