import { defineScorer, type HeuristicScorer, type NoOptions, requireExpected } from "./define.js";
import { editDistance } from "./edit-distance.js";
import { toText } from "./json-text.js";

/** 1 − distance / length of the longer text; 1 when both are empty. */
export function levenshteinSimilarity(output: string, expected: string): number {
  const longest = Math.max(output.length, expected.length);
  return longest === 0 ? 1 : 1 - editDistance(output, expected) / longest;
}

/**
 * Similarity of the output and expected texts by Levenshtein distance, normalised by the longer one. Values that
 * are not strings are compared as text: objects and arrays as canonical JSON, anything else as String() does.
 */
export const Levenshtein: HeuristicScorer<NoOptions> = defineScorer<NoOptions>({
  name: "Levenshtein",
  options: {},
  score(args) {
    const expected = requireExpected("Levenshtein", args);
    return { name: "Levenshtein", score: levenshteinSimilarity(toText(args.output), toText(expected)) };
  },
});

/** autoevals' older name for Levenshtein (same scorer, same score name). */
export const LevenshteinScorer: HeuristicScorer<NoOptions> = Levenshtein;
