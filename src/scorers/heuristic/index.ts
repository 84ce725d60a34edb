// The heuristic built-in scorers: autoevals' names and scores, synchronous unless an option makes them wait.
export type { HeuristicScorer, NoOptions, PairScorer, ScorerInput } from "./define.js";
export { ExactMatch } from "./exact-match.js";
export type { JSONDiffOptions } from "./json-diff.js";
export { JSONDiff } from "./json-diff.js";
export { Levenshtein, LevenshteinScorer } from "./levenshtein.js";
export type { ListContainsOptions, ListContainsPair } from "./list-contains.js";
export { ListContains } from "./list-contains.js";
export { NumericDiff } from "./numeric-diff.js";
export type { RegexOptions } from "./regex.js";
export { Regex } from "./regex.js";
export type { ContainsOptions, StartsWithOptions } from "./text-match.js";
export { Contains, StartsWith } from "./text-match.js";
export type { JsonSchema, SafeParseSchema, ValidJSONOptions } from "./valid-json.js";
export { ValidJSON } from "./valid-json.js";
