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

// Per (row, score) of one experiment: the mean over trials of the non-null values. Rows match on row_key.
export const PER_ROW = `SELECT row_key, je.key AS name, avg(je.value) AS v, count(*) AS n
  FROM results, json_each(results.scores) AS je
  WHERE exp = ? AND je.type IN ('integer', 'real')
  GROUP BY row_key, je.key`;

const EPSILON = 1e-9;

/**
 * Per (row key, score) of both experiments at once: each one's mean over trials of the numeric values (va: the
 * newer, vb: the baseline; NULL when it has none), and whether each has a result of that key at all (a result
 * with no score is one row of name NULL). One sort of both experiments' results, where a query per experiment
 * joined afterwards sorted each and then joined: 1M-row experiments compared in 3.3 s instead of 5.4.
 */
export const BOTH = `SELECT row_key, je.key AS name, max(exp = @newer) AS n, max(exp = @baseline) AS b,
    avg(CASE WHEN exp = @newer AND je.type IN ('integer', 'real') THEN je.value END) AS va,
    count(CASE WHEN exp = @newer AND je.type IN ('integer', 'real') THEN 1 END) AS na,
    avg(CASE WHEN exp = @baseline AND je.type IN ('integer', 'real') THEN je.value END) AS vb
  FROM results LEFT JOIN json_each(results.scores) AS je
  WHERE exp IN (@newer, @baseline)
  GROUP BY row_key, je.key`;

/**
 * Row-level movement between two experiments: a matched row improved when its trial-averaged score rose, regressed
 * when it fell. Computed in SQLite, so a million-row experiment never has to be held in memory.
 */
export function compareExperiments(db: Database.Database, newer: number, baseline: number): Comparison {
  // The movement of each score, and (the row of name NULL) which side each row key is on, from one grouping.
  const rows = db
    .prepare(
      `WITH g AS MATERIALIZED (${BOTH})
       SELECT name, count(*) AS matched, sum(va > vb + ${EPSILON}) AS improvements,
              sum(va < vb - ${EPSILON}) AS regressions, NULL AS onlyNew, NULL AS onlyBase
       FROM g WHERE va IS NOT NULL AND vb IS NOT NULL GROUP BY name
       UNION ALL
       SELECT NULL, coalesce(sum(n AND b), 0), NULL, NULL, coalesce(sum(n AND NOT b), 0), coalesce(sum(b AND NOT n), 0)
       FROM (SELECT max(n) AS n, max(b) AS b FROM g GROUP BY row_key)`,
    )
    .all({ newer, baseline }) as Array<
    { name: string | null; onlyNew: number | null; onlyBase: number | null } & ScoreMovement
  >;
  const scores: Record<string, ScoreMovement> = {};
  const comparison: Comparison = { scores, matchedRows: 0, onlyNew: 0, onlyBase: 0 };
  for (const m of rows) {
    if (m.name === null) {
      comparison.matchedRows = m.matched;
      comparison.onlyNew = m.onlyNew ?? 0;
      comparison.onlyBase = m.onlyBase ?? 0;
    } else scores[m.name] = { matched: m.matched, improvements: m.improvements, regressions: m.regressions };
  }
  return comparison;
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
      `SELECT row_key AS rowKey, name AS score, vb AS before, va AS after FROM (${BOTH})
       WHERE va < vb - ${EPSILON} ORDER BY va - vb ASC, row_key LIMIT @limit`,
    )
    .all({ newer, baseline, limit }) as RowDelta[];
}

/** Which of a row key's results to show (a key holds a row's trials, and every row sharing the key). */
export type ResultChoice =
  | { kind: "first" }
  /** The lowest by `score`, or by the mean of its scores; errored results last. */
  | { kind: "lowest"; score?: string | undefined }
  /** The result at this place in the data (the baseline's side of a result shown), else the first. */
  | { kind: "at"; rowIndex: number; trial: number };

/** A result's value under a choice: lower is preferred; NaN when it has none. */
function lowness(scores: string, score: string | undefined): number {
  const values = JSON.parse(scores) as Record<string, unknown>;
  if (score !== undefined) {
    const v = values[score];
    return typeof v === "number" ? v : Number.NaN;
  }
  let sum = 0;
  let n = 0;
  for (const v of Object.values(values)) {
    if (typeof v === "number") {
      sum += v;
      n++;
    }
  }
  return n > 0 ? sum / n : Number.NaN;
}

/**
 * One stored result of each of some row keys of an experiment, for showing inputs and outputs, as `choices` say:
 * of rows sharing a key or of a row's trials, the first may be a good one where a low or regressed row is shown,
 * and a regressed row's baseline side must be the same row as its newer side. One pass over the experiment's
 * narrow columns for all of them (row keys have no index: a query per row cost a scan per row, 200 rows of a
 * 300,000-row experiment: 22 s), then the chosen results whole.
 */
export function chosenResultsOf(
  db: Database.Database,
  seq: number,
  choices: ReadonlyMap<string, ResultChoice>,
): Map<string, RowResult> {
  const found = new Map<string, RowResult>();
  if (choices.size === 0) return found;
  const candidates = db
    .prepare(
      `SELECT rowid, row_key, row_index, trial_index, scores FROM results
       WHERE exp = ? AND row_key IN (SELECT value FROM json_each(?)) ORDER BY row_key, trial_index, rowid`,
    )
    .iterate(seq, JSON.stringify([...choices.keys()])) as Iterable<{
    rowid: number;
    row_key: string;
    row_index: number;
    trial_index: number;
    scores: string;
  }>;
  const chosen = new Map<string, { rowid: number; rank: number }>();
  for (const c of candidates) {
    const choice = choices.get(c.row_key);
    if (!choice) continue;
    // Lower rank wins; the first candidate of equal rank (trial 0 first) is kept.
    let rank = 0;
    if (choice.kind === "lowest") {
      const value = lowness(c.scores, choice.score);
      rank = Number.isNaN(value) ? Number.POSITIVE_INFINITY : value;
    } else if (choice.kind === "at") {
      rank = c.row_index === choice.rowIndex && c.trial_index === choice.trial ? 0 : 1;
    }
    const best = chosen.get(c.row_key);
    if (!best || rank < best.rank) chosen.set(c.row_key, { rowid: c.rowid, rank });
  }
  const records = db
    .prepare(
      `SELECT ${EVENT_COLUMNS} FROM results e ${EVENT_JOINS} WHERE e.rowid IN (SELECT value FROM json_each(?))`,
    )
    .all(JSON.stringify([...chosen.values()].map((c) => c.rowid))) as EventRecord[];
  for (const record of records) found.set(record.row_key, decodeEvent(record));
  return found;
}

/** The first result (trial 0 first), or the lowest-scoring one, of each of some row keys (see chosenResultsOf). */
export function firstResultsOf(
  db: Database.Database,
  seq: number,
  rowKeys: readonly string[],
  pick: "first" | "lowest" = "first",
): Map<string, RowResult> {
  const choice: ResultChoice = { kind: pick };
  return chosenResultsOf(db, seq, new Map(rowKeys.map((key) => [key, choice])));
}

/** For each result shown from the newer experiment, the baseline's result of the same row (see ResultChoice). */
export function sameRowsIn(
  db: Database.Database,
  baselineSeq: number,
  shown: ReadonlyMap<string, RowResult>,
): Map<string, RowResult> {
  const choices = new Map<string, ResultChoice>();
  for (const [key, row] of shown)
    choices.set(key, { kind: "at", rowIndex: row.row_index, trial: row.trial_index });
  return chosenResultsOf(db, baselineSeq, choices);
}
