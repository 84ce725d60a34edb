import type Database from "better-sqlite3";
import type { RowResult } from "../engine/types.js";
import type { ScoreMovement } from "../summary/comparison.js";
import { decodeEvent, EVENT_COLUMNS, EVENT_JOINS, type EventRecord } from "./events.js";

export interface Comparison {
  scores: Record<string, ScoreMovement>;
  /** Row keys in both experiments, scored or not. */
  matchedRows: number;
  /** Row keys only in the newer experiment / only in the baseline. */
  onlyNew: number;
  onlyBase: number;
}

// Per (row, score): the mean over trials of the non-null values. Rows match on row_key.
export const PER_ROW = `SELECT row_key, je.key AS name, avg(je.value) AS v
  FROM results, json_each(results.scores) AS je
  WHERE exp = ? AND je.type IN ('integer', 'real')
  GROUP BY row_key, je.key`;

const EPSILON = 1e-9;

/**
 * Row-level movement between two experiments: a matched row improved when its trial-averaged score rose, regressed
 * when it fell. Computed in SQLite, so a million-row experiment never has to be held in memory.
 */
export function compareExperiments(db: Database.Database, newer: number, baseline: number): Comparison {
  const movements = db
    .prepare(
      `WITH a AS (${PER_ROW}), b AS (${PER_ROW})
       SELECT a.name AS name, count(*) AS matched,
              sum(a.v > b.v + ${EPSILON}) AS improvements, sum(a.v < b.v - ${EPSILON}) AS regressions
       FROM a JOIN b USING (row_key, name) GROUP BY a.name`,
    )
    .all(newer, baseline) as Array<{ name: string } & ScoreMovement>;
  const keys = `SELECT DISTINCT row_key FROM results WHERE exp = ?`;
  const only = db.prepare(`SELECT count(*) AS n FROM (${keys} EXCEPT ${keys})`).pluck();
  const both = db.prepare(`SELECT count(*) AS n FROM (${keys} INTERSECT ${keys})`).pluck();
  const scores: Record<string, ScoreMovement> = {};
  for (const m of movements) {
    scores[m.name] = { matched: m.matched, improvements: m.improvements, regressions: m.regressions };
  }
  return {
    scores,
    matchedRows: both.get(newer, baseline) as number,
    onlyNew: only.get(newer, baseline) as number,
    onlyBase: only.get(baseline, newer) as number,
  };
}

export interface RowDelta {
  rowKey: string;
  score: string;
  before: number;
  after: number;
}

/** The matched (row, score) pairs whose trial-averaged score fell the most, worst first. */
export function mostRegressed(
  db: Database.Database,
  newer: number,
  baseline: number,
  limit: number,
): RowDelta[] {
  return db
    .prepare(
      `WITH a AS (${PER_ROW}), b AS (${PER_ROW})
       SELECT a.row_key AS rowKey, a.name AS score, b.v AS before, a.v AS after
       FROM a JOIN b USING (row_key, name) WHERE a.v < b.v - ${EPSILON}
       ORDER BY a.v - b.v ASC, a.row_key LIMIT ?`,
    )
    .all(newer, baseline, limit) as RowDelta[];
}

/** The first stored result of a row (trial 0 first) in an experiment, for showing input/output side by side. */
export function firstResultOf(db: Database.Database, seq: number, rowKey: string): RowResult | undefined {
  const record = db
    .prepare(
      `SELECT ${EVENT_COLUMNS} FROM results e ${EVENT_JOINS}
       WHERE e.exp = ? AND e.row_key = ? ORDER BY e.trial_index, e.rowid LIMIT 1`,
    )
    .get(seq, rowKey) as EventRecord | undefined;
  return record ? decodeEvent(record) : undefined;
}
