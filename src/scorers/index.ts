// The built-in scorers: heuristic ones, LLM judges and embedding similarity.
export * from "./heuristic/index.js";
export * from "./llm/index.js";
export type { ScorerWithPartial } from "./make-partial.js";
export { makePartial } from "./make-partial.js";
