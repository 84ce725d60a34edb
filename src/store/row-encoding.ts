import type { RowResult } from "../engine/types.js";
import { blobFields, blobText, eventText, metricColumn } from "./events.js";

/**
 * Results ready to insert, as one flat array of primitives a batch: what the multi-row INSERT statements take.
 */
export interface EncodedRows {
  count: number;
  /**
   * VALUES_PER_ROW values a row, in the results table's column order: id, row_key, row_index, trial_index, errored,
   * scores, start, end, duration, event, and the blob refs of input, output and expected.
   */
  values: Array<string | number | null>;
  /** [digest, json] pairs of the blobs these rows reference that were not handed over before. */
  blobs: string[];
  /** Each row's scores (for the ledger, which would otherwise parse them back). */
  scores: Array<RowResult["scores"]>;
}

export const VALUES_PER_ROW = 13;
/** Where a row's key is among its values. */
export const KEY_AT = 1;
/** Where a row's three blob refs (input, output, expected) start among its values. */
export const REFS_AT = 10;

const isErrored = (row: RowResult) => (row.error !== undefined || row.score_errors !== undefined ? 1 : 0);

/**
 * The digests of blobs already handed to a store, so each large value is serialised and sent once. Bounded: past
 * its cap it starts afresh, which costs a re-send (the insert ignores a blob it has), never a lost blob.
 */
export class SentBlobs {
  private seen = new Set<string>();

  constructor(private readonly cap = 200_000) {}

  has(digest: string): boolean {
    return this.seen.has(digest);
  }

  add(digest: string): void {
    if (this.seen.size >= this.cap) this.seen = new Set();
    this.seen.add(digest);
  }

  clear(): void {
    this.seen = new Set();
  }
}

export function emptyBatch(): EncodedRows {
  return { count: 0, values: [], blobs: [], scores: [] };
}

/** Appends one result to `batch`, with the blobs of its large values that this thread has not handed over yet. */
export function encodeRow(row: RowResult, sent: SentBlobs, batch: EncodedRows): void {
  const fields = blobFields(row);
  let previous: string | undefined;
  let ref0: string | null = null;
  let ref1: string | null = null;
  let ref2: string | null = null;
  for (const f of fields) {
    if (f.field === 0) ref0 = f.digest;
    else if (f.field === 1) ref1 = f.digest;
    else ref2 = f.digest;
    // An output equal to its input shares its digest: one lookup is enough.
    if (f.digest === previous) continue;
    previous = f.digest;
    if (sent.has(f.digest)) continue;
    sent.add(f.digest);
    batch.blobs.push(f.digest, blobText(f));
  }
  const metrics = row.metrics;
  batch.values.push(
    row.id,
    row.row_key,
    row.row_index,
    row.trial_index,
    isErrored(row),
    JSON.stringify(row.scores),
    metricColumn(metrics, "start"),
    metricColumn(metrics, "end"),
    metricColumn(metrics, "duration"),
    eventText(row, fields),
    ref0,
    ref1,
    ref2,
  );
  batch.scores.push(row.scores);
  batch.count++;
}

export function encodeRows(rows: readonly RowResult[], sent: SentBlobs): EncodedRows {
  const batch = emptyBatch();
  for (const row of rows) encodeRow(row, sent, batch);
  return batch;
}
