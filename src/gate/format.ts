import type { Interval } from "./bootstrap.js";

/**
 * Below this a value is float noise, as the gate treats it (evaluate.ts): a change the gate can act on is never
 * shown as zero, and noise is never shown as a change.
 */
const NOISE = 1e-9;

/**
 * A magnitude in percent with one decimal, or with two significant digits (`0.0023`, `0.004`) when one decimal
 * would round a real, non-zero value to `0.0`: a failed gate must show what moved, and an interval its width.
 */
function percentDigits(magnitude: number): string {
  const text = (magnitude * 100).toFixed(1);
  if (text !== "0.0" || magnitude < NOISE) return text;
  const decimals = Math.min(Math.ceil(-Math.log10(magnitude * 100)) + 1, 9);
  return (magnitude * 100).toFixed(decimals).replace(/0+$/, "");
}

/** A score as a percentage: `82.0%`. */
export const percent = (value: number | null | undefined): string =>
  value === null || value === undefined
    ? "–"
    : `${value <= -NOISE ? "-" : ""}${percentDigits(Math.abs(value))}%`;

/** A change in percentage points, always signed: `+4.0%`, `-8.0%`, `-0.004%`; noise is `+0.0%`. */
export function signedPercent(value: number): string {
  const text = percentDigits(Math.abs(value));
  return `${value <= -NOISE ? "-" : "+"}${text}%`;
}

/** `[71.1%, 76.9%]`, or with signs for changes: `[-10.2%, -5.9%]`. */
export function bracket(interval: Interval | null | undefined, signed = false): string {
  if (!interval) return "";
  const f = signed ? signedPercent : percent;
  return `[${f(interval.low)}, ${f(interval.high)}]`;
}

/**
 * Two scores of a row, `0.65 → 0.64999`: two decimals, or as many as it takes (up to 8) to tell them apart, so a
 * row listed as changed never reads as unchanged.
 */
export function scorePair(before: number, after: number): [string, string] {
  let decimals = 2;
  while (decimals < 8 && before !== after && before.toFixed(decimals) === after.toFixed(decimals)) decimals++;
  return [before.toFixed(decimals), after.toFixed(decimals)];
}

/** `95%` for 0.95, `99.5%` for 0.995. */
export const confidenceLabel = (confidence: number): string => `${Number((confidence * 100).toFixed(2))}%`;
