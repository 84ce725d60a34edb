import type Database from "better-sqlite3";
import type { ResultSink, RowResult } from "../engine/types.js";
import { type Comparison, compareExperiments } from "./compare.js";
import { ComparisonTracker } from "./comparison-tracker.js";
import { RowWriter } from "./rows.js";

/** A result sink that, when the eval ends, also says how its rows compare with the baseline's. */
export interface EvalSink extends ResultSink {
  finish(): Promise<Comparison | null>;
}

/** For --no-store without a baseline: nothing is kept. */
export const DISCARD: EvalSink = { write() {}, close() {}, finish: async () => null };

/** Past this many baseline results the comparison is left to one query at the end, so memory stays flat. */
const TRACKED_BASELINE_LIMIT = 300_000;

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
 * Writes an experiment's results and keeps its comparison with the baseline as they arrive (one query at the end
 * would cost ~0.5 s per 100,000 rows). Results the experiment already held (--resume, --retry-errors) count too.
 */
export class StoreSink implements EvalSink {
  private readonly writer: RowWriter;
  private readonly tracker: ComparisonTracker | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly seq: number,
    private readonly baselineSeq: number | null,
  ) {
    this.writer = new RowWriter(db, seq);
    if (baselineSeq !== null) {
      const size = db.prepare("SELECT count(*) FROM rows WHERE exp = ?").pluck().get(baselineSeq) as number;
      if (size <= TRACKED_BASELINE_LIMIT) {
        this.tracker = new ComparisonTracker(scoresOf(db, baselineSeq));
        for (const { key, scores } of scoresOf(db, seq)) this.tracker.add(key, scores);
      }
    }
  }

  write(row: RowResult): void {
    this.writer.write(row);
    this.tracker?.add(row.row_key, row.scores);
  }

  close(): void {
    this.writer.close();
  }

  async finish(): Promise<Comparison | null> {
    this.writer.close();
    if (this.baselineSeq === null) return null;
    return this.tracker?.result() ?? compareExperiments(this.db, this.seq, this.baselineSeq);
  }
}
