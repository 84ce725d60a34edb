import type { Interval } from "./bootstrap.js";

/** A score as a percentage: `82.0%`. */
export const percent = (value: number | null | undefined): string =>
  value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`;

/** A change in percentage points, always signed: `+4.0%`, `-8.0%`. */
export function signedPercent(value: number): string {
  const text = Math.abs(value * 100).toFixed(1);
  return `${value < 0 && text !== "0.0" ? "-" : "+"}${text}%`;
}

/** `[71.1%, 76.9%]`, or with signs for changes: `[-10.2%, -5.9%]`. */
export function bracket(interval: Interval | null | undefined, signed = false): string {
  if (!interval) return "";
  const f = signed ? signedPercent : percent;
  return `[${f(interval.low)}, ${f(interval.high)}]`;
}

/** `95%` for 0.95, `99.5%` for 0.995. */
export const confidenceLabel = (confidence: number): string => `${Number((confidence * 100).toFixed(2))}%`;
