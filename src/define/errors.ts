/**
 * Errors a user can cause (a bad flag, a bad eval file, a bad row). The CLI prints them as one paragraph
 * with their hint and no stack; anything else that escapes is an internal bug and keeps its stack.
 */
export type EvalrunErrorCode =
  | "USAGE"
  | "CONFIG"
  | "NO_EVALS"
  | "PATH_NOT_FOUND"
  | "ENV_FILE"
  | "COMPILE"
  | "LOAD"
  | "DUPLICATE_EVAL"
  | "BAD_EVALUATOR"
  | "BAD_DATA"
  | "BAD_ROW"
  | "BAD_SCORE"
  | "BAD_SCORER_OPTIONS"
  | "TIMEOUT"
  | "UNHANDLED"
  | "STORE_INVALID"
  | "STORE_UNWRITABLE"
  | "STORE_TOO_NEW"
  // better-sqlite3's native addon is missing or built for another Node: no store can be opened, not even --no-store's.
  | "SQLITE_ADDON"
  | "NOT_FOUND"
  | "IMPORT"
  | "RESUME"
  | "INIT"
  // A report file could not be written after the run (a full disk): the results are stored.
  | "REPORT"
  // The LLM scorers: no usable provider configuration, a provider that failed or could not be reached, and an
  // answer that could not be used (malformed body, no tool call, unknown choice).
  | "LLM_CONFIG"
  | "LLM_REQUEST"
  | "LLM_RESPONSE";

/** Exit code per error class: 2 for usage and configuration, 1 for everything found while running. */
const USAGE_CODES = new Set<EvalrunErrorCode>([
  "USAGE",
  "CONFIG",
  "NO_EVALS",
  "PATH_NOT_FOUND",
  "ENV_FILE",
  "STORE_INVALID",
  "STORE_UNWRITABLE",
  "STORE_TOO_NEW",
  "SQLITE_ADDON",
  "NOT_FOUND",
  "IMPORT",
  "RESUME",
]);

// A brand rather than instanceof: an eval file may load another copy of evalrun.
const BRAND = Symbol.for("evalrun.error");

export class EvalrunError extends Error {
  readonly code: EvalrunErrorCode;
  readonly hint: string | undefined;
  readonly [BRAND] = true;

  constructor(code: EvalrunErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EvalrunError";
    this.code = code;
    this.hint = hint;
  }

  get exitCode(): number {
    return USAGE_CODES.has(this.code) ? 2 : 1;
  }
}

export function isEvalrunError(value: unknown): value is EvalrunError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** One line describing a value for an error message: its type and a short preview. */
/** The longest delay a Node timer takes (2^31 - 1 ms, ~24.8 days); a longer one fires at once, with a warning. */
export const MAX_TIMER_MS = 2_147_483_647;

export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case "string":
      return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    case "number":
      return Number.isNaN(value) ? "NaN" : `the number ${value}`;
    case "boolean":
      return `the boolean ${value}`;
    case "function":
      return `a function${value.name ? ` (${value.name})` : ""}`;
    case "bigint":
      return `the bigint ${value}n`;
    case "symbol":
      return `a symbol${value.description === undefined ? "" : ` (${value.toString()})`}`;
    default: {
      const ctor = (value as object).constructor?.name;
      return ctor && ctor !== "Object" ? `an instance of ${ctor}` : "an object";
    }
  }
}

/** A thrown value on one line: an Error's name and message, anything else as String() gives it. */
export const errorLine = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
