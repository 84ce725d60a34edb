import type Database from "better-sqlite3";
import { PackedDigests } from "./row-encoding.js";
import { RowMeans, type RowMeansJson } from "./row-means.js";

/** Experiments with more row keys than this get no index: its JSON would cost more memory than it saves time. */
export const INDEX_LIMIT = 300_000;

function indexText(db: Database.Database, seq: number, column: "means" | "blobs"): string | undefined {
  const text: unknown = db.prepare(`SELECT ${column} FROM row_index WHERE exp = ?`).pluck().get(seq);
  return typeof text === "string" ? text : undefined;
}

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * One column of an experiment's index, parsed, when it has the expected shape. The index only saves work (what
 * it holds can be read from the results): one that cannot be read, or that a build of another shape wrote, is
 * ignored, never trusted.
 */
function indexed<T>(text: string | undefined, valid: (v: unknown) => v is T): T | undefined {
  if (text === undefined) return undefined;
  const value = parsed(text);
  return valid(value) ? value : undefined;
}

/** Digests packed end to end (see PackedDigests): a JSON value never starts with a hex digit but a number. */
const isPacked = (text: string) => text.length % 40 === 0 && text.length > 0 && /^[0-9a-f]{40}/.test(text);

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((d) => typeof d === "string");

const isSeq = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0;

/**
 * A re-run of the same data has the same row keys, in the same order, and references the same blobs as its
 * baseline: its index then names the experiment whose index holds those lists (`keysOf`, `same`) instead of
 * copying them, which saved writing ~6 MB for 100,000 rows. The named index always holds the list itself. When
 * that experiment is removed, the indexes naming it are unreadable, hence ignored (the rows answer instead).
 */
type MeansJson = RowMeansJson | { keysOf: number; scores: RowMeansJson["scores"] };
type BlobsJson = string[] | { same: number };

/** Score columns, each an array of `length` values (of one common length, when not given). */
const hasScores = (v: unknown, length?: number): boolean => {
  const scores = (v as { scores?: unknown }).scores;
  if (typeof scores !== "object" || scores === null) return false;
  const columns = Object.values(scores);
  const n = length ?? (columns[0] as unknown[] | undefined)?.length;
  return columns.every((column) => Array.isArray(column) && column.length === n);
};

const isMeans = (v: unknown): v is MeansJson => {
  if (typeof v !== "object" || v === null) return false;
  const m = v as { keys?: unknown; keysOf?: unknown };
  return isStrings(m.keys) ? hasScores(v, m.keys.length) : isSeq(m.keysOf) && hasScores(v);
};

const isFullMeans = (v: unknown): v is RowMeansJson => {
  const keys = (v as { keys?: unknown } | null)?.keys;
  return isStrings(keys) && hasScores(v, keys.length);
};

const isBlobs = (v: unknown): v is BlobsJson => isStrings(v) || isSeq((v as { same?: unknown } | null)?.same);

/** Per-row means read from an index, and the experiment whose index holds their key list. */
export interface IndexedMeans {
  means: RowMeans;
  keysRoot: number;
}

/** A baseline's per-row means from its index, or undefined when it has none (or none it can read). */
export function indexedMeans(db: Database.Database, seq: number): IndexedMeans | undefined {
  const json = indexed(indexText(db, seq, "means"), isMeans);
  if (json === undefined) return undefined;
  if ("keys" in json) return { means: RowMeans.fromJSON(json), keysRoot: seq };
  const root = indexed(indexText(db, json.keysOf, "means"), isFullMeans);
  if (!root || !Object.values(json.scores).every((column) => column.length === root.keys.length))
    return undefined;
  return { means: RowMeans.fromJSON({ keys: root.keys, scores: json.scores }), keysRoot: json.keysOf };
}

/** The blob digests an experiment's results reference, and the experiment whose index holds that list. */
export interface IndexedBlobs {
  digests: PackedDigests | string[];
  root: number;
}

/**
 * An index's blobs column: the digests packed, a JSON array of them (written before they were packed), or the
 * experiment whose index holds the same list.
 */
function blobsColumn(text: string | undefined): PackedDigests | BlobsJson | undefined {
  return text !== undefined && isPacked(text) ? new PackedDigests(text) : indexed(text, isBlobs);
}

/** The blob digests an experiment's results reference, from its index, or undefined when it has none. */
export function indexedBlobs(db: Database.Database, seq: number): IndexedBlobs | undefined {
  const own = blobsColumn(indexText(db, seq, "blobs"));
  if (own === undefined) return undefined;
  if (own instanceof PackedDigests || Array.isArray(own)) return { digests: own, root: seq };
  // The named index always holds the list itself.
  const root = blobsColumn(indexText(db, own.same, "blobs"));
  return root instanceof PackedDigests || Array.isArray(root) ? { digests: root, root: own.same } : undefined;
}

/**
 * Writes an experiment's index: its means, with the key list itself or, when `keysOf` is given, the experiment
 * whose index holds the same list; and its blob digests, or the experiment whose index holds the same ones.
 */
export function writeIndex(
  db: Database.Database,
  seq: number,
  means: RowMeans,
  blobs: readonly string[] | { same: number },
  keysOf?: number,
): void {
  const json = means.toJSON();
  const packed = Array.isArray(blobs) && blobs.length > 0 ? PackedDigests.of(blobs) : undefined;
  db.prepare("INSERT OR REPLACE INTO row_index (exp, means, blobs) VALUES (?, ?, ?)").run(
    seq,
    JSON.stringify(keysOf === undefined ? json : { keysOf, scores: json.scores }),
    packed ? packed.text : JSON.stringify(blobs),
  );
}

/**
 * Deletes an experiment's index (the experiment is being removed, or resumed, which changes its rows). Indexes
 * that name its lists (see writeIndex) are given them first: the oldest gets the lists themselves, the others then
 * name it. Without this, removing an experiment would leave its re-runs without an index.
 */
export function dropIndex(db: Database.Database, seq: number): void {
  const own = db.prepare("SELECT means, blobs FROM row_index WHERE exp = ?").get(seq) as
    | { means: string; blobs: string }
    | undefined;
  if (!own) return;
  // Only the indexes naming this one, as writeIndex writes the name (`{"keysOf":7,` and `{"same":7}`): parsing
  // every index that names any other, once per experiment removed, made pruning thousands quadratic.
  const naming = db
    .prepare(
      `SELECT exp, means, blobs FROM row_index
       WHERE exp <> @seq AND (substr(means, 1, length(@keysOf)) = @keysOf OR blobs = @same) ORDER BY exp`,
    )
    .all({ seq, keysOf: `{"keysOf":${seq},`, same: `{"same":${seq}}` }) as Array<{
    exp: number;
    means: string;
    blobs: string;
  }>;
  const update = db.prepare("UPDATE row_index SET means = ?, blobs = ? WHERE exp = ?");
  const ownKeys = (parsed(own.means) as { keys?: unknown } | undefined)?.keys;
  let keysHeir: number | undefined;
  let blobsHeir: number | undefined;
  for (const row of naming) {
    let { means, blobs } = row;
    const m = parsed(means) as { keysOf?: unknown; scores?: unknown } | undefined;
    if (m?.keysOf === seq && isStrings(ownKeys)) {
      means = JSON.stringify(
        keysHeir === undefined ? { keys: ownKeys, scores: m.scores } : { keysOf: keysHeir, scores: m.scores },
      );
      keysHeir ??= row.exp;
    }
    if ((parsed(blobs) as { same?: unknown } | undefined)?.same === seq) {
      blobs = blobsHeir === undefined ? own.blobs : JSON.stringify({ same: blobsHeir });
      blobsHeir ??= row.exp;
    }
    if (means !== row.means || blobs !== row.blobs) update.run(means, blobs, row.exp);
  }
  db.prepare("DELETE FROM row_index WHERE exp = ?").run(seq);
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
    // Mostly empty dense columns (per-category score names): comparisons come from SQL, as past INDEX_LIMIT.
    if (means.oversized) return undefined;
    for (const ref of refs) if (ref !== null) blobs.add(ref);
  }
  return { means, blobs };
}

/**
 * A baseline's per-row means: from its index when it has one, else from its rows (undefined past INDEX_LIMIT);
 * `keysRoot` only from an index.
 */
export function baselineMeans(
  db: Database.Database,
  seq: number,
): { means: RowMeans; keysRoot?: number } | undefined {
  const fromIndex = indexedMeans(db, seq);
  if (fromIndex) return fromIndex;
  const fromRows = readRows(db, seq, false)?.means;
  return fromRows && { means: fromRows };
}
