import type Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { RowResult } from "../../src/engine/types.js";
import { compareExperiments } from "../../src/store/compare.js";
import { Ledger } from "../../src/store/ledger.js";
import { openStore } from "../../src/store/open.js";
import { type ScoreRows, scoreRows } from "../../src/store/paired.js";
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
    [...m].map(([name, r]) => [name, { values: [...r.values].sort(), diffs: [...r.diffs].sort() }]),
  );

describe("per-row means (RowMeans, the experiment index)", () => {
  // A re-run of the same rows in the same order is matched by position, without grouping by key; the same rows
  // shuffled, or with a key repeated, are grouped and matched by key. All three must agree with SQLite.
  it.each(["same order", "shuffled", "a key repeated"])(
    "agree with SQL on a re-run of the same keys: %s",
    (kind) => {
      const rand = random(7);
      const store = openStore(false);
      const base = newExperiment(store.db, "base");
      const next = newExperiment(store.db, "next");
      const baseRows = rows(rand, 50, 0, 1);
      let nextRows = rows(rand, 50, 0, 1);
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
      const { comparison, rows: perRow } = after.against(stored);
      expect(comparison).toEqual(compareExperiments(store.db, next.seq, base.seq));
      expect(sorted(perRow)).toEqual(sorted(scoreRows(store.db, next.seq, base.seq)));
      expect(after.size).toBe(50);
      store.db.close();
    },
  );

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
    expect(indexedMeans(store.db, base.seq)?.size).toBe(60);
    expect(indexedBlobs(store.db, base.seq)).toEqual([]);
    // An index of another shape (written by another build) or unreadable is ignored: the rows answer instead.
    const setIndex = store.db.prepare("UPDATE row_index SET means = ?, blobs = ? WHERE exp = ?");
    for (const [means, blobs] of [
      ['{"keys":"h:1","scores":{}}', '"packed"'],
      ['{"keys":["h:1"],"scores":{"s":[1,2]}}', "[1]"],
      ["{not json", "{not json"],
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
