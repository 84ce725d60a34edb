import type { Awaitable, Score } from "../../define/types.js";
import { defineScorer, type HeuristicScorer, type PairScorer, requireExpected } from "./define.js";
import { canonicalJson, isStructured, parseStructured } from "./json-text.js";
import { Levenshtein, levenshteinSimilarity } from "./levenshtein.js";
import { andThen, collect, scoreValue } from "./maybe-async.js";
import { NumericDiff, numericSimilarity } from "./numeric-diff.js";
import { booleanOption, type OptionKinds, scorerOption } from "./options.js";

export interface JSONDiffOptions {
  /** Compares two strings (default Levenshtein). */
  stringScorer?: PairScorer<string>;
  /** Compares two numbers (default NumericDiff). */
  numberScorer?: PairScorer<number>;
  /** Compare strings holding JSON objects or arrays as strings instead of parsing them (default false). */
  preserveStrings?: boolean;
}

const NAME = "JSONDiff";

const options: OptionKinds<JSONDiffOptions> = {
  stringScorer: scorerOption("ExactMatch"),
  numberScorer: scorerOption("ExactMatch"),
  preserveStrings: booleanOption,
};

interface Context {
  stringScorer: PairScorer<string> | undefined;
  numberScorer: PairScorer<number> | undefined;
  parseStrings: boolean;
}

/**
 * Recursive similarity of two JSON values: objects average their keys' scores over the union of keys, arrays
 * sum their items' scores over the longer length, strings and numbers go to the string and number scorers,
 * null and undefined equal each other and nothing else, and anything else (mixed types, booleans) compares as
 * canonical JSON text with the string scorer. Strings holding a JSON object or array are parsed first.
 */
export const JSONDiff: HeuristicScorer<JSONDiffOptions, Score | Promise<Score>> = defineScorer<
  JSONDiffOptions,
  Score | Promise<Score>
>({
  name: NAME,
  options,
  score(args, chosen) {
    const expected = requireExpected(NAME, args);
    const context: Context = {
      // The defaults run inline: no argument object and no Score per leaf.
      stringScorer: chosen.stringScorer === Levenshtein ? undefined : chosen.stringScorer,
      numberScorer: chosen.numberScorer === NumericDiff ? undefined : chosen.numberScorer,
      parseStrings: chosen.preserveStrings !== true,
    };
    return andThen(diff(args.output, expected, context), (score) => ({ name: NAME, score }));
  },
});

function diff(a: unknown, b: unknown, context: Context): Awaitable<number | null> {
  let left = plain(a);
  let right = plain(b);
  if (context.parseStrings) {
    if (typeof left === "string") left = parseStructured(left) ?? left;
    if (typeof right === "string") right = parseStructured(right) ?? right;
  }
  const leftArray = Array.isArray(left);
  const rightArray = Array.isArray(right);
  if (leftArray && rightArray) return diffArrays(left as unknown[], right as unknown[], context);
  if (isStructured(left) && isStructured(right) && !leftArray && !rightArray) {
    return diffObjects(left as Record<string, unknown>, right as Record<string, unknown>, context);
  }
  if (typeof left === "string" && typeof right === "string") return compareStrings(left, right, context);
  if (typeof left === "number" && typeof right === "number") {
    if (context.numberScorer === undefined) return numericSimilarity(left, right);
    return andThen(context.numberScorer({ output: left, expected: right }), (result) =>
      scoreValue(result, NAME, "numberScorer"),
    );
  }
  const leftMissing = left === null || left === undefined;
  const rightMissing = right === null || right === undefined;
  if (leftMissing || rightMissing) return leftMissing && rightMissing ? 1 : 0;
  return compareStrings(text(left), text(right), context);
}

function diffObjects(
  left: Record<string, unknown>,
  right: Record<string, unknown>,
  context: Context,
): Awaitable<number | null> {
  const keys = Object.keys(left);
  for (const key of Object.keys(right)) if (!Object.hasOwn(left, key)) keys.push(key);
  if (keys.length === 0) return 1;
  // Own properties only: a key missing on one side must not find Object.prototype's "constructor" and the like.
  const get = (object: Record<string, unknown>, key: string) =>
    Object.hasOwn(object, key) ? object[key] : undefined;
  return collect(
    keys.length,
    (i) => diff(get(left, keys[i] as string), get(right, keys[i] as string), context),
    (scores) => {
      let sum = 0;
      let counted = 0;
      for (const score of scores) {
        if (score === null) continue;
        sum += score;
        counted++;
      }
      return counted === 0 ? null : sum / counted;
    },
  );
}

function diffArrays(left: unknown[], right: unknown[], context: Context): Awaitable<number | null> {
  const longer = Math.max(left.length, right.length);
  if (longer === 0) return 1;
  return collect(
    Math.min(left.length, right.length),
    (i) => diff(left[i], right[i], context),
    (scores) => {
      let sum = 0;
      for (const score of scores) if (score !== null) sum += score;
      return sum / longer;
    },
  );
}

function compareStrings(output: string, expected: string, context: Context): Awaitable<number | null> {
  if (context.stringScorer === undefined) return levenshteinSimilarity(output, expected);
  return andThen(context.stringScorer({ output, expected }), (result) =>
    scoreValue(result, NAME, "stringScorer"),
  );
}

// Values reach JSONDiff as JSON would see them: a Date as its ISO string, not as an object with no keys.
function plain(value: unknown): unknown {
  if (isStructured(value) && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return (value as { toJSON(): unknown }).toJSON();
  }
  return value;
}

function text(value: unknown): string {
  return canonicalJson(value) ?? String(value);
}
