import { describeValue } from "../../define/errors.js";
import { defineScorer, type HeuristicScorer } from "./define.js";
import { booleanOption, type OptionKind, type OptionKinds } from "./options.js";
import { outputText } from "./text-match.js";

export interface RegexOptions {
  /** The pattern; without it, each row's `expected` (a string or a RegExp) is the pattern. */
  pattern?: string | RegExp;
  /** Match letter case exactly (default true); false adds the `i` flag. */
  caseSensitive?: boolean;
  /** The whole output must match, not only a part of it (default false). */
  fullMatch?: boolean;
}

const NAME = "Regex";

const patternOption: OptionKind = {
  expects: "a string or a RegExp",
  example: "/\\bParis\\b/",
  problem(value) {
    if (value instanceof RegExp) return undefined;
    if (typeof value !== "string") return "must be a string or a RegExp";
    try {
      new RegExp(value);
      return undefined;
    } catch (error) {
      return `is not a valid regular expression (${(error as Error).message})`;
    }
  },
};

const options: OptionKinds<RegexOptions> = {
  pattern: patternOption,
  caseSensitive: booleanOption,
  fullMatch: booleanOption,
};

// The last pattern compiled, as most evals score every row against the same one.
let last: { source: string | RegExp; caseSensitive: boolean; fullMatch: boolean; regex: RegExp } | undefined;

function compile(source: string | RegExp, caseSensitive: boolean, fullMatch: boolean): RegExp {
  if (last?.source === source && last.caseSensitive === caseSensitive && last.fullMatch === fullMatch) {
    return last.regex;
  }
  // `g` and `y` would make test() resume from the previous match's position.
  let flags = typeof source === "string" ? "" : source.flags.replace(/[gy]/g, "");
  if (!caseSensitive && !flags.includes("i")) flags += "i";
  const body = typeof source === "string" ? source : source.source;
  // The whole text, whatever the flags: with `m`, ^ and $ would match at any line break.
  const regex = new RegExp(fullMatch ? `(?<![\\s\\S])(?:${body})(?![\\s\\S])` : body, flags);
  last = { source, caseSensitive, fullMatch, regex };
  return regex;
}

/** 1 when the output matches the pattern (anywhere, unless `fullMatch`), else 0. */
export const Regex: HeuristicScorer<RegexOptions> = defineScorer<RegexOptions>({
  name: NAME,
  options,
  score(args, chosen) {
    let source = chosen.pattern;
    if (source === undefined) {
      const expected = args.expected;
      if (expected === undefined) {
        throw new Error(
          `${NAME} requires a pattern: bind one with ${NAME}.partial({ pattern }), or give the row an expected value.`,
        );
      }
      if (typeof expected !== "string" && !(expected instanceof RegExp)) {
        throw new Error(
          `${NAME} needs a string or a RegExp as the expected value; this row's is ${describeValue(expected)}.`,
        );
      }
      source = expected;
    }
    let regex: RegExp;
    try {
      regex = compile(source, chosen.caseSensitive !== false, chosen.fullMatch === true);
    } catch (error) {
      throw new Error(
        `${NAME}: this row's expected value is not a valid regular expression (${(error as Error).message}).`,
      );
    }
    return { name: NAME, score: regex.test(outputText(args.output, true)) ? 1 : 0 };
  },
});
