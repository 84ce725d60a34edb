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
export const PER_ROW = `SELECT row_key, je.key AS name, avg(je.value) AS v, count(*) AS n
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
  // Which side each row key is on, in one pass over both experiments' keys (three set operations took three).
  const sides = db
    .prepare(
      `SELECT coalesce(sum(n AND b), 0) AS matched, coalesce(sum(n AND NOT b), 0) AS onlyNew,
              coalesce(sum(b AND NOT n), 0) AS onlyBase
       FROM (SELECT max(exp = ?) AS n, max(exp = ?) AS b FROM results WHERE exp IN (?, ?) GROUP BY row_key)`,
    )
    .get(newer, baseline, newer, baseline) as { matched: number; onlyNew: number; onlyBase: number };
  const scores: Record<string, ScoreMovement> = {};
  for (const m of movements) {
    scores[m.name] = { matched: m.matched, improvements: m.improvements, regressions: m.regressions };
  }
  return { scores, matchedRows: sides.matched, onlyNew: sides.onlyNew, onlyBase: sides.onlyBase };
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

/** A result's mean over its numeric scores, in SQL; NULL when it has none. */
const RESULT_MEAN = "(SELECT avg(value) FROM json_each(e.scores) WHERE type IN ('integer', 'real'))";

/**
 * One stored result of each of some rows of an experiment, for showing inputs and outputs: the first (trial 0
 * first), or with `lowest` the one whose scores are lowest (first among equals), for rows shown as low or
 * regressed: of rows sharing a key (a repeated id or input) or of a row's trials, the first may be a good one.
 * One pass over the experiment for all of them: row keys have no index (inserts stay appends), so a query per row
 * cost a scan per row (200 rows of a 300,000-row experiment: 22 s).
 */
export function firstResultsOf(
  db: Database.Database,
  seq: number,
  rowKeys: readonly string[],
  pick: "first" | "lowest" = "first",
): Map<string, RowResult> {
  const found = new Map<string, RowResult>();
  if (rowKeys.length === 0) return found;
  const records = db
    .prepare(
      `SELECT e.row_key AS wanted, ${EVENT_COLUMNS} FROM results e ${EVENT_JOINS}
       WHERE e.exp = ? AND e.row_key IN (SELECT value FROM json_each(?))
       ORDER BY e.row_key, ${pick === "lowest" ? `${RESULT_MEAN} ASC NULLS LAST, ` : ""}e.trial_index, e.rowid`,
    )
    .iterate(seq, JSON.stringify(rowKeys)) as Iterable<EventRecord & { wanted: string }>;
  for (const record of records) {
    if (!found.has(record.wanted)) found.set(record.wanted, decodeEvent(record));
  }
  return found;
}
