import { EvalrunError } from "../define/errors.js";

export interface RowFilter {
  source: string;
  path: string[];
  pattern: RegExp;
}

/** Parses `--filter path=regex`: the path is dotted (`metadata.lang`, `input.items.0`), the regex unanchored. */
export function parseFilter(source: string): RowFilter {
  const eq = source.indexOf("=");
  const path = eq > 0 ? source.slice(0, eq).trim() : "";
  if (eq <= 0 || path === "" || path.split(".").some((part) => part === "")) {
    throw new EvalrunError(
      "USAGE",
      `--filter "${source}" is not of the form PATH=REGEX.`,
      'Name a row field by its dotted path and give a regular expression, e.g. --filter metadata.lang=^en$ or --filter "input=refund|charge".',
    );
  }
  try {
    return { source, path: path.split("."), pattern: new RegExp(source.slice(eq + 1)) };
  } catch (error) {
    throw new EvalrunError(
      "USAGE",
      `--filter "${source}" has an invalid regular expression: ${(error as Error).message}.`,
      "Escape regex metacharacters such as ( [ * + ? with a backslash, or quote the whole flag in your shell.",
    );
  }
}

function valueAt(row: unknown, path: string[]): unknown {
  let value = row;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function asText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

/** A row passes when every filter's field exists and matches (strings as is, other values as JSON). */
export function matchesFilters(row: unknown, filters: readonly RowFilter[]): boolean {
  for (const filter of filters) {
    const text = asText(valueAt(row, filter.path));
    if (text === undefined || !filter.pattern.test(text)) return false;
  }
  return true;
}
