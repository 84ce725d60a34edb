import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";
import { EvalrunError } from "../define/errors.js";

/**
 * Loads a dotenv file into process.env before eval files load. Variables already set in the environment win,
 * so CI secrets are never replaced by a stale local file. Returns the names set (never their values).
 *
 * Without one named, `.env` in the current directory, else in `projectDir` (the config's directory, else the
 * project's root): run from `evals/`, a project's config and store were found but its `.env`, with the API keys,
 * was not.
 */
export function loadEnvFile(cwd: string, explicit: string | undefined, projectDir?: string): string[] {
  let file = path.resolve(cwd, explicit ?? ".env");
  // The files whose earlier values this load replaces: with none named, the working directory's and the project's
  // alike (the one deleted, or now hidden by a new one in the working directory, no longer applies).
  const replaces = [file];
  if (explicit === undefined && projectDir !== undefined) {
    const projectFile = path.resolve(projectDir, ".env");
    replaces.push(projectFile);
    if (!existsSync(file)) file = projectFile;
  }
  lastFile = file;
  lastCandidates = replaces;
  if (!existsSync(file)) {
    if (explicit === undefined) {
      forgetEarlier(replaces, new Set());
      return [];
    }
    throw new EvalrunError(
      "ENV_FILE",
      `The env file "${explicit}" does not exist${file === explicit ? "" : ` (looked for ${file})`}.`,
      "Pass an existing file to --env-file (or the config's envFile), or drop it: a project's .env loads by itself.",
    );
  }
  let parsed: Record<string, string>;
  let text: string;
  try {
    // Without the byte-order mark Windows editors write (it would be part of the first name), and with blank and
    // comment lines emptied: Node's parser runs a line of spaces, or an indented comment, into the next line's name.
    text = readFileSync(file, "utf8").replace(/^\uFEFF/, "");
    parsed = parseEnv(text.replace(/^[ \t\r]*(?:#.*)?$/gm, "")) as Record<string, string>;
  } catch (error) {
    throw new EvalrunError(
      "ENV_FILE",
      `The env file ${file} could not be read: ${(error as Error).message}`,
      "Check the file's permissions and that it is a KEY=value text file.",
    );
  }
  const stray = lineWithoutValue(text);
  if (stray !== undefined) throw notKeyValue(file, stray);
  const variables: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(parsed)) {
    // An indented line (a tab before the name) is read with the tab in the name.
    const name = key.trim();
    if (VARIABLE_NAME.test(name)) {
      variables.push([name, value]);
      continue;
    }
    // Node's parser runs a line with no `=` into the next line's name: both variables would silently be unset.
    const first =
      key
        .split("\n")
        .find((part) => part.trim() !== "")
        ?.trim() ?? "";
    const line = text.split(/\r?\n/).findIndex((l) => first !== "" && l.trimStart().startsWith(first)) + 1;
    throw notKeyValue(file, line || undefined);
  }
  forgetEarlier(replaces, new Set(variables.map(([key]) => key)));
  const set: string[] = [];
  for (const [key, value] of variables) {
    // Set by the environment (or code) wins; set by an earlier load of an env file (a watch session restarting on
    // a changed .env), the file's new value applies.
    if (process.env[key] !== undefined && setByUs.get(key)?.value !== process.env[key]) continue;
    process.env[key] = value;
    setByUs.set(key, { value, file });
    set.push(key);
  }
  return set;
}

/**
 * Unsets what an earlier load of these files set and the file loaded now does not list (a watch session restarting
 * on a line commented out, or the file deleted): kept, the task went on seeing the old value. Not a value code has
 * changed since, nor another project's (runEvals() calls for two projects share process.env).
 */
function forgetEarlier(files: readonly string[], listed: ReadonlySet<string>): void {
  for (const [key, earlier] of setByUs) {
    if (!files.includes(earlier.file) || listed.has(key)) continue;
    if (process.env[key] === earlier.value) delete process.env[key];
    setByUs.delete(key);
  }
}

function notKeyValue(file: string, line: number | undefined): EvalrunError {
  return new EvalrunError(
    "ENV_FILE",
    `The env file ${file}: line ${line ?? "?"} is not KEY=value (its text is not shown: it may hold a secret). As written it sets no variable, and a line without = takes the next line's variable with it.`,
    "Write each variable as KEY=value on a line of its own, or comment the line out with #.",
  );
}

/**
 * The first line (from 1) that is neither blank, a comment, KEY=value, nor inside a quoted value spanning lines.
 * Node's parser drops such a line when it is the last (a key pasted without `=` at the end of .env: silently unset).
 */
function lineWithoutValue(text: string): number | undefined {
  const lines = text.split(/\r?\n/);
  let open: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (open !== undefined) {
      if (line.includes(open)) open = undefined;
      continue;
    }
    if (/^\s*(?:#.*)?$/.test(line)) continue;
    const start = /^\s*(?:export\s+)?[^\s=#]+\s*=\s*(["'`])?/.exec(line);
    if (!start) return i + 1;
    const quote = start[1];
    if (quote !== undefined && !line.slice(start[0].length).includes(quote)) open = quote;
  }
  return undefined;
}

/** A name a dotenv line can give (dotenv allows dots and dashes, which a shell would not). */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Variables loads of env files set, with the values they set and the file each came from. */
const setByUs = new Map<string, { value: string; file: string }>();
let lastFile: string | undefined;
let lastCandidates: readonly string[] = [];

/** The env file the last load read, or would have. */
export const loadedEnvFile = (): string | undefined => lastFile;

/**
 * The env files the last load looked for (watch mode restarts when one changes or appears): the working
 * directory's too while the project's is read, so that one made again there takes over.
 */
export const envFileCandidates = (): readonly string[] => lastCandidates;
