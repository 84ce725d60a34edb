import { describeValue } from "../../define/errors.js";
import { defineScorer, type HeuristicScorer, type NoOptions, requireExpected } from "./define.js";

const NAME = "NumericDiff";

/**
 * 1 − |expected − output| / (|expected| + |output|); 1 when both are 0. Numeric strings count as numbers. An
 * output that is not a number scores 0 (the reason is in the score's metadata); an expected value that is not
 * one is an error in the data, so the score errors.
 */
export const NumericDiff: HeuristicScorer<NoOptions> = defineScorer<NoOptions>({
  name: NAME,
  options: {},
  score(args) {
    const rawExpected = requireExpected(NAME, args);
    if (rawExpected === null) {
      return { name: NAME, score: args.output === null || args.output === undefined ? 1 : 0 };
    }
    const expected = toNumber(rawExpected);
    if (expected === undefined || Number.isNaN(expected)) {
      throw new Error(
        `${NAME} needs a number as the expected value; this row's is ${describeValue(rawExpected)}.`,
      );
    }
    const output = toNumber(args.output);
    if (output === undefined || Number.isNaN(output)) {
      return {
        name: NAME,
        score: 0,
        metadata: { error: `The output is ${describeValue(args.output)}, not a number.` },
      };
    }
    return { name: NAME, score: numericSimilarity(output, expected) };
  },
});

export function numericSimilarity(output: number, expected: number): number {
  if (output === expected) return 1;
  if (!Number.isFinite(output) || !Number.isFinite(expected)) return 0;
  // Scaled first so that the difference and the sum of two large finite numbers cannot overflow to Infinity.
  const scale = Math.max(Math.abs(output), Math.abs(expected));
  const o = output / scale;
  const e = expected / scale;
  return 1 - Math.abs(e - o) / (Math.abs(e) + Math.abs(o));
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" && value.trim() !== "") return Number(value);
  return undefined;
}
