// EmbeddingSimilarity's options and checks; the requests, their cache and the maths are in embed.ts, loaded on
// the first call.
import type { Score } from "../../define/types.js";
import { configError } from "../../llm/checks.js";
import type { ProviderOptions } from "../../llm/config.js";
import { withPartial } from "./partial.js";
import { formatValue } from "./template.js";

export interface EmbeddingSimilarityOptions extends ProviderOptions {
  /** Embedding model; by default init()'s, else EVALRUN_LLM_EMBEDDING_MODEL, else text-embedding-ada-002. */
  model?: string | undefined;
  /**
   * The similarity that scores 0 (default 0.7, as autoevals): similarities from it to 1 map linearly onto [0, 1]
   * and lower ones score 0, since unrelated texts already have a cosine well above 0 with most models.
   */
  expectedMin?: number | undefined;
  /** Prepended to both texts, e.g. to name their domain. */
  prefix?: string | undefined;
}

export interface EmbeddingSimilarityArgs extends EmbeddingSimilarityOptions {
  input?: unknown;
  output?: unknown;
  expected?: unknown;
  metadata?: unknown;
  signal?: AbortSignal | undefined;
}

function checkExpectedMin(value: unknown): number {
  const min = value ?? 0.7;
  if (typeof min !== "number" || !Number.isFinite(min) || min < -1 || min >= 1) {
    throw configError(
      `EmbeddingSimilarity: expectedMin must be a number from -1 up to (not including) 1, not ${String(value)}.`,
    );
  }
  return min;
}

/**
 * Cosine similarity of the embeddings of `output` and `expected` (POST {base}/embeddings), rescaled so that
 * `expectedMin` scores 0 and identical texts score 1. Non-string values are embedded as JSON.
 */
export const EmbeddingSimilarity = withPartial<EmbeddingSimilarityArgs>(
  "EmbeddingSimilarity",
  async (args): Promise<Score> => {
    const a = args ?? {};
    const expectedMin = checkExpectedMin(a.expectedMin);
    if (a.expected === undefined || a.expected === null) {
      throw configError(
        "EmbeddingSimilarity needs `expected`, and it is missing: give the row an `expected` value.",
      );
    }
    const prefix = a.prefix ?? "";
    const output = `${prefix}${formatValue(a.output)}`;
    const expected = `${prefix}${formatValue(a.expected)}`;
    // Most APIs reject an empty input; its similarity is known without asking.
    if (output === "" || expected === "") {
      const score = output === expected ? 1 : 0;
      return { name: "EmbeddingSimilarity", score, metadata: { similarity: score } };
    }
    const { similarity: measure } = await import("./embed.js");
    const similarity = await measure(a, output, expected);
    const score = Math.min(1, Math.max(0, (similarity - expectedMin) / (1 - expectedMin)));
    return { name: "EmbeddingSimilarity", score, metadata: { similarity } };
  },
);
