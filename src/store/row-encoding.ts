import type { RowResult } from "../engine/types.js";
import { blobFields, blobText, engineEventText, eventText, metricColumn } from "./events.js";

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

const DIGEST = /^[0-9a-f]{40}$/;

/**
 * Blob digests in order (SHA-1 hex, 40 characters each) end to end in one string, as an experiment's index keeps
 * them: reading 100,000 of them then costs no JSON parse (~25 ms), and each is compared as a slice of the string.
 */
export class PackedDigests {
  constructor(readonly text: string) {}

  /** The digests packed, or undefined when one is not a SHA-1 hex digest. */
  static of(digests: readonly string[]): PackedDigests | undefined {
    return digests.every((d) => DIGEST.test(d)) ? new PackedDigests(digests.join("")) : undefined;
  }

  get length(): number {
    return Math.floor(this.text.length / 40);
  }

  at(i: number): string {
    return this.text.slice(40 * i, 40 * i + 40);
  }

  toArray(): string[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }
}

const isErrored = (row: RowResult) => (row.error !== undefined || row.score_errors !== undefined ? 1 : 0);

/**
 * A writer's blobs: which ones the store holds (the baseline's, and those this writer sent), so each large value
 * is serialised and sent once, and which ones its rows reference (the experiment's index lists them for the next
 * run). A re-run of the baseline's data meets the baseline's blobs in the baseline's order, so they are checked by
 * position, one string comparison each; the first blob out of order turns to sets.
 */
export class SentBlobs {
  private cursor = 0;
  private stored: Set<string> | undefined;
  private referenced: string[] | undefined;
  private seen: Set<string> | undefined;

  private readonly list: readonly string[];
  private readonly packed: PackedDigests | undefined;
  private readonly count: number;

  /** `known`: blobs the store holds, in the order a re-run would meet them; `cap` bounds memory. */
  constructor(
    known: readonly string[] | PackedDigests = [],
    private readonly cap = 200_000,
  ) {
    this.packed = known instanceof PackedDigests ? known : undefined;
    this.list = known instanceof PackedDigests ? [] : known;
    this.count = known.length;
  }

  /** Records that a row references `digest`; true when its blob must be sent (this is the first time). */
  mustSend(digest: string): boolean {
    if (this.stored === undefined) {
      const at = this.cursor;
      if (at < this.count && (this.packed ? this.packed.at(at) : this.list[at]) === digest) {
        this.cursor++;
        return false;
      }
      this.toSets();
    }
    const stored = this.stored as Set<string>;
    const fresh = !stored.has(digest);
    const seen = this.seen;
    // `seen` is `stored` itself while nothing was known (a first run): one set where two would hold the same.
    if (seen !== undefined && (seen === stored ? fresh : !seen.has(digest))) {
      if (seen !== stored) seen.add(digest);
      (this.referenced as string[]).push(digest);
      // Past the cap the list is given up: the experiment gets no index, whose blob list would be too big anyway.
      if (seen.size + (seen === stored ? 1 : 0) > this.cap) {
        this.seen = undefined;
        this.referenced = undefined;
      }
    }
    if (!fresh) return false;
    // Forgetting costs a re-send (the insert ignores a blob it has), never a lost blob.
    if (stored.size >= this.cap) this.stored = new Set();
    (this.stored as Set<string>).add(digest);
    return true;
  }

  /** Blobs rows stored before this writer began reference (a resumed experiment's). */
  alsoReferenced(digests: Iterable<string>): void {
    for (const digest of digests) this.mustSend(digest);
  }

  /** Whether the rows written reference exactly the known blobs, in their order (a re-run of the same data). */
  allKnown(): boolean {
    return this.stored === undefined && this.cursor === this.count && this.count > 0;
  }

  /** The blobs the rows written reference, first reference first; undefined past the cap. */
  references(): string[] | undefined {
    if (this.stored === undefined) return this.knownList().slice(0, this.cursor);
    return this.referenced;
  }

  private knownList(): readonly string[] {
    return this.packed ? this.packed.toArray() : this.list;
  }

  private toSets(): void {
    const known = this.knownList();
    this.stored = new Set(known);
    this.referenced = known.slice(0, this.cursor);
    this.seen = known.length === 0 ? this.stored : new Set(this.referenced);
  }
}

export function emptyBatch(): EncodedRows {
  return { count: 0, values: [], blobs: [], scores: [] };
}

/**
 * Appends one result to `batch`, with the blobs of its large values that the store does not hold yet (as far as
 * `sent` knows). `engine`: the row was made by the engine, so its fields are known (engineEventText).
 */
export function encodeRow(row: RowResult, sent: SentBlobs, batch: EncodedRows, engine = false): void {
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
    if (sent.mustSend(f.digest)) batch.blobs.push(f.digest, blobText(f));
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
    engine ? engineEventText(row, fields) : eventText(row, fields),
    ref0,
    ref1,
    ref2,
  );
  batch.scores.push(row.scores);
  batch.count++;
}

/** Batches as one, in order (a lane's uncommitted batches, taken back). */
export function joinBatches(batches: readonly EncodedRows[]): EncodedRows {
  const joined = emptyBatch();
  for (const b of batches) {
    joined.count += b.count;
    for (const v of b.values) joined.values.push(v);
    for (const v of b.blobs) joined.blobs.push(v);
    for (const v of b.scores) joined.scores.push(v);
  }
  return joined;
}

export function encodeRows(rows: readonly RowResult[], sent: SentBlobs, engine = false): EncodedRows {
  const batch = emptyBatch();
  for (const row of rows) encodeRow(row, sent, batch, engine);
  return batch;
}
