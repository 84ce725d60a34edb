import type Database from "better-sqlite3";
import { type Comparison, compareExperiments } from "./compare.js";
import { ComparisonTracker } from "./comparison-tracker.js";

/** Past this many baseline results the comparison is left to one query at the end, so memory stays flat. */
const TRACKED_BASELINE_LIMIT = 300_000;

/** Keeps an experiment's comparison with its baseline as its results are written. */
export interface Comparer {
  add(key: string, scores: Record<string, number | null>): void;
  result(): Comparison;
}

function* scoresOf(
  db: Database.Database,
  exp: number,
): Generator<{ key: string; scores: Record<string, number | null> }> {
  const query = db.prepare("SELECT row_key AS key, scores FROM rows WHERE exp = ?");
  for (const r of query.iterate(exp) as Iterable<{ key: string; scores: string }>) {
    yield { key: r.key, scores: JSON.parse(r.scores) as Record<string, number | null> };
  }
}

/**
 * Incremental when the baseline is small enough to hold (one query at the end would cost ~0.5 s per 100,000
 * rows), else one query when asked. Results the experiment already holds (--resume, --retry-errors) count too.
 */
export function startComparison(db: Database.Database, seq: number, baselineSeq: number): Comparer {
  const size = db.prepare("SELECT count(*) FROM rows WHERE exp = ?").pluck().get(baselineSeq) as number;
  if (size > TRACKED_BASELINE_LIMIT) {
    return { add() {}, result: () => compareExperiments(db, seq, baselineSeq) };
  }
  const tracker = new ComparisonTracker(scoresOf(db, baselineSeq));
  for (const { key, scores } of scoresOf(db, seq)) tracker.add(key, scores);
  return tracker;
}
