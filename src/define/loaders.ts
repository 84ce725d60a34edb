import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { noteDependency } from "./dependencies.js";
import { EvalrunError, isEvalrunError } from "./errors.js";
import { jsonErrorOffset, lineAndColumn } from "./json-position.js";
import type { EvalCase } from "./types.js";

/** A row as read from a file: its shape is only known at run time, when each row is checked. */
// biome-ignore lint/suspicious/noExplicitAny: rows read from files are as loosely typed as the files themselves
export type LoadedRow = EvalCase<any, any, any>;

export interface CsvOptions {
  /** The field separator (default ","; "\t" for TSV). */
  delimiter?: string;
}

const WHERE_HINT =
  'A relative path is resolved against the current directory, as fs.readFile does; for a file beside the eval file pass new URL("./data.jsonl", import.meta.url).';

interface DataFile {
  absolute: string;
  /** As the user would type it from the current directory. */
  shown: string;
  text: string;
}

async function readDataFile(file: string | URL, loader: string): Promise<DataFile> {
  const absolute = path.resolve(file instanceof URL ? fileURLToPath(file) : file);
  // Noted before reading: in watch mode a file that is missing or malformed now is watched for its fix.
  noteDependency(absolute);
  const relative = path.relative(process.cwd(), absolute);
  const shown = relative === "" || relative.startsWith("..") ? absolute : relative;
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? `it does not exist (looked for ${absolute})`
        : code === "EISDIR"
          ? "it is a directory"
          : (error as Error).message;
    throw new EvalrunError("BAD_DATA", `${loader} could not read ${shown}: ${why}.`, WHERE_HINT, {
      cause: error,
    });
  }
  return { absolute, shown, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
}

/**
 * `data: loadJsonl("rows.jsonl")` keeps the promise until the eval runs, which awaits it; a read that fails before
 * then must not count as an unhandled rejection (which a run reports as an error escaping the eval code).
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** V8's reason without the text it quotes, and the offset when it names one. */
function jsonReason(error: unknown): { reason: string; offset: number | undefined } {
  const message = error instanceof Error ? error.message : String(error);
  const at = /at position (\d+)/.exec(message);
  // "Unexpected token '}', ..."{"a": }" is not valid JSON": the quoted excerpt may span lines; drop it.
  const quoted = message.endsWith("is not valid JSON") ? message.indexOf(", ") : -1;
  const reason = (quoted === -1 ? message : message.slice(0, quoted))
    .replace(/ in JSON at position \d+.*$/s, "")
    .replace(/ after JSON$/, " after the value");
  return { reason, offset: at ? Number(at[1]) : undefined };
}

/**
 * Reads a JSON Lines file: one JSON value per line (typically a row, `{"input": ..., "expected": ...}`); blank
 * lines are skipped. A malformed line is an error naming the file and line.
 */
export function loadJsonl<T = LoadedRow>(file: string | URL): Promise<T[]> {
  return handled(readJsonl<T>(file));
}

async function readJsonl<T>(file: string | URL): Promise<T[]> {
  const { shown, text } = await readDataFile(file, "loadJsonl");
  const rows: T[] = [];
  let start = 0;
  for (let line = 1; start <= text.length; line++) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const content = text.slice(start, end);
    if (content.trim() !== "") {
      try {
        rows.push(JSON.parse(content) as T);
      } catch (error) {
        const { reason, offset } = jsonReason(error);
        const column = (offset ?? Math.max(0, jsonErrorOffset(content))) + 1;
        throw new EvalrunError(
          "BAD_DATA",
          `${shown}:${line}:${column}: line ${line} is not valid JSON (${reason}).`,
          'Each line of a .jsonl file holds one JSON value, such as {"input": "...", "expected": "..."}; blank lines are skipped.',
        );
      }
    }
    start = end + 1;
  }
  return rows;
}

/** Reads a JSON file (by default typed as an array of rows). A malformed file is an error naming its line. */
export function loadJson<T = LoadedRow[]>(file: string | URL): Promise<T> {
  return handled(readJson<T>(file));
}

async function readJson<T>(file: string | URL): Promise<T> {
  const { shown, text } = await readDataFile(file, "loadJson");
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    const { reason, offset } = jsonReason(error);
    const found = offset ?? jsonErrorOffset(text);
    const where = found >= 0 ? lineAndColumn(text, found) : undefined;
    throw new EvalrunError(
      "BAD_DATA",
      `${shown}${where ? `:${where.line}:${where.column}` : ""}: not valid JSON (${reason}).`,
      "Check the file at that line (a missing comma or quote, or a trailing comma, is the usual cause).",
    );
  }
}

/**
 * Reads a CSV file with a header line: one object per record, keyed by the header's names, values as strings.
 * A file whose columns are `input` and `expected` (and `id`) is rows as it is; map other shapes to rows. A
 * malformed record (an unclosed quote, a wrong number of fields) is an error naming its line.
 */
export function loadCsv<T = Record<string, string>>(
  file: string | URL,
  options: CsvOptions = {},
): Promise<T[]> {
  return handled(readCsv<T>(file, options));
}

async function readCsv<T>(file: string | URL, options: CsvOptions): Promise<T[]> {
  const { shown, text } = await readDataFile(file, "loadCsv");
  // Loaded here only: most eval files never read a CSV.
  const { parse } = await import("csv-parse/sync");
  // Two columns of one name would leave only the later one's values in each row, silently.
  const columns = (header: string[]) => {
    const seen = new Map<string, number>();
    header.forEach((name, i) => {
      const first = seen.get(name);
      if (first !== undefined) {
        throw new EvalrunError(
          "BAD_DATA",
          `${shown}:1: the column "${name}" appears twice (columns ${first + 1} and ${i + 1}), and each row would keep only the second's value.`,
          "Rename one of them in the header line.",
        );
      }
      seen.set(name, i);
    });
    return header;
  };
  try {
    return parse(text, {
      columns,
      skip_empty_lines: true,
      delimiter: options.delimiter ?? ",",
    }) as T[];
  } catch (error) {
    if (isEvalrunError(error)) throw error;
    const lines = (error as { lines?: number }).lines;
    const reason = ((error as Error).message ?? String(error)).replace(/ (on|at) line \d+.*$/s, "");
    throw new EvalrunError(
      "BAD_DATA",
      `${shown}${lines ? `:${lines}` : ""}: not valid CSV (${reason}).`,
      'The first line names the columns; every record needs as many fields, and a field with a comma, quote or line break must be quoted ("a, b", with "" for a quote inside).',
    );
  }
}
