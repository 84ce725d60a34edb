// LLM-as-judge scorers, embedding similarity and their configuration (see docs/llm-scorers.md).
export type { LLMClient } from "../../llm/types.js";
/** autoevals' name for a judge's model and client options. */
export type {
  LLMClassifierArgs,
  LLMClassifierOptions,
  LLMJudgeArgs,
  LLMJudgeOptions,
  LLMJudgeOptions as LLMArgs,
  ModelGradedSpec,
} from "./classifier.js";
export { LLMClassifier, LLMClassifierFromSpec, LLMClassifierFromTemplate } from "./classifier.js";
export type { EmbeddingSimilarityArgs, EmbeddingSimilarityOptions } from "./embedding.js";
export { EmbeddingSimilarity } from "./embedding.js";
export type { InitOptions } from "./init.js";
export { init } from "./init.js";
export type { BattleArgs, ClosedQAArgs, FactualityArgs, TranslationArgs } from "./judges.js";
export {
  Battle,
  ClosedQA,
  Factuality,
  Humor,
  Possible,
  Security,
  Sql,
  Summary,
  Translation,
} from "./judges.js";
export type { PartialScorer } from "./partial.js";
