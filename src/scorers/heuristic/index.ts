// The heuristic built-in scorers: autoevals' names and scores, synchronous unless an option makes them wait.
export type { HeuristicScorer, NoOptions, PairScorer, ScorerInput } from "./define.js";
export { Levenshtein, LevenshteinScorer } from "./levenshtein.js";
