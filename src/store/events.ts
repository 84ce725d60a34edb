import { hash } from "node:crypto";
import { configure } from "safe-stable-stringify";
import { stringDigest } from "../engine/row-key.js";
import { INPUT_DIGEST, type RowResult } from "../engine/types.js";

// JSON.stringify is fastest; this one takes what it throws on (BigInt, cycles) so that no row is ever lost.
const tolerant = configure({ bigint: true, circularValue: "[Circular]", deterministic: false });

function json(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return tolerant(value);
  }
}

/** Values whose JSON is at least this long are stored once, by content, instead of in each event. */
export const BLOB_MIN_CHARS = 256;

const BLOB_FIELDS = ["input", "output", "expected"] as const;

/** A result ready to insert: its event JSON (without the fields kept as blobs). */
export interface EncodedEvent {
  event: string;
  /** Blob digest of input, output and expected, or null when the field is inline. */
  refs: [string | null, string | null, string | null];
}

/** A result's fields that go to blobs: which field, its value and the digest naming it. */
export type BlobFields = Array<{
  field: 0 | 1 | 2;
  value: unknown;
  digest: string;
  text: string | undefined;
}>;

/**
 * Picks the fields of a result stored as blobs and names each by digest. Fields equal to an earlier one share its
 * digest (an output that repeats its input costs nothing); a string is hashed without serialising it, so whether
 * its blob is new can be asked before paying for its JSON.
 */
export function blobFields(row: RowResult): BlobFields {
  const fields: BlobFields = [];
  for (let i = 0; i < BLOB_FIELDS.length; i++) {
    const name = BLOB_FIELDS[i] as (typeof BLOB_FIELDS)[number];
    const value = row[name];
    if (value === undefined || value === null) continue;
    const same = fields.find((f) => f.value === value);
    if (same) {
      fields.push({ field: i as 0 | 1 | 2, value, digest: same.digest, text: same.text });
      continue;
    }
    if (typeof value === "string") {
      if (value.length < BLOB_MIN_CHARS - 2) continue;
      const digest =
        name === "input" && row[INPUT_DIGEST] !== undefined ? row[INPUT_DIGEST] : stringDigest(value);
      fields.push({ field: i as 0 | 1 | 2, value, digest, text: undefined });
    } else if (typeof value === "object") {
      const text = json(value);
      if (text === undefined || text.length < BLOB_MIN_CHARS) continue;
      fields.push({ field: i as 0 | 1 | 2, value, digest: hash("sha1", text, "hex"), text });
    }
  }
  return fields;
}

/** The JSON stored in a blob. */
export function blobText(f: BlobFields[number]): string {
  f.text ??= JSON.stringify(f.value);
  return f.text;
}

/** A result's event JSON, without the fields kept as blobs, and the blob digest of input, output and expected. */
export function encodeEvent(row: RowResult, fields: BlobFields): Pick<EncodedEvent, "event" | "refs"> {
  const refs: EncodedEvent["refs"] = [null, null, null];
  if (fields.length === 0) return { event: json(row) ?? "{}", refs };
  const copy: Record<string, unknown> = { ...row };
  for (const f of fields) {
    refs[f.field] = f.digest;
    copy[BLOB_FIELDS[f.field] as string] = undefined;
  }
  return { event: json(copy) ?? "{}", refs };
}

/** SQL selecting an event with its blobs, from `events e` (add FROM/JOIN/WHERE after it). */
export const EVENT_COLUMNS = `e.event AS event, bi.json AS input, bo.json AS output, be.json AS expected`;
export const EVENT_JOINS = `LEFT JOIN blobs bi ON bi.hash = e.input_ref
  LEFT JOIN blobs bo ON bo.hash = e.output_ref
  LEFT JOIN blobs be ON be.hash = e.expected_ref`;

export interface EventRecord {
  event: string;
  input: string | null;
  output: string | null;
  expected: string | null;
}

/** A stored result as one object, fields in one order (id, input, output, expected, then the rest). */
export function decodeEvent(record: EventRecord): RowResult {
  const parsed = JSON.parse(record.event) as Record<string, unknown>;
  const { id, input, output, expected, ...rest } = parsed;
  return {
    id,
    input: record.input !== null ? JSON.parse(record.input) : input,
    output: record.output !== null ? JSON.parse(record.output) : output,
    expected: record.expected !== null ? JSON.parse(record.expected) : expected,
    ...rest,
  } as RowResult;
}

/** The JSON of a stored result as export writes it (stable field order, blobs resolved). */
export function eventJson(record: EventRecord): string {
  if (record.input === null && record.output === null && record.expected === null) {
    // Nothing to splice in: re-serialising would only reorder keys that are already in order.
    const parsed = JSON.parse(record.event) as Record<string, unknown>;
    const { id, input, output, expected, ...rest } = parsed;
    return JSON.stringify({ id, input, output, expected, ...rest });
  }
  return JSON.stringify(decodeEvent(record));
}
