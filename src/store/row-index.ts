import type Database from "better-sqlite3";
import { RowMeans, type RowMeansJson } from "./row-means.js";

/** Experiments with more row keys than this get no index: its JSON would cost more memory than it saves time. */
export const INDEX_LIMIT = 300_000;

/** A baseline's per-row means from its index, or undefined when it has none. */
export function indexedMeans(db: Database.Database, seq: number): RowMeans | undefined {
  const text = db.prepare("SELECT means FROM row_index WHERE exp = ?").pluck().get(seq) as string | undefined;
  return text === undefined ? undefined : RowMeans.fromJSON(JSON.parse(text) as RowMeansJson);
}

/** The blob digests an experiment's events reference, from its index, or undefined when it has none. */
export function indexedBlobs(db: Database.Database, seq: number): string[] | undefined {
  const text = db.prepare("SELECT blobs FROM row_index WHERE exp = ?").pluck().get(seq) as string | undefined;
  return text === undefined ? undefined : (JSON.parse(text) as string[]);
}

export function writeIndex(
  db: Database.Database,
  seq: number,
  means: RowMeans,
  blobs: Iterable<string>,
): void {
  db.prepare("INSERT OR REPLACE INTO row_index (exp, means, blobs) VALUES (?, ?, ?)").run(
    seq,
    JSON.stringify(means),
    JSON.stringify([...blobs]),
  );
}

export interface StoredSoFar {
  means: RowMeans;
  blobs: Set<string>;
}

/**
 * An experiment's means and (unless `withBlobs` is false) blob digests, read from its rows; undefined past
 * INDEX_LIMIT rows. Without blobs only the narrow `rows` table is read.
 */
export function readRows(db: Database.Database, seq: number, withBlobs = true): StoredSoFar | undefined {
  const size = db.prepare("SELECT count(*) FROM results WHERE exp = ?").pluck().get(seq) as number;
  if (size > INDEX_LIMIT) return undefined;
  const means = new RowMeans();
  const blobs = new Set<string>();
  const query = db
    .prepare(
      withBlobs
        ? "SELECT row_key, scores, input_ref, output_ref, expected_ref FROM results WHERE exp = ?"
        : "SELECT row_key, scores FROM results WHERE exp = ?",
    )
    .raw();
  for (const [key, scores, ...refs] of query.iterate(seq) as Iterable<
    [string, string, ...Array<string | null>]
  >) {
    means.add(key, JSON.parse(scores) as Record<string, number | null>);
    for (const ref of refs) if (ref !== null) blobs.add(ref);
  }
  return { means, blobs };
}

/** A baseline's per-row means: from its index when it has one, else from its rows (undefined past INDEX_LIMIT). */
export function baselineMeans(db: Database.Database, seq: number): RowMeans | undefined {
  return indexedMeans(db, seq) ?? readRows(db, seq, false)?.means;
}
