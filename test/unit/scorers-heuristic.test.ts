import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { isEvalrunError } from "../../src/define/errors.js";
import type { Evaluator, Score } from "../../src/define/types.js";
import { maxWeightAssignment } from "../../src/scorers/heuristic/assignment.js";
import { editDistance, editDistanceJs } from "../../src/scorers/heuristic/edit-distance.js";
import { EDIT_DISTANCE_WASM } from "../../src/scorers/heuristic/edit-distance-wasm.js";
import {
  Contains,
  ExactMatch,
  JSONDiff,
  Levenshtein,
  LevenshteinScorer,
  ListContains,
  NumericDiff,
  Regex,
  StartsWith,
  ValidJSON,
} from "../../src/scorers/heuristic/index.js";
import { random } from "../helpers/random.js";

function randomString(next: () => number, length: number, alphabet: string): string {
  let text = "";
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)];
  return text;
}

// The textbook O(m·n) dynamic programme, over UTF-16 code units.
function naiveDistance(a: string, b: string): number {
  let previous = new Int32Array(b.length + 1);
  let current = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution =
        (previous[j - 1] as number) + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length] as number;
}

function thrown(fn: () => unknown): Error & { code?: string; hint?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

const score = async (result: Score | Promise<Score>): Promise<number | null> => (await result).score;

describe("Levenshtein", () => {
  it.each([
    ["", "", 1],
    ["abc", "", 0],
    ["", "abc", 0],
    ["same", "same", 1],
    ["kitten", "sitting", 1 - 3 / 7],
    ["flaw", "lawn", 0.5],
    ["ab", "ba", 0],
    ["abcdef", "abcxef", 5 / 6],
  ])("%j vs %j scores %d", (output, expected, value) => {
    const result = Levenshtein({ output, expected });
    expect(result.name).toBe("Levenshtein");
    expect(result.score).toBeCloseTo(value, 12);
  });

  it("compares other values as text: numbers as written, objects as canonical JSON", () => {
    expect(Levenshtein({ output: 123, expected: 124 }).score).toBeCloseTo(2 / 3, 12);
    expect(Levenshtein({ output: null, expected: "null" }).score).toBe(1);
    expect(Levenshtein({ output: { b: 1, a: 2 }, expected: '{"a":2,"b":1}' }).score).toBe(1);
  });

  it("counts UTF-16 code units, as string.length does", () => {
    expect(Levenshtein({ output: "😀", expected: "😁" }).score).toBe(0.5);
  });

  it("returns a score at once, and can be awaited", async () => {
    const result = Levenshtein({ output: "a", expected: "b" });
    expect(result).not.toBeInstanceOf(Promise);
    expect((await Levenshtein({ output: "a", expected: "a" })).score).toBe(1);
    expect(LevenshteinScorer).toBe(Levenshtein);
  });

  it("errors, naming itself, without an expected value", () => {
    expect(() => Levenshtein({ output: "a" })).toThrow(/^Levenshtein requires an expected value/);
  });

  it("matches the naive DP on random strings (fixed seed), around the 32-unit block edges too", () => {
    const next = random(20240501);
    const alphabets = ["ab", "abc", "abcdefghij", "aé😀\u0000z ", "abcdefghijklmnopqrstuvwxyz"];
    const lengths = [0, 1, 2, 31, 32, 33, 63, 64, 65, 96, 97, 127, 128, 129, 191, 192, 193];
    for (let i = 0; i < 2000; i++) {
      const alphabet = alphabets[i % alphabets.length] as string;
      const m = i < 200 ? (lengths[i % lengths.length] as number) : Math.floor(next() * 300);
      const n = i < 200 ? (lengths[(i * 7) % lengths.length] as number) : Math.floor(next() * 300);
      const a = randomString(next, m, alphabet);
      // Half the pairs are edits of each other, the case the shared prefix and suffix trimming sees.
      const b = i % 2 === 0 ? randomString(next, n, alphabet) : mutate(next, a, alphabet);
      expect(editDistance(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(naiveDistance(a, b));
    }
  });

  it("gives the same distances in WebAssembly (64-bit words) and in JavaScript (32-bit words)", () => {
    const next = random(99);
    const alphabets = ["ab", "aé😀\u0000z ", "abcdefghijklmnopqrstuvwxyz"];
    for (let i = 0; i < 600; i++) {
      const alphabet = alphabets[i % alphabets.length] as string;
      const a = randomString(next, 33 + Math.floor(next() * 700), alphabet);
      const b =
        i % 2 === 0 ? randomString(next, Math.floor(next() * 700), alphabet) : mutate(next, a, alphabet);
      expect(editDistance(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(editDistanceJs(a, b));
    }
  });

  it("is built from the committed WebAssembly source (npm run build:wasm after editing it)", async () => {
    // @ts-expect-error: a plain ESM script without types
    const { compileWat } = await import("../../scripts/build-wasm.mjs");
    expect(await compileWat()).toBe(EDIT_DISTANCE_WASM);
  });

  it("is exact on two 10 KB strings", () => {
    const next = random(7);
    const a = randomString(next, 10_240, "abcdefghijklmnopqrstuvwxyz ");
    const b = randomString(next, 10_240, "abcdefghijklmnopqrstuvwxyz ");
    expect(editDistance(a, b)).toBe(naiveDistance(a, b));
    // k substitutions by a character absent from `a`: each needs its own edit, so the distance is exactly k.
    const chars = [...a];
    for (let i = 17; i < chars.length; i += 101) chars[i] = "#";
    const k = chars.filter((c) => c === "#").length;
    expect(editDistance(a, chars.join(""))).toBe(k);
    expect(Levenshtein({ output: a, expected: chars.join("") }).score).toBeCloseTo(1 - k / 10_240, 12);
  });
});

function mutate(next: () => number, text: string, alphabet: string): string {
  const chars = [...text];
  const edits = Math.floor(next() * 10);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(next() * (chars.length + 1));
    const op = next();
    const c = alphabet[Math.floor(next() * alphabet.length)] as string;
    if (op < 0.33) chars.splice(at, 0, c);
    else if (op < 0.66) chars.splice(at, 1);
    else chars[at] = c;
  }
  return chars.join("");
}

describe("ExactMatch", () => {
  it("compares objects as canonical JSON: key order does not matter, at any depth", () => {
    expect(ExactMatch({ output: { a: 1, b: 2 }, expected: { b: 2, a: 1 } }).score).toBe(1);
    const output = { a: { c: 1, b: [1, { y: 1, x: 2 }] } };
    expect(ExactMatch({ output, expected: { a: { b: [1, { x: 2, y: 1 }], c: 1 } } }).score).toBe(1);
    expect(ExactMatch({ output: [1, 2], expected: [2, 1] }).score).toBe(0);
    expect(ExactMatch({ output: { a: 1 }, expected: { a: 1, b: 2 } }).score).toBe(0);
  });

  it("parses JSON strings first", () => {
    expect(ExactMatch({ output: '{"b": 2, "a": 1}', expected: { a: 1, b: 2 } }).score).toBe(1);
    expect(ExactMatch({ output: '{"a": 1}', expected: '{"a":1}' }).score).toBe(1);
    expect(ExactMatch({ output: "[1, 2]", expected: [1, 2] }).score).toBe(1);
    expect(ExactMatch({ output: "not json", expected: { a: 1 } }).score).toBe(0);
  });

  it("compares scalars as text, as autoevals does", () => {
    expect(ExactMatch({ output: "abc", expected: "abc" }).score).toBe(1);
    expect(ExactMatch({ output: "Abc", expected: "abc" }).score).toBe(0);
    expect(ExactMatch({ output: 1, expected: "1" }).score).toBe(1);
    expect(ExactMatch({ output: "1.0", expected: "1" }).score).toBe(0);
    expect(ExactMatch({ output: true, expected: "true" }).score).toBe(1);
  });

  it("treats null and a missing output as null", () => {
    expect(ExactMatch({ output: null, expected: null }).score).toBe(1);
    expect(ExactMatch({ output: undefined, expected: null }).score).toBe(1);
    expect(ExactMatch({ output: null, expected: "null" }).score).toBe(1);
    expect(ExactMatch({ output: "", expected: null }).score).toBe(0);
  });

  it("errors without an expected value", () => {
    expect(() => ExactMatch({ output: "a" })).toThrow(/^ExactMatch requires an expected value/);
  });
});

describe("NumericDiff", () => {
  it.each([
    [0, 0, 1],
    [1, 2, 2 / 3],
    [10, 5, 2 / 3],
    [-1, 2, 0],
    [-2, -4, 2 / 3],
    [5, 5, 1],
    [0, 3, 0],
    [Number.MAX_VALUE, Number.MAX_VALUE / 2, 2 / 3],
    [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 1],
    [Number.POSITIVE_INFINITY, 1, 0],
  ])("%d vs %d scores %d", (output, expected, value) => {
    expect(NumericDiff({ output, expected }).score).toBeCloseTo(value, 12);
  });

  it("reads numeric strings as numbers", () => {
    expect(NumericDiff({ output: "4", expected: 2 }).score).toBeCloseTo(2 / 3, 12);
    expect(NumericDiff({ output: " 3 ", expected: "3" }).score).toBe(1);
  });

  it("scores an output that is no number 0, with the reason in metadata", () => {
    const result = NumericDiff({ output: "about four", expected: 4 });
    expect(result.score).toBe(0);
    expect(result.metadata?.error).toMatch(/not a number/);
    expect(NumericDiff({ output: null, expected: 4 }).score).toBe(0);
    expect(NumericDiff({ output: Number.NaN, expected: 4 }).score).toBe(0);
  });

  it("treats a null expected as a value: only a missing output matches it", () => {
    expect(NumericDiff({ output: null, expected: null }).score).toBe(1);
    expect(NumericDiff({ output: 0, expected: null }).score).toBe(0);
  });

  it("errors when the expected value is missing or no number", () => {
    expect(() => NumericDiff({ output: 1 })).toThrow(/^NumericDiff requires an expected value/);
    expect(() => NumericDiff({ output: 1, expected: "x" })).toThrow(/NumericDiff needs a number/);
  });
});

describe("JSONDiff", () => {
  it("scores leaves with Levenshtein and NumericDiff, and averages objects over the union of keys", async () => {
    expect(await score(JSONDiff({ output: { a: 1 }, expected: { a: 1 } }))).toBe(1);
    expect(await score(JSONDiff({ output: { a: 1 }, expected: { a: 2 } }))).toBeCloseTo(2 / 3, 12);
    // a: "ab" vs "ac" = 0.5; b and c are each missing on one side = 0.
    expect(await score(JSONDiff({ output: { a: "ab", b: 1 }, expected: { a: "ac", c: 1 } }))).toBeCloseTo(
      0.5 / 3,
      12,
    );
  });

  it("recurses into nested objects and arrays, arrays over the longer length", async () => {
    const output = { user: { name: "kitten", age: 30 }, tags: ["a", "b"] };
    const expected = { user: { name: "sitting", age: 20 }, tags: ["a"] };
    // user: (4/7 + (1 − 10/50)) / 2 = 24/35; tags: 1 / 2; together (24/35 + 1/2) / 2 = 83/140.
    expect(await score(JSONDiff({ output, expected }))).toBeCloseTo(83 / 140, 12);
    expect(await score(JSONDiff({ output: [1, 2, 3], expected: [1] }))).toBeCloseTo(1 / 3, 12);
  });

  it("handles empty and null values", async () => {
    expect(await score(JSONDiff({ output: null, expected: null }))).toBe(1);
    expect(await score(JSONDiff({ output: undefined, expected: null }))).toBe(1);
    expect(await score(JSONDiff({ output: "", expected: null }))).toBe(0);
    expect(await score(JSONDiff({ output: {}, expected: {} }))).toBe(1);
    expect(await score(JSONDiff({ output: [], expected: [] }))).toBe(1);
    expect(await score(JSONDiff({ output: { a: 1 }, expected: { a: null } }))).toBe(0);
    // Different kinds compare as JSON text: "[]" vs "{}" share nothing.
    expect(await score(JSONDiff({ output: [], expected: {} }))).toBe(0);
    // '{"a":1}' vs '["a",1]': 3 substitutions in 7.
    expect(await score(JSONDiff({ output: { a: 1 }, expected: ["a", 1] }))).toBeCloseTo(4 / 7, 12);
    // "true" vs "false": 4 edits in 5.
    expect(await score(JSONDiff({ output: true, expected: false }))).toBeCloseTo(0.2, 12);
  });

  it("parses strings holding JSON objects or arrays, unless preserveStrings", async () => {
    expect(await score(JSONDiff({ output: '{"x": 1, "y": 2}', expected: '{"y": 2, "x": 1}' }))).toBe(1);
    expect(
      await score(JSONDiff({ output: { o: { x: 2, y: 2 } }, expected: '{"o": {"y": 2, "x": 1}}' })),
    ).toBeCloseTo((2 / 3 + 1) / 2, 12);
    // A scalar in a string stays a string: "1" vs 1 compares '"1"' with '1'.
    expect(await score(JSONDiff({ output: "1", expected: 1 }))).toBeCloseTo(1 / 3, 12);
    const kept = await score(
      JSONDiff({ output: '{"x":1,"y":2}', expected: '{"y":2,"x":1}', preserveStrings: true }),
    );
    expect(kept).toBeLessThan(1);
  });

  it("takes other string and number scorers", async () => {
    const strict = JSONDiff.partial({ stringScorer: ExactMatch, numberScorer: ExactMatch });
    expect(await score(strict({ output: { a: "x", b: "y" }, expected: { a: "x", b: "Y" } }))).toBe(0.5);
    expect(await score(strict({ output: [1, 2], expected: [1, 3] }))).toBe(0.5);
    // Scorers may return plain numbers or booleans too.
    const loose = JSONDiff.partial({
      stringScorer: ({ output, expected }) => output.length === expected.length,
    });
    expect(await score(loose({ output: ["ab", "abc"], expected: ["cd", "cd"] }))).toBe(0.5);
  });

  it("stays synchronous with synchronous scorers and waits for asynchronous ones", async () => {
    expect(JSONDiff({ output: { a: "x" }, expected: { a: "x" } })).not.toBeInstanceOf(Promise);
    const slow = JSONDiff.partial({
      stringScorer: async ({ output, expected }) => (output === expected ? 1 : 0),
    });
    const result = slow({ output: { a: "x", b: "y" }, expected: { a: "x", b: "z" } });
    expect(result).toBeInstanceOf(Promise);
    expect(await score(result)).toBe(0.5);
  });

  it("leaves keys its string scorer does not score out of the average; none scored is null", async () => {
    const some = JSONDiff.partial({ stringScorer: ({ output }) => (output === "skip" ? null : 1) });
    expect(await score(some({ output: { a: "skip", b: 2 }, expected: { a: "x", b: 4 } }))).toBeCloseTo(
      2 / 3,
      12,
    );
    expect(await score(some({ output: { a: "skip" }, expected: { a: "x" } }))).toBeNull();
  });

  it("reads values as JSON would, and own keys only", async () => {
    const at = new Date(0);
    expect(await score(JSONDiff({ output: { at }, expected: { at: at.toISOString() } }))).toBe(1);
    expect(await score(JSONDiff({ output: { constructor: 1 }, expected: {} }))).toBe(0);
  });

  it("errors without an expected value, and when a given scorer returns nonsense", async () => {
    expect(() => JSONDiff({ output: { a: 1 } })).toThrow(/^JSONDiff requires an expected value/);
    const bad = JSONDiff.partial({ numberScorer: () => "yes" as never });
    expect(() => bad({ output: 1, expected: 2 })).toThrow(/JSONDiff's numberScorer returned a string/);
  });
});

describe("ListContains", () => {
  it("scores empty lists", async () => {
    expect(await score(ListContains({ output: [], expected: [] }))).toBe(1);
    expect(await score(ListContains({ output: ["a"], expected: [] }))).toBe(0);
    expect(await score(ListContains({ output: [], expected: ["a"] }))).toBe(0);
  });

  it("normalises by the longer list, or by expected with allowExtraEntities", async () => {
    expect(await score(ListContains({ output: ["a"], expected: ["a", "b"] }))).toBe(0.5);
    expect(await score(ListContains({ output: ["a", "b"], expected: ["a"] }))).toBe(0.5);
    expect(await score(ListContains({ output: ["a", "b", "c"], expected: ["b"] }))).toBeCloseTo(1 / 3, 12);
    const extra = ListContains.partial({ allowExtraEntities: true });
    expect(await score(extra({ output: ["a", "b", "c"], expected: ["b"] }))).toBe(1);
    expect(await score(extra({ output: ["b"], expected: ["a", "b"] }))).toBe(0.5);
  });

  it("pairs items one to one, by Levenshtein, and reports the pairs", async () => {
    const result = await ListContains({ output: ["kitten", "flaw"], expected: ["lawn", "sitting", "zzz"] });
    // kitten–sitting 4/7, flaw–lawn 1/2, over 3.
    expect(result.score).toBeCloseTo((4 / 7 + 1 / 2) / 3, 12);
    expect(result.metadata?.pairs).toEqual([
      { output: "kitten", expected: "sitting", score: expect.closeTo(4 / 7, 12) },
      { output: "flaw", expected: "lawn", score: 0.5 },
    ]);
  });

  it("finds the best assignment where a greedy one would not", async () => {
    const table: Record<string, number> = { "a→X": 0.9, "a→Y": 0.8, "b→X": 0.7, "b→Y": 0.1 };
    const pairwiseScorer = ({ output, expected }: { output: string; expected: string }) =>
      table[`${output}→${expected}`] ?? 0;
    // Greedy takes a→X (0.9) and is left with b→Y (0.1); the best is a→Y + b→X = 1.5.
    const result = await ListContains({ output: ["a", "b"], expected: ["X", "Y"], pairwiseScorer });
    expect(result.score).toBeCloseTo(0.75, 12);
  });

  it("reads a string holding a JSON array as the list; any other output scores 0", async () => {
    expect(await score(ListContains({ output: '["a", "b"]', expected: ["b", "a"] }))).toBe(1);
    const result = await ListContains({ output: "a, b", expected: ["a", "b"] });
    expect(result.score).toBe(0);
    expect(result.metadata?.error).toMatch(/not a list/);
  });

  it("errors without an expected list", () => {
    expect(() => ListContains({ output: ["a"] })).toThrow(/^ListContains requires an expected value/);
    expect(() => ListContains({ output: ["a"], expected: "a" })).toThrow(/ListContains needs a list/);
  });

  it("waits for an asynchronous pairwise scorer", async () => {
    const result = ListContains({
      output: ["a", "b"],
      expected: ["b", "a"],
      pairwiseScorer: async ({ output, expected }) => ({ name: "eq", score: output === expected ? 1 : 0 }),
    });
    expect(result).toBeInstanceOf(Promise);
    expect(await score(result)).toBe(1);
  });
});

describe("maxWeightAssignment", () => {
  function best(weights: number[], rows: number, cols: number): number {
    // Every injective map of the shorter side into the longer one.
    let top = Number.NEGATIVE_INFINITY;
    const used = new Array<boolean>(Math.max(rows, cols)).fill(false);
    const short = Math.min(rows, cols);
    const long = Math.max(rows, cols);
    const at = (s: number, l: number) =>
      (rows <= cols ? weights[s * cols + l] : weights[l * cols + s]) as number;
    const walk = (s: number, total: number) => {
      if (s === short) {
        top = Math.max(top, total);
        return;
      }
      for (let l = 0; l < long; l++) {
        if (used[l]) continue;
        used[l] = true;
        walk(s + 1, total + at(s, l));
        used[l] = false;
      }
    };
    walk(0, 0);
    return top;
  }

  it("matches brute force on random rectangular matrices (fixed seed)", () => {
    const next = random(99);
    for (let t = 0; t < 300; t++) {
      const rows = 1 + Math.floor(next() * 6);
      const cols = 1 + Math.floor(next() * 6);
      // Coarse values make ties common.
      const weights = Array.from({ length: rows * cols }, () => Math.floor(next() * 5) / 4);
      const assigned = maxWeightAssignment(weights, rows, cols);
      const taken = new Set<number>();
      let total = 0;
      for (let r = 0; r < rows; r++) {
        const c = assigned[r] as number;
        if (c < 0) continue;
        expect(taken.has(c)).toBe(false);
        taken.add(c);
        total += weights[r * cols + c] as number;
      }
      expect(taken.size).toBe(Math.min(rows, cols));
      expect(total).toBeCloseTo(best(weights, rows, cols), 9);
    }
  });
});

describe("ValidJSON", () => {
  it.each([
    ['{"a": 1}', 1],
    ["[1, 2]", 1],
    ["1", 0],
    ['"text"', 0],
    ["null", 0],
    ["{a: 1}", 0],
    ['{"a": 1', 0],
  ])("string %j scores %d", async (output, value) => {
    expect(await score(ValidJSON({ output }))).toBe(value);
  });

  it("accepts objects and arrays as they are, and nothing else that is not a string", async () => {
    expect(await score(ValidJSON({ output: { a: 1 } }))).toBe(1);
    expect(await score(ValidJSON({ output: [] }))).toBe(1);
    expect(await score(ValidJSON({ output: 100 }))).toBe(0);
    expect(await score(ValidJSON({ output: null }))).toBe(0);
    expect(await score(ValidJSON({ output: undefined }))).toBe(0);
  });

  it("says why in metadata", async () => {
    expect((await ValidJSON({ output: "{oops" })).metadata?.error).toMatch(/^The output is not JSON/);
    expect((await ValidJSON({ output: "1" })).metadata?.error).toMatch(/not a JSON object or array/);
  });

  it("validates against a JSON Schema, scalars included", async () => {
    const schema = {
      type: "object",
      properties: { a: { type: "string" }, b: { type: "number" } },
      required: ["a"],
    };
    const valid = ValidJSON.partial({ schema });
    expect(await score(valid({ output: '{"a": "1"}' }))).toBe(1);
    expect(await score(valid({ output: { a: "1", b: 2 } }))).toBe(1);
    const wrong = await valid({ output: '{"a": 1, "b": "2"}' });
    expect(wrong.score).toBe(0);
    expect(wrong.metadata?.error).toMatch(/^The output does not match the schema: a: .*; b: /);
    expect(await score(valid({ output: "[1]" }))).toBe(0);
    expect(await score(ValidJSON({ output: "5", schema: { type: "number" } }))).toBe(1);
    expect(await score(ValidJSON({ output: "5", schema: false }))).toBe(0);
  });

  it("checks a JSON Schema's formats, and ignores unknown ones without a word on the console", async () => {
    const warn = vi.spyOn(console, "warn");
    const schema = {
      type: "object",
      properties: {
        email: { type: "string", format: "email" },
        when: { type: "string", format: "date-time" },
        id: { type: "string", format: "uuid" },
        mine: { type: "string", format: "made-up" },
      },
    };
    const valid = ValidJSON.partial({ schema });
    const good = {
      email: "a@b.co",
      when: "2024-05-01T10:00:00Z",
      id: "0b5e3c3e-6c2f-4f0e-9a43-2b1c0d7e8f90",
      mine: "x",
    };
    expect(await score(valid({ output: good }))).toBe(1);
    const bad = await valid({ output: { ...good, email: "not-an-email", when: "yesterday" } });
    expect(bad.score).toBe(0);
    expect(bad.metadata?.error).toBe(
      'The output does not match the schema: email: must match format "email"; when: must match format "date-time".',
    );
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it("validates against a zod schema, synchronously", async () => {
    const valid = ValidJSON.partial({ schema: z.object({ answer: z.number().int() }) });
    const result = valid({ output: '{"answer": 42}' });
    expect(result).not.toBeInstanceOf(Promise);
    expect(await score(result)).toBe(1);
    expect(await score(valid({ output: '{"answer": 4.2}' }))).toBe(0);
    const later = ValidJSON.partial({ schema: z.string().refine(async (s) => s.length > 1) });
    expect(await score(later({ output: '"ab"' }))).toBe(1);
  });

  it("errors on a JSON Schema that is not one", async () => {
    const bad = ValidJSON.partial({ schema: { type: "nonsense" } });
    await expect(Promise.resolve().then(() => bad({ output: "1" }))).rejects.toThrow(
      /ValidJSON could not use its JSON Schema: schema is invalid/,
    );
  });

  // Each of these passed every value when JSON Schemas went through zod's fromJSONSchema, which drops what zod
  // cannot express; autoevals (Ajv) scores them as here.
  it.each([
    [
      "required, not in properties",
      { type: "object", required: ["answer"] },
      '{"reply": "hi"}',
      '{"answer": 1}',
    ],
    [
      "required, nested",
      { type: "object", properties: { a: { type: "object", required: ["b"] } } },
      '{"a": {}}',
      '{"a": {"b": 1}}',
    ],
    ["minItems without items", { type: "array", minItems: 3 }, "[1]", "[1, 2, 3]"],
    ["maxItems without items", { type: "array", maxItems: 1 }, "[1, 2]", "[1]"],
    [
      "required with a default",
      { type: "object", properties: { a: { type: "string", default: "x" } }, required: ["a"] },
      "{}",
      '{"a": "y"}',
    ],
    [
      "anyOf of required lists",
      { anyOf: [{ required: ["a"] }, { required: ["b"] }] },
      '{"c": 1}',
      '{"b": 1}',
    ],
    [
      "draft-07 $ref to definitions",
      {
        definitions: { Answer: { type: "string" } },
        type: "object",
        properties: { a: { $ref: "#/definitions/Answer" } },
      },
      '{"a": 1}',
      '{"a": "x"}',
    ],
    ["not", { not: { type: "string" } }, '"text"', "1"],
    [
      "2020-12 prefixItems",
      {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "array",
        prefixItems: [{ type: "number" }],
      },
      '["a"]',
      "[1]",
    ],
  ])("holds a JSON Schema's %s", async (_, schema, failing, passing) => {
    const valid = ValidJSON.partial({ schema });
    const failed = await valid({ output: failing });
    expect(failed.score).toBe(0);
    expect(failed.metadata?.error).toMatch(/^The output does not match the schema: /);
    expect(await score(valid({ output: passing }))).toBe(1);
  });
});

describe("Contains, StartsWith and Regex", () => {
  it("Contains: a substring, case-sensitive unless told", () => {
    expect(Contains({ output: "Hello world", expected: "world" }).score).toBe(1);
    expect(Contains({ output: "Hello world", expected: "World" }).score).toBe(0);
    expect(
      Contains.partial({ caseSensitive: false })({ output: "Hello world", expected: "World" }).score,
    ).toBe(1);
    expect(Contains({ output: 12345, expected: 234 }).score).toBe(1);
    expect(Contains({ output: null, expected: "a" }).score).toBe(0);
    expect(Contains({ output: "anything", expected: "" }).score).toBe(1);
  });

  it("Contains: a list of texts scores the fraction found", () => {
    const result = Contains({
      output: "Paris and Rome",
      expected: ["paris", "Rome", "Oslo"],
      caseSensitive: false,
    });
    expect(result.score).toBeCloseTo(2 / 3, 12);
    expect(result.metadata).toEqual({ missing: ["Oslo"] });
    expect(Contains({ output: "x", expected: [] }).score).toBe(1);
  });

  it("Contains: errors without a usable expected value", () => {
    expect(() => Contains({ output: "a" })).toThrow(/^Contains requires an expected value/);
    expect(() => Contains({ output: "a", expected: { a: 1 } })).toThrow(/Contains needs a string/);
  });

  it("StartsWith: a prefix, optionally ignoring case and leading whitespace", () => {
    expect(StartsWith({ output: "Paris is the capital", expected: "Paris" }).score).toBe(1);
    expect(StartsWith({ output: "  Paris", expected: "Paris" }).score).toBe(0);
    expect(StartsWith({ output: "  Paris", expected: "Paris", trimStart: true }).score).toBe(1);
    expect(StartsWith({ output: "paris", expected: "PARIS", caseSensitive: false }).score).toBe(1);
    expect(() => StartsWith({ output: "a" })).toThrow(/^StartsWith requires an expected value/);
  });

  it("Regex: a bound pattern or the row's expected one, anywhere or whole", () => {
    const digits = Regex.partial({ pattern: "\\d{3}" });
    expect(digits({ output: "call 555 now" }).score).toBe(1);
    expect(digits({ output: "call 55 now" }).score).toBe(0);
    expect(Regex.partial({ pattern: "\\d{3}", fullMatch: true })({ output: "call 555" }).score).toBe(0);
    expect(Regex.partial({ pattern: "\\d{3}|x", fullMatch: true })({ output: "555" }).score).toBe(1);
    // One matching line is not the whole output, even with the `m` flag; `m` still applies inside the pattern.
    expect(Regex({ output: "foo\nbar", expected: /foo/m, fullMatch: true }).score).toBe(0);
    expect(Regex({ output: "foo\nbar", expected: /foo$\n^bar/m, fullMatch: true }).score).toBe(1);
    expect(Regex({ output: "PARIS", expected: "^paris$", caseSensitive: false }).score).toBe(1);
    expect(Regex({ output: "PARIS", expected: /^paris$/ }).score).toBe(0);
  });

  it("Regex: a global RegExp gives the same answer every time", () => {
    const global = Regex.partial({ pattern: /a/g });
    expect([1, 2, 3].map(() => global({ output: "banana" }).score)).toEqual([1, 1, 1]);
  });

  it("Regex: errors without a pattern, or with a broken one in the data", () => {
    expect(() => Regex({ output: "a" })).toThrow(/^Regex requires a pattern/);
    expect(() => Regex({ output: "a", expected: "(" })).toThrow(/not a valid regular expression/);
  });
});

describe("partial()", () => {
  it("binds options, keeps the name, and chains", async () => {
    const lenient = Contains.partial({ caseSensitive: false });
    expect(lenient.name).toBe("Contains");
    expect(typeof lenient.partial).toBe("function");
    expect(lenient({ output: "ABC", expected: "b" })).toEqual({ name: "Contains", score: 1 });
    const strictNumbers = JSONDiff.partial({ stringScorer: ExactMatch }).partial({
      numberScorer: ExactMatch,
    });
    expect(await score(strictNumbers({ output: { a: "x", n: 1 }, expected: { a: "X", n: 2 } }))).toBe(0);
  });

  it("lets a call's options override bound ones, and bound arguments fill missing ones", async () => {
    const extra = ListContains.partial({ allowExtraEntities: true });
    expect(await score(extra({ output: ["a", "b"], expected: ["a"], allowExtraEntities: false }))).toBe(0.5);
    expect(Contains.partial({ expected: "x" })({ output: "xyz" }).score).toBe(1);
    expect(Contains.partial({ expected: "x" })({ output: "xyz", expected: "q" }).score).toBe(0);
  });

  it("rejects a wrong option type at definition time, naming the scorer and the option", () => {
    const error = thrown(() => JSONDiff.partial({ stringScorer: "Levenshtein" as never }));
    expect(isEvalrunError(error)).toBe(true);
    expect(error.code).toBe("BAD_SCORER_OPTIONS");
    expect(error.message).toMatch(/^Option "stringScorer" of JSONDiff must be a scorer function/);
    expect(error.message).toContain('a string ("Levenshtein")');
    expect(error.hint).toMatch(/JSONDiff\.partial\(\{ stringScorer: /);
    expect((error as unknown as { exitCode: number }).exitCode).toBe(1);

    expect(thrown(() => ListContains.partial({ allowExtraEntities: "yes" as never })).message).toMatch(
      /"allowExtraEntities" of ListContains must be a boolean/,
    );
    expect(thrown(() => ValidJSON.partial({ schema: "object" as never })).message).toMatch(
      /"schema" of ValidJSON must be a JSON Schema/,
    );
    expect(thrown(() => Regex.partial({ pattern: "(" })).message).toMatch(
      /"pattern" of Regex is not a valid regular expression/,
    );
  });

  it("rejects unknown options, suggesting a near name", () => {
    const typo = thrown(() => ListContains.partial({ allowExtraEntites: true } as never));
    expect(typo.code).toBe("BAD_SCORER_OPTIONS");
    expect(typo.message).toContain('unknown option "allowExtraEntites" (did you mean "allowExtraEntities"?)');
    const none = thrown(() => Levenshtein.partial({ caseSensitive: false } as never));
    expect(none.message).toMatch(
      /^Levenshtein\.partial\(\) was given an unknown option "caseSensitive"; Levenshtein takes no options/,
    );
    expect(none.hint).toBeTruthy();
    expect(thrown(() => Contains.partial(null as never)).message).toMatch(
      /takes an object of options, not null/,
    );
  });

  it("checks options given in a call too", () => {
    const error = thrown(() => JSONDiff({ output: "a", expected: "b", preserveStrings: "yes" as never }));
    expect(error.code).toBe("BAD_SCORER_OPTIONS");
    expect(error.message).toMatch(
      /"preserveStrings" of JSONDiff must be a boolean; the call passed a string/,
    );
  });

  it("fit the scores of an Evaluator", () => {
    const evaluator: Evaluator<string, string, string> = {
      data: [{ input: "a", expected: "a" }],
      task: (input) => input,
      scores: [
        Levenshtein,
        ExactMatch,
        JSONDiff.partial({ stringScorer: ExactMatch }),
        ListContains.partial({ pairwiseScorer: Levenshtein, allowExtraEntities: true }),
        ValidJSON.partial({ schema: z.object({ a: z.number() }) }),
        Contains.partial({ caseSensitive: false }),
      ],
    };
    expect(evaluator.scores).toHaveLength(6);
  });
});

describe("makePartial (autoevals')", () => {
  it("fixes arguments in advance, call-time ones winning unless undefined, and keeps the scorer's name", async () => {
    const { makePartial } = await import("../../src/scorers/make-partial.js");
    const atMost = makePartial<string, { max: number }>(
      ({ output, max }) => ({ name: "AtMost", score: output.length <= max ? 1 : 0 }),
      "AtMost",
    );
    const short = atMost.partial({ max: 3 });
    expect(short.name).toBe("AtMost");
    expect(await short({ output: "abcd", expected: undefined })).toEqual({ name: "AtMost", score: 0 });
    expect(await short({ output: "abcd", max: 5 })).toEqual({ name: "AtMost", score: 1 });
    expect(await short.partial({ max: 4 })({ output: "abcd" })).toEqual({ name: "AtMost", score: 1 });
  });
});
