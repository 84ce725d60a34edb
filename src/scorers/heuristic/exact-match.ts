import { defineScorer, type HeuristicScorer, type NoOptions, requireExpected } from "./define.js";
import { canonicalJson, isStructured, parseStructured } from "./json-text.js";

/**
 * 1 when output and expected are equal, else 0. As in autoevals, scalars compare as text (so 1 equals "1"), and
 * once either side is an object, array or null both compare as JSON, a string side parsed first. Unlike it, JSON
 * is canonical (key order does not matter), and a string holding a JSON object or array counts as one.
 */
export const ExactMatch: HeuristicScorer<NoOptions> = defineScorer<NoOptions>({
  name: "ExactMatch",
  options: {},
  score(args) {
    const expected = requireExpected("ExactMatch", args);
    const output = args.output;
    const parsedOutput = typeof output === "string" ? parseStructured(output) : undefined;
    const parsedExpected = typeof expected === "string" ? parseStructured(expected) : undefined;
    const asJson =
      typeof output === "object" ||
      typeof expected === "object" ||
      parsedOutput !== undefined ||
      parsedExpected !== undefined;
    const same = asJson
      ? jsonText(output, parsedOutput) === jsonText(expected, parsedExpected)
      : scalarText(output) === scalarText(expected);
    return { name: "ExactMatch", score: same ? 1 : 0 };
  },
});

// A missing output counts as null, as in autoevals.
const scalarText = (value: unknown): string => (value === undefined ? "null" : String(value));

function jsonText(value: unknown, parsed: object | undefined): string {
  if (parsed !== undefined) return canonicalJson(parsed) as string;
  if (value === undefined || isStructured(value)) return canonicalJson(value ?? null) ?? String(value);
  if (typeof value === "string") {
    try {
      return canonicalJson(JSON.parse(value)) as string;
    } catch {
      return value;
    }
  }
  return String(value);
}
