import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { EvalDefinition } from "../../src/define/types.js";
import { rowKey, type StoredPair, skipDone } from "../../src/engine/row-key.js";
import { parseShard, selectionPlan, shardOf } from "../../src/runner/selection.js";
import { sameSelection, selectionArgs } from "../../src/store/selection-text.js";

/** The documented assignment, computed independently: SHA-1 of the row key, first 52 bits, mod N, from 1. */
const expectedShard = (key: string, total: number) =>
  (Number.parseInt(createHash("sha1").update(key).digest("hex").slice(0, 13), 16) % total) + 1;

const keys = Array.from({ length: 4000 }, (_, i) =>
  i % 2 === 0 ? `id:${i}` : `h:${i.toString(16).padStart(16, "0")}`,
);

describe("shard assignment", () => {
  it("follows the row key's hash, so every row lands in exactly one shard whatever the order", () => {
    for (const key of keys.slice(0, 200)) expect(shardOf(key, 4)).toBe(expectedShard(key, 4));
    const forward = keys.map((k) => shardOf(k, 4));
    const backward = [...keys]
      .reverse()
      .map((k) => shardOf(k, 4))
      .reverse();
    expect(backward).toEqual(forward);
    for (const s of forward) expect(s).toBeGreaterThanOrEqual(1);
    for (const s of forward) expect(s).toBeLessThanOrEqual(4);
  });

  it("splits rows evenly", () => {
    const sizes = [0, 0, 0, 0];
    for (const key of keys) sizes[shardOf(key, 4) - 1] = (sizes[shardOf(key, 4) - 1] ?? 0) + 1;
    for (const size of sizes) expect(Math.abs(size - 1000)).toBeLessThan(150);
    expect(keys.every((k) => shardOf(k, 1) === 1)).toBe(true);
  });

  it("parses I/N and refuses what is not a shard", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, total: 4 });
    expect(parseShard(" 1 / 1 ")).toEqual({ index: 1, total: 1 });
    for (const bad of ["3/2", "0/4", "1/0", "a/b", "2", "2/4/8", "-1/4", ""]) {
      expect(parseShard(bad)).toHaveProperty("problem");
    }
    expect((parseShard("3/2") as { problem: string }).problem).toContain("between 1 and N");
  });
});

function definition(rows: Array<{ input: unknown }>): EvalDefinition {
  return { name: "e", file: undefined, evaluator: { data: rows, task: () => 0, scores: [] } };
}

async function selected(
  rows: Array<{ input: unknown; id?: string }>,
  selection: Parameters<typeof selectionPlan>[2],
) {
  const plan = await selectionPlan(definition(rows), [], selection);
  return rows.map((r) => rowKey(r)).filter((key, i) => plan?.take(key, 0, i) ?? true);
}

describe("row selection", () => {
  const rows = Array.from({ length: 50 }, (_, i) => ({ input: `question ${i}` }));

  it("--sample N picks N rows by seed, the same ones whatever the data's order", async () => {
    const a = await selected(rows, { sample: 10, seed: 1 });
    expect(a).toHaveLength(10);
    expect(new Set(await selected([...rows].reverse(), { sample: 10, seed: 1 }))).toEqual(new Set(a));
    expect(await selected(rows, { sample: 10, seed: 1 })).toEqual(a);
    expect(new Set(await selected(rows, { sample: 10, seed: 2 }))).not.toEqual(new Set(a));
  });

  it("--first N takes the first N rows; with --shard, each shard takes its part of them", async () => {
    const first = await selected(rows, { first: 5 });
    expect(first).toEqual(rows.slice(0, 5).map((r) => rowKey(r)));
    const parts = await Promise.all(
      [1, 2, 3].map((index) => selected(rows, { first: 5, shard: { index, total: 3 } })),
    );
    expect(parts.flat().sort()).toEqual([...first].sort());
  });
});

describe("skipDone (--resume, --retry-errors)", () => {
  const runs = (plan: ReturnType<typeof skipDone>, rows: string[]) =>
    rows.map((key, index) => plan.take(key, 0, index));

  it("matches a stored result to the row at its own place when rows share a key", () => {
    // Row 0 never ran, row 1 (same key) did: row 0 runs, row 1 does not.
    expect(runs(skipDone([{ key: "q", trial: 0, index: 1 }], new Map([[1, "q"]])), ["q", "q"])).toEqual([
      true,
      false,
    ]);
    // Row 0 errored (stored, not done), rows 1 and 2 are done.
    const done = [
      { key: "q", trial: 0, index: 1 },
      { key: "q", trial: 0, index: 2 },
    ];
    const keyAt = new Map([
      [0, "q"],
      [1, "q"],
      [2, "q"],
    ]);
    expect(runs(skipDone(done, keyAt), ["q", "q", "q"])).toEqual([true, false, false]);
  });

  it("keeps the results of reordered data by key", () => {
    const done = [
      { key: "a", trial: 0, index: 0 },
      { key: "b", trial: 0, index: 1 },
    ];
    const keyAt = new Map([
      [0, "a"],
      [1, "b"],
    ]);
    expect(runs(skipDone(done, keyAt), ["b", "a", "c"])).toEqual([false, false, true]);
    // Only "a" had run, at place 0; the data now has it at place 1.
    expect(runs(skipDone([done[0] as StoredPair], new Map([[0, "a"]])), ["b", "a"])).toEqual([true, false]);
  });
});

describe("rowKey", () => {
  const sha1Key = (text: string) => `h:${createHash("sha1").update(text).digest("hex").slice(0, 16)}`;

  it("tells Map and Set inputs apart by their entries, in any insertion order", () => {
    const keyOf = (input: unknown) => rowKey({ input });
    const maps = [new Map([["q", "a"]]), new Map([["q", "b"]]), new Map([["r", "a"]]), new Map()];
    expect(new Set(maps.map(keyOf)).size).toBe(4);
    const ab = new Map<unknown, unknown>([
      ["a", 1],
      ["b", new Set([2, 3])],
    ]);
    const ba = new Map<unknown, unknown>([
      ["b", new Set([3, 2])],
      ["a", 1],
    ]);
    expect(keyOf(ab)).toBe(keyOf(ba));
    expect(keyOf({ nested: new Set(["x"]) })).not.toBe(keyOf({ nested: new Set(["y"]) }));
    // A Map is not the plain object of the same fields, nor an empty object.
    expect(keyOf(new Map([["q", "a"]]))).not.toBe(keyOf({ q: "a" }));
    expect(keyOf(new Map())).not.toBe(keyOf({}));
  });

  it("tells apart inputs nested deeper than JSON can go (each was stored as one placeholder, with its key)", () => {
    const nested = (depth: number, leaf: unknown) => {
      let value: unknown = leaf;
      for (let i = 0; i < depth; i++) value = { child: value, [`k${i % 3}`]: i };
      return value;
    };
    const keys = [nested(6_000, "a"), nested(6_000, "b"), nested(7_000, "a")].map((input) =>
      rowKey({ input }),
    );
    expect(new Set(keys).size).toBe(3);
    expect(rowKey({ input: nested(6_000, "a") })).toBe(keys[0]);
    const cyclic: Record<string, unknown> = nested(6_000, "a") as Record<string, unknown>;
    cyclic.self = cyclic;
    expect(rowKey({ input: cyclic })).toMatch(/^h:[0-9a-f]{16}$/);
  });

  it("keeps the key other inputs always had: SHA-1 of their canonical JSON, empty objects included", () => {
    expect(rowKey({ input: { b: 1, a: {} } })).toBe(sha1Key('{"a":{},"b":1}'));
    expect(rowKey({ input: [1, { x: [] }] })).toBe(sha1Key('[1,{"x":[]}]'));
    expect(rowKey({ input: 42 })).toBe(sha1Key("42"));
  });
});

describe("a run's selection", () => {
  it("is the same whatever order its --filters were given in", () => {
    expect(sameSelection("--first 3 --filter a=1 --filter b=2", "--first 3 --filter b=2 --filter a=1")).toBe(
      true,
    );
    expect(sameSelection("--filter a=1 --filter b=2", "--filter b=2 --filter a=1")).toBe(true);
    expect(sameSelection("--first 3 --filter a=1", "--first 4 --filter a=1")).toBe(false);
    expect(sameSelection("--filter a=1", "--filter a=1 --filter b=2")).toBe(false);
    expect(sameSelection(undefined, "--first 3")).toBe(false);
    expect(sameSelection(undefined, undefined)).toBe(true);
  });

  it("is given back as flags a shell takes as they were", () => {
    expect(selectionArgs("--first 3 --filter id=r1")).toBe("--first 3 --filter id=r1");
    expect(selectionArgs("--filter input=q(1|2) --filter lang=^en$")).toBe(
      "--filter 'input=q(1|2)' --filter 'lang=^en$'",
    );
    expect(selectionArgs("--filter it's=x y")).toBe("--filter 'it'\\''s=x y'");
  });
});
