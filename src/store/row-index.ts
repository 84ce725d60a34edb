import type Database from "better-sqlite3";
import { RowMeans, type RowMeansJson } from "./row-means.js";

/** Experiments with more row keys than this get no index: its JSON would cost more memory than it saves time. */
export const INDEX_LIMIT = 300_000;

/**
 * One column of an experiment's index, parsed, when it has the expected shape. The index only saves work (what
 * it holds can be read from the results): one that cannot be read, or that a build of another shape wrote, is
 * ignored, never trusted.
 */
function indexed<T>(
  db: Database.Database,
  seq: number,
  column: "means" | "blobs",
  valid: (v: unknown) => v is T,
) {
  const text = db.prepare(`SELECT ${column} FROM row_index WHERE exp = ?`).pluck().get(seq) as
    | string
    | undefined;
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return valid(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((d) => typeof d === "string");

const isMeans = (v: unknown): v is RowMeansJson => {
  const m = v as RowMeansJson | null;
  return (
    typeof m === "object" &&
    m !== null &&
    isStrings(m.keys) &&
    typeof m.scores === "object" &&
    m.scores !== null &&
    Object.values(m.scores).every((column) => Array.isArray(column) && column.length === m.keys.length)
  );
};

/** A baseline's per-row means from its index, or undefined when it has none (or none it can read). */
export function indexedMeans(db: Database.Database, seq: number): RowMeans | undefined {
  const json = indexed(db, seq, "means", isMeans);
  return json === undefined ? undefined : RowMeans.fromJSON(json);
}

/** The blob digests an experiment's results reference, from its index, or undefined when it has none. */
export function indexedBlobs(db: Database.Database, seq: number): string[] | undefined {
  return indexed(db, seq, "blobs", isStrings);
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
