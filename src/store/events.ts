import { hash } from "node:crypto";
import { stringDigest } from "../engine/row-key.js";
import { INPUT_DIGEST, OUTPUT_LOSSY, type RowResult } from "../engine/types.js";
import { storableJson } from "../util/storable-json.js";

const json = storableJson;

/** Values whose JSON is at least this long are stored once, by content, instead of in each event. */
export const BLOB_MIN_CHARS = 256;

const BLOB_FIELDS = ["input", "output", "expected"] as const;

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
const NO_FIELDS: BlobFields = [];

/** A value that is never a blob: no JSON of it can reach BLOB_MIN_CHARS. */
const inline = (value: unknown) =>
  value === undefined ||
  value === null ||
  typeof value === "number" ||
  typeof value === "boolean" ||
  (typeof value === "string" && value.length < BLOB_MIN_CHARS - 2);

export function blobFields(row: RowResult): BlobFields {
  // Most rows of most evals: short strings and numbers, nothing to look at further (or to allocate).
  if (inline(row.input) && inline(row.output) && inline(row.expected)) return NO_FIELDS;
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

/**
 * Marks a blob holding a string as itself, not as JSON (schema 5): JSON.stringify of a 1 KB string takes ~5 us
 * here, more than the SHA-1 naming it (~2 us), and a first run of a large dataset paid it for every input. No JSON
 * text starts with "~". Strings with lone surrogates stay JSON, since SQLite's UTF-8 would not keep them.
 */
const RAW_STRING = "~";

/** The text stored in a blob: a string after RAW_STRING, any other value as JSON. */
export function blobText(f: BlobFields[number]): string {
  // Only a string comes here without its text: blobFields() serialised any other value to digest it.
  f.text ??=
    typeof f.value === "string" && f.value.isWellFormed() ? RAW_STRING + f.value : JSON.stringify(f.value);
  return f.text;
}

/** The value a blob holds (blobs written before schema 5 are all JSON). */
export function blobValue(text: string): unknown {
  return text.startsWith(RAW_STRING) ? text.slice(1) : JSON.parse(text);
}

/** A metric kept in its own REAL column: a finite number (JSON would write anything else as null, so it stays). */
export function metricColumn(
  metrics: RowResult["metrics"] | undefined,
  name: "start" | "end" | "duration",
): number | null {
  const value = typeof metrics === "object" && metrics !== null ? metrics[name] : undefined;
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** JSON of one field's value, or undefined when JSON leaves the field out (undefined, a function). */
function valueJson(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    default:
      return json(value);
  }
}

function isEmptyPlainObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const _ in value) return false;
  return true;
}

/** The metrics besides the three kept in columns, as JSON; undefined when there are none. */
function otherMetrics(metrics: unknown): string | undefined {
  if (typeof metrics !== "object" || metrics === null || Array.isArray(metrics)) return valueJson(metrics);
  let out = "";
  for (const key in metrics) {
    const value = (metrics as Record<string, unknown>)[key];
    if (
      (key === "start" || key === "end" || key === "duration") &&
      typeof value === "number" &&
      Number.isFinite(value)
    )
      continue;
    const text = valueJson(value);
    if (text !== undefined) out += `${out === "" ? "{" : ","}${JSON.stringify(key)}:${text}`;
  }
  return out === "" ? undefined : `${out}}`;
}

/**
 * The JSON of a result's fields that have no column of their own: input, output and expected unless kept as blobs,
 * metadata and tags unless empty, metrics other than start, end and duration, and whatever else the result holds
 * (error, score_errors, ...). Null when nothing is left, as for a large-valued row with no metadata. Written field by
 * field: JSON.stringify of a copy of the row cost more than the SQLite insert (~4 us a row).
 */
export function eventText(row: RowResult, fields: BlobFields): string | null {
  let blobbed = 0;
  for (const f of fields) blobbed |= 1 << f.field;
  let out = "";
  for (const key in row) {
    const value = (row as unknown as Record<string, unknown>)[key];
    let text: string | undefined;
    switch (key) {
      case "id":
      case "scores":
      case "row_key":
      case "row_index":
      case "trial_index":
        continue;
      case "input":
        text = blobbed & 1 ? undefined : valueJson(value);
        break;
      case "output":
        text = blobbed & 2 ? undefined : valueJson(value);
        break;
      case "expected":
        text = blobbed & 4 ? undefined : valueJson(value);
        break;
      case "metadata":
        text = isEmptyPlainObject(value) ? undefined : valueJson(value);
        break;
      case "tags":
        text = Array.isArray(value) && value.length === 0 ? undefined : valueJson(value);
        break;
      case "metrics":
        text = otherMetrics(value);
        break;
      default:
        text = valueJson(value);
    }
    if (text !== undefined) out += `${out === "" ? "{" : ","}${JSON.stringify(key)}:${text}`;
  }
  return out === "" ? null : `${out}}`;
}

/** SQL selecting a stored result with its blobs, from `results e` (add FROM results e, then EVENT_JOINS, then WHERE). */
export const EVENT_COLUMNS = `e.id AS id, e.row_key AS row_key, e.row_index AS row_index, e.trial_index AS trial_index,
  e.scores AS scores, e.started AS started, e.ended AS ended, e.duration AS duration, e.event AS event,
  bi.json AS input, bo.json AS output, be.json AS expected`;
export const EVENT_JOINS = `LEFT JOIN blobs bi ON bi.hash = e.input_ref
  LEFT JOIN blobs bo ON bo.hash = e.output_ref
  LEFT JOIN blobs be ON be.hash = e.expected_ref`;

export interface EventRecord {
  id: string;
  row_key: string;
  row_index: number;
  trial_index: number;
  scores: string;
  started: number | null;
  ended: number | null;
  duration: number | null;
  event: string | null;
  input: string | null;
  output: string | null;
  expected: string | null;
}

/**
 * A stored result as one object, fields in the order the engine makes them. Results stored before schema 4 have
 * every field in their event JSON, the columns' included; the columns win.
 */
export function decodeEvent(record: EventRecord): RowResult {
  const parsed = record.event === null ? {} : (JSON.parse(record.event) as Record<string, unknown>);
  const {
    input,
    output,
    expected,
    metadata,
    tags,
    metrics,
    id: _id,
    scores: _scores,
    row_key: _key,
    row_index: _index,
    trial_index: _trial,
    output_lossy: lossy,
    ...rest
  } = parsed;
  let allMetrics: Record<string, unknown> = {};
  if (record.started !== null) allMetrics.start = record.started;
  if (record.ended !== null) allMetrics.end = record.ended;
  if (record.duration !== null) allMetrics.duration = record.duration;
  if (typeof metrics === "object" && metrics !== null && !Array.isArray(metrics))
    Object.assign(allMetrics, metrics);
  else if (metrics !== undefined) allMetrics = metrics as Record<string, unknown>;
  const decoded = {
    id: record.id,
    input: record.input !== null ? blobValue(record.input) : input,
    output: record.output !== null ? blobValue(record.output) : output,
    expected: record.expected !== null ? blobValue(record.expected) : expected,
    scores: JSON.parse(record.scores),
    metadata: metadata ?? {},
    tags: tags ?? [],
    metrics: allMetrics,
    row_key: record.row_key,
    row_index: record.row_index,
    trial_index: record.trial_index,
    ...rest,
  } as RowResult;
  if (lossy === true) decoded[OUTPUT_LOSSY] = true;
  return decoded;
}

/** The JSON of a stored result as export writes it. */
export function eventJson(record: EventRecord): string {
  return JSON.stringify(decodeEvent(record));
}

const finite = (value: unknown) => typeof value === "number" && Number.isFinite(value);

const isScalar = (value: unknown): value is string | number | boolean | null | undefined =>
  value === undefined ||
  value === null ||
  typeof value === "string" ||
  typeof value === "number" ||
  typeof value === "boolean";

/**
 * eventText() for a result the engine made, whose fields are known: the common case (no token metrics) as one
 * JSON.stringify of an object literal, which V8 serialises fastest (~1 us a row less than field by field); JSON
 * leaves out the undefined fields just as eventText() does. Anything else goes to eventText().
 */
export function engineEventText(row: RowResult, fields: BlobFields): string | null {
  const m = row.metrics;
  if (
    m.prompt_tokens !== undefined ||
    m.completion_tokens !== undefined ||
    m.tokens !== undefined ||
    !finite(m.start) ||
    !finite(m.end) ||
    !finite(m.duration)
  ) {
    return eventText(row, fields);
  }
  let blobbed = 0;
  for (const f of fields) blobbed |= 1 << f.field;
  const metadata = isEmptyPlainObject(row.metadata) ? undefined : row.metadata;
  const tags = Array.isArray(row.tags) && row.tags.length === 0 ? undefined : row.tags;
  // Nothing left beside the columns and blobs (a large-valued row that went well): no JSON at all.
  if (
    (blobbed & 1 || row.input === undefined) &&
    (blobbed & 2 || row.output === undefined) &&
    (blobbed & 4 || row.expected === undefined) &&
    metadata === undefined &&
    tags === undefined &&
    row.row_id === undefined &&
    row.error === undefined &&
    row.score_errors === undefined &&
    row.score_metadata === undefined
  ) {
    return null;
  }
  const input = blobbed & 1 ? undefined : row.input;
  const output = blobbed & 2 ? undefined : row.output;
  const expected = blobbed & 4 ? undefined : row.expected;
  // The commonest event of all, scalars and nothing else, written directly: ~1.5 us a row less than
  // JSON.stringify of the literal below while V8 is still warming up, ~0.5 us after.
  if (
    metadata === undefined &&
    tags === undefined &&
    row.row_id === undefined &&
    row.error === undefined &&
    row.score_errors === undefined &&
    row.score_metadata === undefined &&
    isScalar(input) &&
    isScalar(output) &&
    isScalar(expected)
  ) {
    let out = "";
    if (input !== undefined) out += `,"input":${valueJson(input)}`;
    if (output !== undefined) out += `,"output":${valueJson(output)}`;
    if (expected !== undefined) out += `,"expected":${valueJson(expected)}`;
    return `{${out.slice(1)}}`;
  }
  let text: string;
  try {
    text = JSON.stringify({
      input,
      output,
      expected,
      metadata,
      tags,
      row_id: row.row_id,
      error: row.error,
      score_errors: row.score_errors,
      score_metadata: row.score_metadata,
      output_lossy: row.output_lossy,
    });
  } catch {
    return eventText(row, fields); // a BigInt or a cycle: field by field, each with its fallback
  }
  return text === "{}" ? null : text;
}
