import { describe, expect, it } from "vitest";
import { normalizeScore, scorerName } from "../../src/engine/scores.js";

describe("normalizeScore", () => {
  it("names bare numbers and booleans after the scorer", () => {
    expect(normalizeScore(0.25, "exact")).toEqual({ ok: true, scores: [{ name: "exact", score: 0.25 }] });
    expect(normalizeScore(true, "exact")).toEqual({ ok: true, scores: [{ name: "exact", score: 1 }] });
    expect(normalizeScore(false, "exact")).toEqual({ ok: true, scores: [{ name: "exact", score: 0 }] });
    expect(normalizeScore(0, "e")).toEqual({ ok: true, scores: [{ name: "e", score: 0 }] });
    expect(normalizeScore(1, "e")).toEqual({ ok: true, scores: [{ name: "e", score: 1 }] });
  });

  it("treats null as not scored, here and inside Score objects", () => {
    expect(normalizeScore(null, "s")).toEqual({ ok: true, scores: [{ name: "s", score: null }] });
    expect(normalizeScore({ name: "x", score: null }, "s")).toEqual({
      ok: true,
      scores: [{ name: "x", score: null, metadata: undefined }],
    });
  });

  it("reads score objects as Braintrust does: no name is the scorer's, a boolean is 1/0, undefined is not scored", () => {
    expect(normalizeScore(undefined, "s")).toEqual({ ok: true, scores: [{ name: "s", score: null }] });
    expect(normalizeScore({ score: 0.5, metadata: { why: 1 } }, "s")).toEqual({
      ok: true,
      scores: [{ name: "s", score: 0.5, metadata: { why: 1 } }],
    });
    expect(normalizeScore({ name: "hit", score: true }, "s")).toEqual({
      ok: true,
      scores: [{ name: "hit", score: 1, metadata: undefined }],
    });
    expect(normalizeScore({ name: "hit", score: false }, "s")).toEqual({
      ok: true,
      scores: [{ name: "hit", score: 0, metadata: undefined }],
    });
    expect(normalizeScore({ name: "x" }, "s")).toEqual({
      ok: true,
      scores: [{ name: "x", score: null, metadata: undefined }],
    });
  });

  it("keeps Score objects' own names and metadata, and arrays of them", () => {
    const result = normalizeScore(
      [
        { name: "a", score: 0.5, metadata: { why: "half" } },
        { name: "b", score: 1 },
      ],
      "multi",
    );
    expect(result).toEqual({
      ok: true,
      scores: [
        { name: "a", score: 0.5, metadata: { why: "half" } },
        { name: "b", score: 1, metadata: undefined },
      ],
    });
  });

  it.each([
    [Number.NaN, 'Scorer "s" returned NaN'],
    [1.5, 'Scorer "s" returned 1.5'],
    [-0.01, 'Scorer "s" returned -0.01'],
    [Number.POSITIVE_INFINITY, 'Scorer "s" returned Infinity'],
    ["0.5", 'Scorer "s" returned a string ("0.5")'],
    [[0.5], 'Scorer "s" returned an array whose item 0 is the number 0.5, not a { name, score } object.'],
    [[{ name: "ok", score: 1 }, null], 'Scorer "s" returned an array whose item 1 is null'],
    [
      { name: 3, score: 1 },
      'Scorer "s" returned an object whose `name` is the number 3, not a non-empty string',
    ],
    [{ name: "x", score: "yes" }, 'score "x" = a string ("yes"); a score\'s `score` must be a finite number'],
    [{ name: "x", score: 2 }, 'Scorer "s" returned score "x" = 2'],
    [{ name: "x", score: "1" }, 'Scorer "s" returned score "x" = a string ("1")'],
    [[{ name: "x", score: Number.NaN }], 'Scorer "s" returned in item 0 score "x" = NaN'],
  ])("rejects %j with a message naming the scorer and value", (value, message) => {
    const result = normalizeScore(value, "s");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });
});

describe("scorerName", () => {
  it("uses the function's name, else scorer_<index>", () => {
    function Levenshtein() {}
    expect(scorerName(Levenshtein, 0)).toBe("Levenshtein");
    expect(scorerName(Levenshtein.bind(null), 0)).toBe("Levenshtein");
    expect(scorerName({ name: "" }, 3)).toBe("scorer_3");
  });
});
