import type Database from "better-sqlite3";
import type { ResultSink, RowResult } from "../engine/types.js";
import { Ledger, type SinkOutcome } from "./ledger.js";
import { KEY_AT, SentBlobs, VALUES_PER_ROW } from "./row-encoding.js";
import { indexedBlobs } from "./row-index.js";
import { RowWriter } from "./rows.js";
import { WriteThread } from "./write-thread.js";

/** A result sink that, when the eval ends, also says how its rows compare with the baseline's. */
export interface EvalSink extends ResultSink {
  finish(): Promise<SinkOutcome>;
  /** How many results the eval will write, when its data says (an array): a hint for how to write them. */
  expect?(results: number): void;
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
    // A re-run of the baseline's data references the same blobs: knowing them, rows need not send them again.
    const known = baselineSeq === null ? undefined : indexedBlobs(db, baselineSeq);
    const sent = new SentBlobs(known?.digests);
    this.ledger = new Ledger(db, seq, baselineSeq, sent, known?.root);
    this.writer = new RowWriter(
      db,
      seq,
      (batch) => {
        const { values, scores } = batch;
        for (let i = 0; i < batch.count; i++) {
          this.ledger.add(values[i * VALUES_PER_ROW + KEY_AT] as string, scores[i] as RowResult["scores"]);
        }
      },
      sent,
      true,
      () => WriteThread.for(db.name)?.lane(seq),
    );
  }

  write(row: RowResult): void {
    this.writer.write(row);
  }

  expect(results: number): void {
    this.writer.expect(results);
  }

  close(): void {
    this.writer.close();
  }

  async finish(): Promise<SinkOutcome> {
    this.writer.close();
    return this.ledger.finish();
  }
}
