import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { decode, MAX_FILE_BYTES, tooLarge } from "./data-text.js";
import { DeferredPromise } from "./deferred-promise.js";
import { noteDependency } from "./dependencies.js";
import { EvalrunError, isEvalrunError } from "./errors.js";
import { jsonErrorOffset, lineAndColumn } from "./json-position.js";
import { noteLoadedRows } from "./row-source.js";
import type { EvalCase } from "./types.js";

/** A row as read from a file: its shape is only known at run time, when each row is checked. */
// biome-ignore lint/suspicious/noExplicitAny: rows read from files are as loosely typed as the files themselves
export type LoadedRow = EvalCase<any, any, any>;

export interface LoadOptions {
  /**
   * The file's text encoding, when it is not UTF-8: a WHATWG label such as "windows-1252" (Excel's plain "CSV" on
   * Windows), "latin1" or "utf-16le". UTF-16 with a byte-order mark is read without it.
   */
  encoding?: string;
}

export interface CsvOptions extends LoadOptions {
  /** The field separator (default "," and "\t" for a .tsv file). */
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

async function readDataFile(
  file: string | URL,
  loader: string,
  options: LoadOptions = {},
): Promise<DataFile> {
  const absolute = path.resolve(file instanceof URL ? fileURLToPath(file) : file);
  const relative = path.relative(process.cwd(), absolute);
  const shown = relative === "" || relative.startsWith("..") ? absolute : relative;
  let bytes: Buffer;
  try {
    // Past 2 GiB Node refuses to read a file into one buffer, with a message of its own.
    const { size } = await stat(absolute);
    if (size > MAX_FILE_BYTES) throw tooLarge(size, shown, loader);
    bytes = await readFile(absolute);
  } catch (error) {
    if (isEvalrunError(error)) throw error;
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
  return { absolute, shown, text: decode(bytes, shown, loader, options.encoding) };
}

/**
 * A loader's promise reads its file only once something awaits it. `data: loadJsonl(file)` is evaluated in each
 * worker thread that imports the eval file too, where the rows are never used: each thread read and parsed the
 * whole file (100 MB of JSONL: 1.5 GB instead of 460 MB with a `timeout`). It also never counts as an unhandled
 * rejection before the eval awaits it. The file is noted for --watch at once, so that a missing or malformed one
 * is watched for its fix.
 */
function lazily<T>(file: string | URL, read: () => Promise<T>): Promise<T> {
  try {
    noteDependency(path.resolve(file instanceof URL ? fileURLToPath(file) : file));
  } catch {
    // Not a path: the read says so when awaited.
  }
  return new DeferredPromise<T>((resolve, reject) => {
    read().then(resolve, reject);
  });
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
export function loadJsonl<T = LoadedRow>(file: string | URL, options: LoadOptions = {}): Promise<T[]> {
  return lazily(file, () => readJsonl<T>(file, options));
}

/**
 * A number id past 2^53 is rounded by JSON.parse (1234567890123456789 -> ...800): rows with nearby ids then share
 * one, and are compared as one row, silently.
 */
function checkId(row: unknown, where: string, text: string): void {
  const id = typeof row === "object" && row !== null ? (row as { id?: unknown }).id : undefined;
  if (typeof id !== "number" || !Number.isInteger(id) || Number.isSafeInteger(id)) return;
  // As written: an id of 16 digits or more on the line (or in the JSON file) that reads as this one.
  const written =
    [...text.matchAll(/"id"\s*:\s*(-?\d{16,})/g)].map((m) => m[1] as string).find((d) => Number(d) === id) ??
    String(id);
  throw new EvalrunError(
    "BAD_DATA",
    `${where}: the id ${written} is a number too large for JavaScript to hold exactly: it reads as ${id}, and rows with nearby ids would share one and be compared as one row.`,
    `Write ids this long as strings: "id": "${written}".`,
  );
}

async function readJsonl<T>(file: string | URL, options: LoadOptions): Promise<T[]> {
  const { shown, text } = await readDataFile(file, "loadJsonl", options);
  const rows: T[] = [];
  const lines: number[] = [];
  let start = 0;
  for (let line = 1; start <= text.length; line++) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const content = text.slice(start, end);
    if (content.trim() !== "") {
      let row: T;
      try {
        row = JSON.parse(content) as T;
      } catch (error) {
        const { reason, offset } = jsonReason(error);
        const column = (offset ?? Math.max(0, jsonErrorOffset(content))) + 1;
        throw new EvalrunError(
          "BAD_DATA",
          `${shown}:${line}:${column}: line ${line} is not valid JSON (${reason}).`,
          'Each line of a .jsonl file holds one JSON value, such as {"input": "...", "expected": "..."}; blank lines are skipped.',
        );
      }
      checkId(row, `${shown}:${line}`, content);
      lines.push(line);
      rows.push(row);
    }
    start = end + 1;
  }
  noteLoadedRows(rows, shown, Int32Array.from(lines));
  return rows;
}

/** Reads a JSON file (by default typed as an array of rows). A malformed file is an error naming its line. */
export function loadJson<T = LoadedRow[]>(file: string | URL, options: LoadOptions = {}): Promise<T> {
  return lazily(file, () => readJson<T>(file, options));
}

async function readJson<T>(file: string | URL, options: LoadOptions): Promise<T> {
  const { shown, text } = await readDataFile(file, "loadJson", options);
  let value: T;
  try {
    value = JSON.parse(text) as T;
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
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkId(value[i], `${shown}: row ${i}`, text);
    noteLoadedRows(value, shown);
  }
  return value;
}

/**
 * Reads a CSV file with a header line: one object per record, keyed by the header's names, values as strings.
 * A file whose columns are `input` and `expected` (and `id`) is rows as it is; map other shapes to rows. A
 * malformed record (an unclosed quote, a wrong number of fields) is an error naming its line.
 */
export function loadCsv<T = LoadedRow>(file: string | URL, options: CsvOptions = {}): Promise<T[]> {
  return lazily(file, () => readCsv<T>(file, options));
}

/** Line breaks in a cell as an editor counts lines: a CRLF is one. */
const lineBreaks = (text: string) => {
  let n = 0;
  for (let i = text.indexOf("\r"); i !== -1; i = text.indexOf("\r", i + 1)) n++;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) if (text[i - 1] !== "\r") n++;
  return n;
};

/** Separators a one-column header holds when the file is not comma-separated (Excel writes ";" in much of Europe). */
const OTHER_SEPARATORS = [",", ";", "\t", "|"];

async function readCsv<T>(file: string | URL, options: CsvOptions): Promise<T[]> {
  const { absolute, shown, text } = await readDataFile(file, "loadCsv", options);
  const delimiter = options.delimiter ?? (absolute.toLowerCase().endsWith(".tsv") ? "\t" : ",");
  // Loaded here only: most eval files never read a CSV.
  const { parse } = await import("csv-parse/sync");
  // Two columns of one name would leave only the later one's values in each row, silently.
  const columns = (header: string[]) => {
    headerRead = true;
    headerLines = 1 + header.reduce((n, name) => n + lineBreaks(name), 0);
    const other = OTHER_SEPARATORS.find((sep) => sep !== delimiter && header[0]?.includes(sep));
    // A quoted name is one column by the writer's own say ("question, short" in a one-column file).
    const quoted = /^[\r\n]*"/.test(text);
    if (header.length === 1 && options.delimiter === undefined && other !== undefined && !quoted) {
      const sep = JSON.stringify(other);
      throw new EvalrunError(
        "BAD_DATA",
        `${shown}:1: the header is one column, ${JSON.stringify(header[0])}: its names look separated by ${sep}, not by ${delimiter === "\t" ? "tabs" : JSON.stringify(delimiter)}.`,
        `Pass the separator: loadCsv(file, { delimiter: ${sep} }).`,
      );
    }
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
  // Each record's first line, counted here: csv-parse names the line a record ends on, and counts a CRLF inside
  // quotes as two lines, so every record after such a cell was named a line too far.
  const lines: number[] = [];
  let headerLines = 1;
  /** The line after the last record read (0 before the first), and csv-parse's count minus the true one there. */
  let nextLine = 0;
  let miscount = 0;
  let emptiesBefore = 0;
  let headerRead = false;
  /**
   * The first line of the record csv-parse failed on (an editor's count): its own count names the line it stopped
   * on, counting each CRLF inside the record's quotes (or to the end of the file, for a quote never closed) twice.
   */
  const failedRecordLine = (stoppedAt: number): number => {
    const fileLines = text.split(/\r\n|\r|\n/);
    // Empty lines before the header are skipped by csv-parse: the header (a record too) starts after them.
    let headerStart = 1;
    while (headerStart < fileLines.length && fileLines[headerStart - 1] === "") headerStart++;
    if (!headerRead) return headerStart;
    let line = nextLine || headerStart + headerLines;
    while (line < stoppedAt && fileLines[line - 1] === "") line++;
    return line;
  };
  try {
    const rows = parse(text, {
      columns,
      skip_empty_lines: true,
      delimiter,
      // Any line ending, mixed too: rows appended with "\n" to a file Excel or Python wrote with "\r\n" ran into one
      // record, since csv-parse takes the first line's ending for the whole file.
      record_delimiter: ["\r\n", "\n", "\r"],
      on_record: (record: T, context: { lines: number; empty_lines: number }) => {
        const start = (nextLine || 1 + headerLines) + context.empty_lines - emptiesBefore;
        emptiesBefore = context.empty_lines;
        let breaks = 0;
        for (const value of Object.values(record as object))
          if (typeof value === "string") breaks += lineBreaks(value);
        lines.push(start);
        nextLine = start + breaks + 1;
        miscount = context.lines - (nextLine - 1);
        return record;
      },
    }) as T[];
    noteLoadedRows(rows, shown, Int32Array.from(lines));
    return rows;
  } catch (error) {
    if (isEvalrunError(error)) throw error;
    const counted = (error as { lines?: number }).lines;
    const lines = counted === undefined ? undefined : failedRecordLine(counted - miscount);
    // A line of spaces is a record of one field to csv-parse, where an empty line is skipped: say so.
    const atLine = lines === undefined ? undefined : text.split(/\r\n|\r|\n/, lines)[lines - 1];
    if (lines !== undefined && atLine !== undefined && atLine.trim() === "" && atLine !== "") {
      throw new EvalrunError(
        "BAD_DATA",
        `${shown}:${lines}: line ${lines} holds only spaces or tabs, which CSV reads as a record of one empty field.`,
        "Delete the line, or its spaces (empty lines are skipped).",
      );
    }
    const message = (error as Error).message ?? String(error);
    const reason = message.replace(/ (on|at) line \d+.*$/s, "");
    // A quoted field followed by another separator: a file written with every field quoted ("q";"a", as
    // spreadsheets and pandas' QUOTE_ALL write it), whose separator is not the one read with.
    const after = /^Invalid Closing Quote: got "(.)"/.exec(message)?.[1];
    // Only while reading the header: a header read whole has shown the separator, and the record is what is wrong.
    if (
      after !== undefined &&
      !headerRead &&
      options.delimiter === undefined &&
      OTHER_SEPARATORS.includes(after)
    ) {
      const sep = JSON.stringify(after);
      throw new EvalrunError(
        "BAD_DATA",
        `${shown}${lines ? `:${lines}` : ""}: not valid CSV (${reason}): a quoted field is followed by ${after === "\t" ? "a tab" : sep}, so its fields look separated by ${sep}, not by ${delimiter === "\t" ? "tabs" : JSON.stringify(delimiter)}.`,
        `Pass the separator: loadCsv(file, { delimiter: ${sep} }).`,
      );
    }
    throw new EvalrunError(
      "BAD_DATA",
      `${shown}${lines ? `:${lines}` : ""}: not valid CSV (${reason}).`,
      'The first line names the columns; every record needs as many fields, and a field with a comma, quote or line break must be quoted ("a, b", with "" for a quote inside).',
    );
  }
}
