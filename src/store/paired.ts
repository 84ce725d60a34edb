import type Database from "better-sqlite3";
import type { WorstRow } from "../gate/types.js";
import { stable } from "../summary/stable.js";
import { BOTH, chosenResultsOf, PER_ROW, sameRowsIn } from "./compare.js";

/** One score's per-row values. */
export interface ScoreRows {
  /** This run's trial-averaged value of each row it scored. */
  values: ArrayLike<number>;
  /** This run's minus the baseline's, for each row both scored. */
  diffs: ArrayLike<number>;
  /** How many results each value averages (its trials scored), beside `values`; absent when each is one. */
  weights?: ArrayLike<number> | undefined;
}

export function resultCount(db: Database.Database, seq: number): number {
  return db.prepare("SELECT count(*) FROM results WHERE exp = ?").pluck().get(seq) as number;
}

/**
 * Per score, every row's trial-averaged value in one experiment and, with a baseline, its paired difference,
 * grouped in SQLite (memory stays flat; ~0.1 s per 10,000 results). Row means are rounded to 12 significant
 * digits: trials summed in another order must not make equal rows differ.
 */
export function scoreRows(
  db: Database.Database,
  seq: number,
  baselineSeq: number | null,
): Map<string, ScoreRows> {
  const rows =
    baselineSeq === null
      ? db.prepare(`WITH a AS (${PER_ROW}) SELECT name, v AS after, n, NULL AS before FROM a`).iterate(seq)
      : db
          .prepare(`SELECT name, va AS after, na AS n, vb AS before FROM (${BOTH}) WHERE va IS NOT NULL`)
          .iterate({ newer: seq, baseline: baselineSeq });
  const byScore = new Map<string, { values: number[]; diffs: number[]; weights: number[] }>();
  for (const r of rows as Iterable<{
    name: string;
    after: number;
    n: number;
    before: number | null;
  }>) {
    let entry = byScore.get(r.name);
    if (!entry) {
      entry = { values: [], diffs: [], weights: [] };
      byScore.set(r.name, entry);
    }
    const after = stable(r.after);
    entry.values.push(after);
    entry.weights.push(r.n);
    if (r.before !== null) entry.diffs.push(stable(after - stable(r.before)));
  }
  return byScore;
}

/** The matched rows whose `score` fell the most (trials averaged), worst first, with both sides' values. */
export function worstRows(
  db: Database.Database,
  seq: number,
  baselineSeq: number,
  score: string,
  limit: number,
): WorstRow[] {
  const rows = db
    .prepare(
      `SELECT row_key AS rowKey, vb AS before, va AS after FROM (${BOTH})
       WHERE name = @score AND va < vb - 1e-9 ORDER BY va - vb ASC, row_key LIMIT @limit`,
    )
    .all({ newer: seq, baseline: baselineSeq, score, limit }) as Array<{
    rowKey: string;
    before: number;
    after: number;
  }>;
  const keys = rows.map((r) => r.rowKey);
  // Each row's lowest result by this score, and the baseline's result of that same row.
  const nows = chosenResultsOf(db, seq, new Map(keys.map((key) => [key, { kind: "lowest", score }])));
  const thens = sameRowsIn(db, baselineSeq, nows);
  return rows.map((r) => {
    const now = nows.get(r.rowKey);
    const then = thens.get(r.rowKey);
    return {
      rowKey: r.rowKey,
      before: stable(r.before),
      after: stable(r.after),
      input: now?.input ?? then?.input,
      expected: now?.expected ?? then?.expected,
      outputBefore: then?.error ? undefined : then?.output,
      outputAfter: now?.error ? undefined : now?.output,
      errorAfter: now?.error?.message,
    };
  });
}
