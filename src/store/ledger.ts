import type Database from "better-sqlite3";
import { type Comparison, compareExperiments } from "./compare.js";
import type { ScoreRows } from "./paired.js";
import { SentBlobs } from "./row-encoding.js";
import { baselineMeans, INDEX_LIMIT, readRows, writeIndex } from "./row-index.js";
import type { RowMeans } from "./row-means.js";

/** What an experiment's writer reports when the eval ends. */
export interface SinkOutcome {
  /** How its rows moved against the baseline's; null without a baseline. */
  comparison: Comparison | null;
  /**
   * Per score, row means and paired differences for the gates' intervals, grouped when asked (past 50,000 results
   * only the regression gate asks); undefined when not kept (too big).
   */
  rows: (() => Map<string, ScoreRows>) | undefined;
}

/**
 * What an experiment's writer knows of its rows: their per-row means and (from the writer's SentBlobs) their blob
 * digests, for its comparison with the baseline and for the index a later run reads when it uses this experiment
 * as its baseline. Rows the experiment already holds (--resume, --retry-errors) are read first.
 * Past INDEX_LIMIT rows it lets go, so memory stays flat: no index then, and the comparison is one SQL query.
 */
export class Ledger {
  private current: RowMeans | undefined;
  private base: RowMeans | undefined;
  /** The experiment whose index holds the baseline's key list (see writeIndex). */
  private keysRoot: number | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly seq: number,
    private readonly baselineSeq: number | null,
    private readonly blobs = new SentBlobs(),
    /** The experiment whose index holds the list of blobs `blobs` started with. */
    private readonly blobsRoot?: number,
  ) {
    const stored = readRows(db, seq);
    this.current = stored?.means;
    if (stored) blobs.alsoReferenced(stored.blobs);
  }

  private loadBaseline(): void {
    if (this.baselineSeq === null) return;
    const found = baselineMeans(this.db, this.baselineSeq);
    this.base = found?.means;
    this.keysRoot = found?.keysRoot;
  }

  /** One written result: its row key and scores. */
  add(key: string, scores: Record<string, number | null>): void {
    if (!this.current) return;
    this.current.add(key, scores);
    if (this.current.size > INDEX_LIMIT || this.current.oversized) this.current = undefined;
  }

  /** Writes the experiment's index; returns its comparison with the baseline and its per-row values. */
  finish(): SinkOutcome {
    this.loadBaseline();
    // Against the baseline first: a re-run of its rows in its order needs no grouping by key.
    this.current?.settle(this.base);
    // The baseline's lists, unchanged, are named rather than copied.
    const sameBlobs = this.blobsRoot !== undefined && this.blobs.allKnown();
    const blobs = sameBlobs ? { same: this.blobsRoot as number } : this.blobs.references();
    if (this.current && blobs) {
      const sameKeys = this.base && this.keysRoot !== undefined && this.current.sameKeys(this.base);
      writeIndex(this.db, this.seq, this.current, blobs, sameKeys ? this.keysRoot : undefined);
    }
    const current = this.current;
    if (this.baselineSeq === null)
      return { comparison: null, rows: current && (() => current.scoreRows(undefined)) };
    const base = this.base;
    if (current && base) {
      const matches = current.matchesIn(base);
      return {
        comparison: current.compareWith(base, matches),
        rows: () => current.scoreRows(base, matches),
      };
    }
    return { comparison: compareExperiments(this.db, this.seq, this.baselineSeq), rows: undefined };
  }
}
