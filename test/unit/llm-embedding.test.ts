import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isEvalrunError } from "../../src/define/errors.js";
import { takeUsage } from "../../src/define/usage.js";
import { clearEmbeddingCache } from "../../src/scorers/llm/embed.js";
import { EmbeddingSimilarity } from "../../src/scorers/llm/embedding.js";
import { init } from "../../src/scorers/llm/init.js";
import { cosine, stubProviderEnv, trigramVector, until, useProvider } from "../helpers/provider.js";
import { rejection } from "../helpers/rejection.js";

const provider = useProvider();
beforeEach(() => {
  clearEmbeddingCache();
  stubProviderEnv(provider);
});
afterEach(() => {
  vi.unstubAllEnvs();
  init();
});

describe("EmbeddingSimilarity", () => {
  it("scores identical texts 1, embedding the text once for the whole run", async () => {
    const first = await EmbeddingSimilarity({ output: "the cat sat", expected: "the cat sat" });
    expect(first.name).toBe("EmbeddingSimilarity");
    expect(first.score).toBeCloseTo(1, 6);
    expect(provider.requests).toHaveLength(1);
    expect(provider.requests[0]?.body).toEqual({ model: "text-embedding-ada-002", input: "the cat sat" });
    await EmbeddingSimilarity({ output: "the cat sat", expected: "the cat sat" });
    expect(provider.requests).toHaveLength(1);
  });

  it("rescales the cosine from expectedMin (0.7 by default) and keeps the raw similarity", async () => {
    const output = "the quick brown fox";
    const expected = "the quick brown dog";
    const similarity = cosine(trigramVector(output), trigramVector(expected));
    expect(similarity).toBeGreaterThan(0.7);
    const result = await EmbeddingSimilarity({ output, expected });
    expect(result.metadata?.similarity).toBeCloseTo(similarity, 5);
    expect(result.score).toBeCloseTo((similarity - 0.7) / 0.3, 5);
    const loose = await EmbeddingSimilarity.partial({ expectedMin: 0 })({ output, expected });
    expect(loose.score).toBeCloseTo(similarity, 5);
    // The same two texts again: no new request.
    expect(provider.requests).toHaveLength(2);
    const unrelated = await EmbeddingSimilarity({ output: "zzzz", expected: "qqqq" });
    expect(unrelated.score).toBe(0);
    await expect(EmbeddingSimilarity({ output: "a", expected: "b", expectedMin: 1 })).rejects.toThrow(
      "expectedMin must be a number from -1 up to (not including) 1",
    );
  });

  it("shares one request between rows asking for the same text at once", async () => {
    provider.inject({ delayMs: 100, times: Number.POSITIVE_INFINITY, route: "embeddings" });
    await Promise.all(
      Array.from({ length: 5 }, () =>
        EmbeddingSimilarity({ output: "shared text", expected: "shared text" }),
      ),
    );
    expect(provider.requests).toHaveLength(1);
  });

  it("keeps a shared request going while one waiting row aborts, and aborts it when all have", async () => {
    provider.inject({ delayMs: 300, times: Number.POSITIVE_INFINITY, route: "embeddings" });
    const a = new AbortController();
    const b = new AbortController();
    const first = EmbeddingSimilarity({ output: "x y z", expected: "x y z", signal: a.signal });
    const second = EmbeddingSimilarity({ output: "x y z", expected: "x y z", signal: b.signal });
    a.abort(new Error("row a timed out"));
    expect((await rejection(first)).message).toBe("row a timed out");
    expect((await second).score).toBeCloseTo(1, 6);
    expect(provider.requests).toHaveLength(1);
    expect(provider.requests[0]?.aborted).toBe(false);

    const c = new AbortController();
    const alone = EmbeddingSimilarity({ output: "only me", expected: "only me", signal: c.signal });
    await until(() => provider.requests.length === 2);
    c.abort(new Error("row c timed out"));
    expect((await rejection(alone)).message).toBe("row c timed out");
    await until(() => provider.requests[1]?.aborted === true);
    // A failed or aborted embedding is not cached.
    provider.reset();
    await EmbeddingSimilarity({ output: "only me", expected: "only me" });
    expect(provider.requests).toHaveLength(1);
  });

  it("applies the prefix and model options, and records usage on the row's signal", async () => {
    const controller = new AbortController();
    await EmbeddingSimilarity({
      output: "one",
      expected: { text: "two" },
      prefix: "Review: ",
      model: "embed-small",
      signal: controller.signal,
    });
    expect(provider.requests.map((r) => r.body.input).sort()).toEqual([
      "Review: one",
      'Review: {"text":"two"}',
    ]);
    expect(provider.requests[0]?.body.model).toBe("embed-small");
    const spent = provider.requests.reduce((sum, r) => sum + (r.usage?.prompt_tokens ?? 0), 0);
    expect(takeUsage(controller.signal)).toEqual({
      prompt_tokens: spent,
      completion_tokens: 0,
      tokens: spent,
    });
  });

  it("needs an expected value, and does not ask about empty texts", async () => {
    const error = await rejection(EmbeddingSimilarity({ output: "a" }));
    expect(isEvalrunError(error) && error.code).toBe("LLM_CONFIG");
    expect(error.message).toContain("EmbeddingSimilarity needs `expected`");
    expect((await EmbeddingSimilarity({ output: "", expected: "" })).score).toBe(1);
    expect((await EmbeddingSimilarity({ output: "", expected: "x" })).score).toBe(0);
    expect(provider.requests).toHaveLength(0);
  });

  it("reports an unusable embeddings answer", async () => {
    provider.inject({ malformed: true, route: "embeddings" });
    const error = await rejection(EmbeddingSimilarity({ output: "m", expected: "n" }));
    expect(error.message).toContain("body that is not JSON");
    init({
      client: {
        chat: { completions: { create: async () => ({}) } },
        embeddings: { create: async () => ({ data: [{ embedding: [1, "x"] }] }) },
      },
    });
    expect((await rejection(EmbeddingSimilarity({ output: "m", expected: "n" }))).message).toContain(
      "non-number at index 1",
    );
  });
});
