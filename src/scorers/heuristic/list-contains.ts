import { describeValue } from "../../define/errors.js";
import type { Score } from "../../define/types.js";
import { maxWeightAssignment } from "./assignment.js";
import { defineScorer, type HeuristicScorer, type PairScorer, requireExpected } from "./define.js";
import { parseStructured, toText } from "./json-text.js";
import { Levenshtein, levenshteinSimilarity } from "./levenshtein.js";
import { collect, scoreValue } from "./maybe-async.js";
import { booleanOption, type OptionKinds, scorerOption } from "./options.js";

export interface ListContainsOptions {
  /** Scores one output item against one expected item (default Levenshtein). */
  pairwiseScorer?: PairScorer<string>;
  /** Do not penalise output items beyond the expected ones: normalise by the expected list's length. */
  allowExtraEntities?: boolean;
}

const NAME = "ListContains";

const options: OptionKinds<ListContainsOptions> = {
  pairwiseScorer: scorerOption("ExactMatch"),
  allowExtraEntities: booleanOption,
};

/** One matched pair, as reported in the score's metadata. */
export interface ListContainsPair {
  output: unknown;
  expected: unknown;
  score: number;
}

/**
 * How well the output list covers the expected one: every output item is paired with at most one expected item
 * so that the pairs' total similarity is largest (the Hungarian algorithm), and the total is divided by the
 * longer list's length (by the expected list's with `allowExtraEntities`). Two empty lists score 1, one empty
 * list 0. A string holding a JSON array counts as the array; an output that is no list scores 0.
 */
export const ListContains: HeuristicScorer<ListContainsOptions, Score | Promise<Score>> = defineScorer<
  ListContainsOptions,
  Score | Promise<Score>
>({
  name: NAME,
  options,
  score(args, chosen) {
    const rawExpected = requireExpected(NAME, args);
    const expected = asList(rawExpected);
    if (expected === undefined) {
      throw new Error(
        `${NAME} needs a list as the expected value; this row's is ${describeValue(rawExpected)}.`,
      );
    }
    const output = asList(args.output);
    if (output === undefined) {
      return {
        name: NAME,
        score: 0,
        metadata: { error: `The output is ${describeValue(args.output)}, not a list.` },
      };
    }
    if (output.length === 0 || expected.length === 0) {
      return { name: NAME, score: output.length === expected.length ? 1 : 0, metadata: { pairs: [] } };
    }
    const scorer = chosen.pairwiseScorer === Levenshtein ? undefined : chosen.pairwiseScorer;
    const cols = expected.length;
    return collect(
      output.length * cols,
      (k) => {
        const o = output[Math.floor(k / cols)];
        const e = expected[k % cols];
        if (scorer === undefined) return levenshteinSimilarity(toText(o), toText(e));
        return scorer({ output: o as string, expected: e as string });
      },
      (results) => {
        // A pair the scorer did not score counts as 0, as in autoevals.
        const weights = results.map((result) => scoreValue(result, NAME, "pairwiseScorer") ?? 0);
        const assigned = maxWeightAssignment(weights, output.length, cols);
        const pairs: ListContainsPair[] = [];
        let total = 0;
        for (let r = 0; r < output.length; r++) {
          const c = assigned[r] as number;
          if (c < 0) continue;
          const score = weights[r * cols + c] as number;
          total += score;
          pairs.push({ output: output[r], expected: expected[c], score });
        }
        const denominator = chosen.allowExtraEntities === true ? cols : Math.max(output.length, cols);
        return { name: NAME, score: Math.min(Math.max(total / denominator, 0), 1), metadata: { pairs } };
      },
    );
  },
});

function asList(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value === "string") {
    const parsed = parseStructured(value);
    if (Array.isArray(parsed)) return parsed;
  }
  return undefined;
}
