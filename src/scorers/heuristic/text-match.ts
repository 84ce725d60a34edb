import { describeValue } from "../../define/errors.js";
import { defineScorer, type HeuristicScorer, requireExpected } from "./define.js";
import { toText } from "./json-text.js";
import { booleanOption, type OptionKinds } from "./options.js";

export interface ContainsOptions {
  /** Match letter case exactly (default true); false compares lower-cased texts. */
  caseSensitive?: boolean;
}

export interface StartsWithOptions {
  /** Match letter case exactly (default true); false compares lower-cased texts. */
  caseSensitive?: boolean;
  /** Ignore whitespace at the start of the output (default false). */
  trimStart?: boolean;
}

/** The output as text to search in; a missing output is empty text rather than "null" or "undefined". */
export function outputText(output: unknown, caseSensitive: boolean | undefined): string {
  const text = output === null || output === undefined ? "" : toText(output);
  return caseSensitive === false ? text.toLowerCase() : text;
}

/** A string (or number) to look for; anything else in `expected` is a mistake in the data. */
function needle(name: string, value: unknown, caseSensitive: boolean | undefined, what: string): string {
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "bigint") {
    throw new Error(`${name} needs ${what}; this row's expected value is ${describeValue(value)}.`);
  }
  const text = String(value);
  return caseSensitive === false ? text.toLowerCase() : text;
}

/**
 * 1 when the output contains the expected text, else 0. With a list of texts as `expected`, the fraction of them
 * that the output contains (the missing ones are in the score's metadata); an empty list scores 1.
 */
export const Contains: HeuristicScorer<ContainsOptions> = defineScorer<ContainsOptions>({
  name: "Contains",
  options: { caseSensitive: booleanOption } satisfies OptionKinds<ContainsOptions>,
  score(args, { caseSensitive }) {
    const expected = requireExpected("Contains", args);
    const what = "a string, or a list of strings, as the expected value";
    const text = outputText(args.output, caseSensitive);
    if (!Array.isArray(expected)) {
      return {
        name: "Contains",
        score: text.includes(needle("Contains", expected, caseSensitive, what)) ? 1 : 0,
      };
    }
    if (expected.length === 0) return { name: "Contains", score: 1 };
    const missing = expected.filter((item) => !text.includes(needle("Contains", item, caseSensitive, what)));
    const score = 1 - missing.length / expected.length;
    return missing.length === 0
      ? { name: "Contains", score }
      : { name: "Contains", score, metadata: { missing } };
  },
});

/** 1 when the output starts with the expected text, else 0. */
export const StartsWith: HeuristicScorer<StartsWithOptions> = defineScorer<StartsWithOptions>({
  name: "StartsWith",
  options: {
    caseSensitive: booleanOption,
    trimStart: booleanOption,
  } satisfies OptionKinds<StartsWithOptions>,
  score(args, { caseSensitive, trimStart }) {
    const expected = requireExpected("StartsWith", args);
    const prefix = needle("StartsWith", expected, caseSensitive, "a string as the expected value");
    const text = outputText(args.output, caseSensitive);
    return {
      name: "StartsWith",
      score: (trimStart === true ? text.trimStart() : text).startsWith(prefix) ? 1 : 0,
    };
  },
});
