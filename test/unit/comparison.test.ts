import type Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { RowResult } from "../../src/engine/types.js";
import { compareExperiments } from "../../src/store/compare.js";
import { StoreSink } from "../../src/store/eval-sink.js";
import { Experiments } from "../../src/store/experiments.js";
import { Ledger } from "../../src/store/ledger.js";
import { openStore } from "../../src/store/open.js";
import { type ScoreRows, scoreRows } from "../../src/store/paired.js";
import { PackedDigests } from "../../src/store/row-encoding.js";
import { indexedBlobs, indexedMeans } from "../../src/store/row-index.js";
import { RowMeans } from "../../src/store/row-means.js";
import { RowWriter } from "../../src/store/rows.js";
import { random } from "../helpers/random.js";
import { newExperiment } from "../helpers/store.js";

function rows(rand: () => number, keys: number, keyOffset: number, maxTrials = 3): RowResult[] {
  const out: RowResult[] = [];
  for (let k = 0; k < keys; k++) {
    const trials = 1 + Math.floor(rand() * maxTrials);
    for (let t = 0; t < trials; t++) {
      const scores: Record<string, number | null> = {};
      if (rand() < 0.9) scores.exact = rand() < 0.5 ? 1 : 0;
      if (rand() < 0.7) scores.judge = rand() < 0.2 ? null : Math.round(rand() * 4) / 4;
      out.push({
        id: `${k}-${t}`,
        input: k,
        scores,
        metadata: {},
        tags: [],
        metrics: { start: 0, end: 0, duration: 0 },
        row_key: `h:${k + keyOffset}`,
        row_index: k,
        trial_index: t,
      });
    }
  }
  return out;
}

function write(db: Database.Database, seq: number, list: RowResult[]): void {
  const writer = new RowWriter(db, seq);
  for (const row of list) writer.write(row);
  writer.close();
}

/** Per-row values in an order-free form: rows finish, and SQLite groups, in any order. */
const sorted = (m: Map<string, ScoreRows>) =>
  Object.fromEntries(
    [...m].map(([name, r]) => [
      name,
      { values: Array.from(r.values).sort(), diffs: Array.from(r.diffs).sort() },
    ]),
  );

describe("per-row means (RowMeans, the experiment index)", () => {
  // A re-run of the same rows in the same order is matched by position, without grouping by key; the same rows
  // shuffled, or with a key repeated, are grouped and matched by key. All three must agree with SQLite.
  // The same scores again (a re-run that changed nothing) and columns with every row scored take shorter paths.
  it.each([
    "same order",
    "shuffled",
    "a key repeated",
    "the same scores",
    "every row scored, the same scores",
  ])("agree with SQL on a re-run of the same keys: %s", (kind) => {
    const rand = random(7);
    const store = openStore(false);
    const base = newExperiment(store.db, "base");
    const next = newExperiment(store.db, "next");
    let baseRows = rows(rand, 50, 0, 1);
    if (kind.startsWith("every row scored"))
      baseRows = baseRows.map((r) => ({ ...r, scores: { exact: r.scores.exact ?? 0.5 } }));
    let nextRows = kind.endsWith("the same scores") ? baseRows : rows(rand, 50, 0, 1);
    if (kind === "shuffled") nextRows = [...nextRows].sort(() => rand() - 0.5);
    if (kind === "a key repeated")
      nextRows = [...nextRows, { ...(nextRows[3] as RowResult), scores: { exact: 0.5 } }];
    write(store.db, base.seq, baseRows);
    write(store.db, next.seq, nextRows);
    const before = new RowMeans();
    for (const row of baseRows) before.add(row.row_key, row.scores);
    const stored = RowMeans.fromJSON(JSON.parse(JSON.stringify(before)));
    const after = new RowMeans();
    for (const row of nextRows) after.add(row.row_key, row.scores);
    const matches = after.matchesIn(stored);
    expect(after.compareWith(stored, matches)).toEqual(compareExperiments(store.db, next.seq, base.seq));
    expect(sorted(after.scoreRows(stored, matches))).toEqual(sorted(scoreRows(store.db, next.seq, base.seq)));
    expect(after.size).toBe(50);
    store.db.close();
  });

  it.each([1, 2, 3, 4, 5])("agree with the SQL comparison on random experiments (seed %i)", (seed) => {
    const rand = random(seed);
    const store = openStore(false);
    const base = newExperiment(store.db, "base", 3);
    const next = newExperiment(store.db, "next", 3);
    const baseRows = rows(rand, 60, 0);
    const nextRows = rows(rand, 60, 10); // 10 keys only in the baseline, 10 only in the new run
    write(store.db, base.seq, baseRows);
    write(store.db, next.seq, nextRows);
    const fromSql = compareExperiments(store.db, next.seq, base.seq);
    expect(fromSql.onlyBase).toBe(10);
    expect(fromSql.onlyNew).toBe(10);
    expect(fromSql.matchedRows).toBe(50);

    const before = new RowMeans();
    for (const row of baseRows) before.add(row.row_key, row.scores);
    const after = new RowMeans();
    for (const row of nextRows) after.add(row.row_key, row.scores);
    expect(after.compareWith(before)).toEqual(fromSql);
    // What the index stores is enough: the same comparison from the baseline's means read back from JSON.
    const stored = RowMeans.fromJSON(JSON.parse(JSON.stringify(before)));
    expect(after.compareWith(stored)).toEqual(fromSql);
    // And the same per-row values and paired differences as the store's grouping (the gates' intervals).
    expect(sorted(after.scoreRows(stored))).toEqual(sorted(scoreRows(store.db, next.seq, base.seq)));
    expect(sorted(after.scoreRows(undefined))).toEqual(sorted(scoreRows(store.db, next.seq, null)));

    // The baseline's ledger writes its index; the next run's ledger compares from it, and so does one without.
    expect(new Ledger(store.db, base.seq, null).finish().comparison).toBeNull();
    expect(indexedMeans(store.db, base.seq)?.means.size).toBe(60);
    expect(indexedBlobs(store.db, base.seq)).toEqual({ digests: [], root: base.seq });
    // An index of another shape (written by another build) or unreadable is ignored: the rows answer instead.
    const setIndex = store.db.prepare("UPDATE row_index SET means = ?, blobs = ? WHERE exp = ?");
    for (const [means, blobs] of [
      ['{"keys":"h:1","scores":{}}', '"packed"'],
      ['{"keys":["h:1"],"scores":{"s":[1,2]}}', "[1]"],
      ["{not json", "{not json"],
      ['{"keysOf":"h:1","scores":{}}', '{"same":"h:1"}'],
      // Naming an experiment whose index does not exist (removed since).
      [`{"keysOf":${next.seq + 100},"scores":{}}`, `{"same":${next.seq + 100}}`],
    ]) {
      setIndex.run(means, blobs, base.seq);
      expect(indexedMeans(store.db, base.seq)).toBeUndefined();
      expect(indexedBlobs(store.db, base.seq)).toBeUndefined();
      expect(new Ledger(store.db, next.seq, base.seq).finish().comparison).toEqual(fromSql);
    }
    expect(new Ledger(store.db, next.seq, base.seq).finish().comparison).toEqual(fromSql);
    store.db.prepare("DELETE FROM row_index").run();
    expect(new Ledger(store.db, next.seq, base.seq).finish().comparison).toEqual(fromSql);
    store.db.close();
  });
});

describe("the experiment index of a re-run", () => {
  const big = (k: number) => `${k}:${"lorem ipsum ".repeat(30)}`;
  function run(db: Database.Database, name: string, baseline: number | null, keys: number[]) {
    const e = newExperiment(db, name);
    const sink = new StoreSink(db, e.seq, baseline);
    for (const [i, k] of keys.entries()) {
      sink.write({
        id: `${name}-${i}`,
        input: big(k),
        output: k % 2 === 0 ? "even" : big(k),
        scores: { s: (k % 4) / 4 },
        metadata: {},
        tags: [],
        metrics: { start: 0, end: 0, duration: 0 },
        row_key: `h:${k}`,
        row_index: i,
        trial_index: 0,
      });
    }
    return { seq: e.seq, done: sink.finish() };
  }
  /** How many digests an index's blob column packs (40 hex digits each, end to end), or -1 when not packed. */
  const packedCount = (text: string) => (/^([0-9a-f]{40})+$/.test(text) ? text.length / 40 : -1);
  const indexRow = (db: Database.Database, seq: number) =>
    db.prepare("SELECT means, blobs FROM row_index WHERE exp = ?").get(seq) as {
      means: string;
      blobs: string;
    };

  it("names its baseline's key and blob lists instead of copying them, and reads back the same", async () => {
    const store = openStore(false);
    const db = store.db;
    const keys = Array.from({ length: 40 }, (_, k) => k);
    const a = run(db, "a", null, keys);
    await a.done;
    const b = run(db, "b", a.seq, keys);
    expect((await b.done).comparison?.onlyNew).toBe(0);
    const c = run(db, "c", b.seq, keys);
    await c.done;
    // b and c both name a, which holds the lists: one hop, however many re-runs.
    for (const seq of [b.seq, c.seq]) {
      const { means, blobs } = indexRow(db, seq);
      expect(JSON.parse(means)).toMatchObject({ keysOf: a.seq });
      expect(JSON.parse(blobs)).toEqual({ same: a.seq });
      expect(indexedMeans(db, seq)?.means.toJSON()).toEqual(indexedMeans(db, a.seq)?.means.toJSON());
      expect(indexedBlobs(db, seq)).toEqual({ digests: indexedBlobs(db, a.seq)?.digests, root: a.seq });
    }
    expect(indexedBlobs(db, a.seq)?.digests).toHaveLength(40);
    // Other keys, or the same in another order: lists of their own.
    const d = run(db, "d", c.seq, [...keys].reverse());
    const dOut = await d.done;
    expect(dOut.comparison).toEqual(compareExperiments(db, d.seq, c.seq));
    expect(JSON.parse(indexRow(db, d.seq).means).keys).toHaveLength(40);
    expect(packedCount(indexRow(db, d.seq).blobs)).toBe(40);
    // Removing a hands its lists to b (the oldest naming them); c then names b. Both read back as before.
    const before = [b.seq, c.seq].map((seq) => [
      indexedMeans(db, seq)?.means.toJSON(),
      indexedBlobs(db, seq)?.digests,
    ]);
    new Experiments(db).remove([a.seq]);
    expect(JSON.parse(indexRow(db, b.seq).means).keys).toHaveLength(40);
    expect(packedCount(indexRow(db, b.seq).blobs)).toBe(40);
    expect(JSON.parse(indexRow(db, c.seq).means)).toMatchObject({ keysOf: b.seq });
    expect(JSON.parse(indexRow(db, c.seq).blobs)).toEqual({ same: b.seq });
    expect(
      [b.seq, c.seq].map((seq) => [indexedMeans(db, seq)?.means.toJSON(), indexedBlobs(db, seq)?.digests]),
    ).toEqual(before);
    // Resuming b (its rows change, its index goes) hands them on to c.
    db.prepare("UPDATE experiments SET status = 'interrupted' WHERE seq = ?").run(b.seq);
    expect(new Experiments(db).reopen(b.seq)).toBe(true);
    expect(JSON.parse(indexRow(db, c.seq).means).keys).toHaveLength(40);
    expect(indexedBlobs(db, c.seq)).toEqual({ digests: before[1]?.[1], root: c.seq });
    // An index naming one that is gone some other way is ignored; a run against it compares rightly, from its rows.
    const f = run(db, "f", c.seq, keys);
    await f.done;
    expect(JSON.parse(indexRow(db, f.seq).blobs)).toEqual({ same: c.seq });
    db.prepare("DELETE FROM row_index WHERE exp = ?").run(c.seq);
    expect(indexedMeans(db, f.seq)).toBeUndefined();
    expect(indexedBlobs(db, f.seq)).toBeUndefined();
    const e = run(db, "e", f.seq, keys);
    expect((await e.done).comparison).toEqual(compareExperiments(db, e.seq, f.seq));
    expect(packedCount(indexRow(db, e.seq).blobs)).toBe(40);
    db.close();
  });

  it("reads a blob list written as a JSON array, as builds before packed lists wrote it", async () => {
    const store = openStore(false);
    const db = store.db;
    const keys = Array.from({ length: 12 }, (_, k) => k);
    const a = run(db, "a", null, keys);
    await a.done;
    const packed = indexedBlobs(db, a.seq)?.digests;
    expect(packed).toBeInstanceOf(PackedDigests);
    const digests = (packed as PackedDigests).toArray();
    db.prepare("UPDATE row_index SET blobs = ? WHERE exp = ?").run(JSON.stringify(digests), a.seq);
    expect(indexedBlobs(db, a.seq)).toEqual({ digests, root: a.seq });
    const blobsBefore = db.prepare("SELECT count(*) FROM blobs").pluck().get();
    const b = run(db, "b", a.seq, keys);
    await b.done;
    expect(JSON.parse(indexRow(db, b.seq).blobs)).toEqual({ same: a.seq });
    expect(db.prepare("SELECT count(*) FROM blobs").pluck().get()).toBe(blobsBefore);
    db.close();
  });
});

describe("which row means are kept as an index", () => {
  const scores = (names: number, from: number, count: number) => {
    const s: Record<string, number> = {};
    for (let n = from; n < from + count; n++) s[`s${n % names}`] = 0.5;
    return s;
  };

  it("keeps thousands of score names filled on every row (the SQL instead took minutes), not mostly empty ones", () => {
    // Asked after each row, as the ledger asks it (the first row's 1,024 allocated slots made it look empty).
    const dense = new RowMeans();
    let dropped = false;
    for (let row = 0; row < 200; row++) {
      dense.add(`k${row}`, scores(4_000, 0, 4_000));
      dropped ||= dense.oversized;
    }
    expect(dropped).toBe(false);
    const sparse = new RowMeans();
    // A score name per category, one on each row: 2,100 names × 2,100 rows, one in 2,100 filled.
    for (let row = 0; row < 2_100; row++) sparse.add(`k${row}`, scores(4_000, row, 1));
    expect(sparse.oversized).toBe(true);
  });
});
