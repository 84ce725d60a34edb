import type Database from "better-sqlite3";
import type { ResultSink, RowResult } from "../engine/types.js";
import { Ledger, type SinkOutcome } from "./ledger.js";
import { REFS_AT, VALUES_PER_ROW } from "./row-encoding.js";
import { indexedBlobs } from "./row-index.js";
import { blobsSentTo, RowWriter } from "./rows.js";

/** A result sink that, when the eval ends, also says how its rows compare with the baseline's. */
export interface EvalSink extends ResultSink {
  finish(): Promise<SinkOutcome>;
}

/** For --no-store without a baseline: nothing is kept. */
export const DISCARD: EvalSink = {
  write() {},
  close() {},
  finish: async () => ({ comparison: null, rows: undefined }),
};

/**
 * Writes an experiment's results and keeps its ledger (per-row means, blob digests) as they are written, so that
 * the end of the eval compares with the baseline and writes the experiment's index without reading rows back.
 */
export class StoreSink implements EvalSink {
  private readonly writer: RowWriter;
  private readonly ledger: Ledger;

  constructor(db: Database.Database, seq: number, baselineSeq: number | null) {
    this.ledger = new Ledger(db, seq, baselineSeq);
    // A re-run of the baseline's data references the same blobs: knowing them, rows need not send them again.
    if (baselineSeq !== null) {
      const sent = blobsSentTo(db);
      for (const digest of indexedBlobs(db, baselineSeq) ?? []) sent.add(digest);
    }
    this.writer = new RowWriter(db, seq, (rows, batch) => {
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as RowResult;
        this.ledger.add(row.row_key, row.scores, batch.values, i * VALUES_PER_ROW + REFS_AT);
      }
    });
  }

  write(row: RowResult): void {
    this.writer.write(row);
  }

  close(): void {
    this.writer.close();
  }

  async finish(): Promise<SinkOutcome> {
    this.writer.close();
    return this.ledger.finish();
  }
}
