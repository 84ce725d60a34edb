import { describeValue, EvalrunError, isEvalrunError } from "../define/errors.js";
import type { EvalCase } from "../define/types.js";

const isObject = (v: unknown): v is Record<string | symbol, unknown> => typeof v === "object" && v !== null;

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
  if (isObject(source) && typeof source[Symbol.asyncIterator] === "function") {
    return {
      iterator: (source as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator](),
      size: undefined,
    };
  }
  if (isObject(source) && typeof source[Symbol.iterator] === "function") {
    const size = Array.isArray(source) ? source.length : undefined;
    return { iterator: (source as unknown as Iterable<unknown>)[Symbol.iterator](), size };
  }
  throw new EvalrunError(
    "BAD_DATA",
    `${evalLabel}: \`data\` gave ${describeValue(source)}, which is not a list of rows.`,
    "Give `data` an array of rows ({ input, expected? }), an iterable or async iterable of them, or a function (sync or async) returning one.",
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

/** Checks one row; returns an error message naming the row and field, or undefined when it is usable. */
export function checkRow(row: unknown, index: number): string | undefined {
  if (!isObject(row) || Array.isArray(row)) {
    return `Row ${index} is ${describeValue(row)}, not an object; each row looks like { input, expected?, metadata? }.`;
  }
  if (!("input" in row)) {
    const keys = Object.keys(row);
    return `Row ${index} has no \`input\` field${keys.length ? ` (its fields: ${keys.slice(0, 6).join(", ")})` : ""}; each row needs one.`;
  }
  // null is "not given" for the optional fields, as in exported datasets that write every key.
  const r = row as unknown as EvalCase;
  // A Map or a Date is an object too, but stores as {} or a string: metadata's fields would be lost.
  if (r.metadata != null && Object.prototype.toString.call(r.metadata) !== "[object Object]") {
    return `Row ${index} has \`metadata\` that is ${describeValue(r.metadata)}; it must be a plain object of fields.`;
  }
  if (r.tags != null && !(Array.isArray(r.tags) && r.tags.every((t) => typeof t === "string"))) {
    return `Row ${index} has \`tags\` that are not an array of strings.`;
  }
  const trials = r.trialCount as unknown;
  if (trials != null && !(typeof trials === "number" && Number.isInteger(trials) && trials >= 1)) {
    return `Row ${index} has a \`trialCount\` that is ${describeValue(trials)}; it must be a whole number of 1 or more.`;
  }
  const id = r.id as unknown;
  if (id != null && typeof id !== "string" && !(typeof id === "number" && Number.isFinite(id))) {
    return `Row ${index} has an \`id\` that is ${describeValue(id)}; it must be a string or a finite number.`;
  }
  return undefined;
}
