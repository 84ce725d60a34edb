import { describeValue, EvalrunError, isEvalrunError } from "../define/errors.js";
import { rowSource } from "../define/row-source.js";
import type { EvalCase } from "../define/types.js";

const isObject = (v: unknown): v is Record<string | symbol, unknown> => typeof v === "object" && v !== null;

/** A row that is a promise (or any thenable): the engine awaits it. */
export const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  isObject(v) && typeof v.then === "function";

/**
 * Produces the rows of an eval's `data` lazily: an array, iterable or async iterable, a promise of one, or a
 * function returning any of those. Nothing is read ahead; the caller pulls one row at a time.
 */
export interface OpenedData {
  iterator: Iterator<unknown> | AsyncIterator<unknown>;
  /** Known up front only for arrays. */
  size: number | undefined;
}

export async function openData(data: unknown, evalLabel: string): Promise<OpenedData> {
  let source = data;
  if (typeof source === "function") {
    try {
      source = (source as () => unknown)();
    } catch (error) {
      throw dataThrew(evalLabel, error);
    }
  }
  if (isObject(source) && typeof source.then === "function") {
    try {
      source = await source;
    } catch (error) {
      throw dataThrew(evalLabel, error);
    }
  }
  // A dataset class or a cursor's wrapper opens in its iterator method, which may fail as a loader does.
  if (isObject(source) && typeof source[Symbol.asyncIterator] === "function") {
    try {
      return {
        iterator: iteratorOf(
          (source as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator](),
          evalLabel,
        ),
        size: undefined,
      };
    } catch (error) {
      throw isEvalrunError(error) ? error : dataThrew(evalLabel, error);
    }
  }
  if (isObject(source) && typeof source[Symbol.iterator] === "function") {
    const size = Array.isArray(source) ? source.length : undefined;
    try {
      return {
        iterator: iteratorOf((source as unknown as Iterable<unknown>)[Symbol.iterator](), evalLabel),
        size,
      };
    } catch (error) {
      throw isEvalrunError(error) ? error : dataThrew(evalLabel, error);
    }
  }
  const keys = isObject(source) ? Object.keys(source) : [];
  const file =
    typeof source === "string"
      ? /\.(jsonl|json|csv|tsv)$/i.exec(source.trim())?.[1]?.toLowerCase()
      : undefined;
  const loader = file === "jsonl" ? "loadJsonl" : file === "json" ? "loadJson" : "loadCsv";
  throw new EvalrunError(
    "BAD_DATA",
    `${evalLabel}: \`data\` gave ${describeValue(source)}${keys.length > 0 ? ` with the keys ${keys.slice(0, 6).join(", ")}${keys.length > 6 ? ", ..." : ""}` : ""}, which is not a list of rows.`,
    file !== undefined
      ? `To read the file, pass it to a loader: data: ${loader}(${JSON.stringify(source)}) (import { ${loader} } from "evalrun").`
      : keys.length > 0
        ? `If the rows are under one of its keys, give that: data: async () => (await loadJson(file)).${keys[0]}.`
        : "Give `data` an array of rows ({ input, expected? }), an iterable or async iterable of them, or a function (sync or async) returning one.",
  );
}

function iteratorOf<T extends Iterator<unknown> | AsyncIterator<unknown>>(iterator: T, evalLabel: string): T {
  if (isObject(iterator) && typeof iterator.next === "function") return iterator;
  throw new EvalrunError(
    "BAD_DATA",
    `${evalLabel}: \`data\`'s iterator method returned ${describeValue(iterator)}, not an iterator (an object with next()).`,
    "Return an iterator from [Symbol.iterator]() (a generator function makes one), or give `data` an array.",
  );
}

/**
 * One result of the data's iterator, checked: a hand-written `next()` that ends by returning nothing (or false)
 * instead of { done: true } failed the run (undefined) or never ended it (false: a bad row each call, forever).
 */
export function iteratorResult(
  next: unknown,
  evalLabel: string,
  rowsBefore: number,
): IteratorResult<unknown> {
  if (isObject(next)) return next as unknown as IteratorResult<unknown>;
  throw new EvalrunError(
    "BAD_DATA",
    `${evalLabel}: the data's iterator returned ${describeValue(next)} from next() after ${rowsBefore} rows, where an iterator returns { value, done }.`,
    "End it with { done: true, value: undefined } (a generator function does this for you); the rows read before were run and are kept.",
  );
}

function dataThrew(evalLabel: string, error: unknown): EvalrunError {
  // evalrun's own loaders (loadJsonl, ...) already say which file and line, and what to do.
  const own = isEvalrunError(error);
  const message = own
    ? error.message
    : error instanceof Error
      ? `${error.name}: ${error.message}`
      : describeValue(error);
  return new EvalrunError(
    "BAD_DATA",
    `${evalLabel}: \`data\` threw before any row was read: ${message}`,
    (own && error.hint) || "Fix the data loader; the eval's other settings are fine.",
    { cause: error },
  );
}

/** A field meant as `name` but spelt with spaces or capitals (a CSV header "id, input"), quoted. */
function nearMiss(keys: string[], name: string): string | undefined {
  const found = keys.find((k) => k !== name && k.trim().toLowerCase() === name);
  return found === undefined ? undefined : JSON.stringify(found);
}

/**
 * Checks one row; returns an error message naming the row (and its file and line, for rows from evalrun's loaders)
 * and field, or undefined when it is usable.
 */
export function checkRow(row: unknown, index: number): string | undefined {
  if (isObject(row) && typeof row.then === "function") {
    return `${rowName(row, index)} is a promise, not a row: the rows were made by an async function and not awaited (e.g. ids.map(async ...)). Await them: data: async () => Promise.all(ids.map(async (id) => ({ input: ... }))).`;
  }
  if (!isObject(row) || Array.isArray(row)) {
    return `${rowName(row, index)} is ${describeValue(row)}, not an object; each row looks like { input, expected?, metadata? }.`;
  }
  if (!("input" in row)) {
    const keys = Object.keys(row);
    const fields = keys.slice(0, 6).map((k) => JSON.stringify(k));
    const meant = nearMiss(keys, "input");
    return `${rowName(row, index)} has no \`input\` field${keys.length ? ` (its fields: ${fields.join(", ")}${keys.length > 6 ? ", ..." : ""})` : ""}; each row needs one.${meant ? ` Its field ${meant} differs only in spaces or capitals: rename it \`input\` (in a CSV, in the header line).` : ""}`;
  }
  // null is "not given" for the optional fields, as in exported datasets that write every key.
  const r = row as unknown as EvalCase;
  // A Map or a Date is an object too, but stores as {} or a string: metadata's fields would be lost.
  if (r.metadata != null && Object.prototype.toString.call(r.metadata) !== "[object Object]") {
    return `${rowName(row, index)} has \`metadata\` that is ${describeValue(r.metadata)}; it must be a plain object of fields.${typeof r.metadata === "string" ? fromText(row, index, "metadata") : ""}`;
  }
  if (r.tags != null) {
    const tags = r.tags as unknown;
    const bad = Array.isArray(tags) ? tags.findIndex((t) => typeof t !== "string") : -1;
    if (!Array.isArray(tags) || bad >= 0) {
      const what = Array.isArray(tags)
        ? `item ${bad} is ${describeValue(tags[bad])}`
        : `they are ${describeValue(tags)}`;
      return `${rowName(row, index)} has \`tags\` that are not an array of strings (${what}).${typeof tags === "string" ? fromText(row, index, "tags") : ""}`;
    }
  }
  const trials = r.trialCount as unknown;
  if (trials != null && !(typeof trials === "number" && Number.isInteger(trials) && trials >= 1)) {
    return `${rowName(row, index)} has a \`trialCount\` that is ${describeValue(trials)}; it must be a whole number of 1 or more.`;
  }
  const id = r.id as unknown;
  if (id != null && typeof id !== "string" && !(typeof id === "number" && Number.isFinite(id))) {
    return `${rowName(row, index)} has an \`id\` that is ${describeValue(id)}; it must be a string or a finite number.`;
  }
  // Past 2^53 a number id is rounded (JSON.parse of a database id does it): two rows may now share one.
  if (typeof id === "number" && Number.isInteger(id) && !Number.isSafeInteger(id)) {
    return `${rowName(row, index)} has the id ${id}, a number too large for JavaScript to hold exactly: rows whose ids differ past its 16th digit would share it. Write ids as strings in the data ("id": "12345678901234567891").`;
  }
  return undefined;
}

/** "Row 2", with "(rows.jsonl:5)" for a row read by evalrun's loaders. */
function rowName(row: unknown, index: number): string {
  const where = rowSource(row, index);
  return where === undefined ? `Row ${index}` : `Row ${index} (${where})`;
}

/** For a row read from a CSV, whose cells are text: how to parse the field's JSON. */
function fromText(row: unknown, index: number, field: string): string {
  const where = rowSource(row, index);
  return where !== undefined && /\.(csv|tsv)(:\d+)?$/i.test(where)
    ? ` A CSV's cells are text: map the rows to parse it, e.g. rows.map((r) => ({ ...r, ${field}: JSON.parse(r.${field}) })).`
    : "";
}
