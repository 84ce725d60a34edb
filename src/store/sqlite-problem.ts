import { EvalrunError } from "../define/errors.js";

/**
 * A SQLite failure met after the store was opened, as the user-facing error it is: another process holding the
 * write lock past the busy timeout (a big import or prune), a store made read-only, a damaged file, a full disk.
 * Undefined for anything else (a bug, shown with its trace).
 */
export function sqliteProblem(error: unknown): EvalrunError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !code.startsWith("SQLITE_")) return undefined;
  const reason = error instanceof Error ? error.message : String(error);
  const say = (text: string, hint: string) =>
    new EvalrunError(
      code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB" ? "STORE_INVALID" : "STORE_UNWRITABLE",
      `${text} (${reason}).`,
      hint,
      { cause: error },
    );
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return say(
      "The store stayed locked by another evalrun for more than 10 s (an import, a prune or a migration of a big store)",
      "Run again once it is done, or use another store for this run (--store PATH, or --no-store).",
    );
  }
  if (code.startsWith("SQLITE_READONLY")) {
    return say(
      "The store is read-only here",
      "Make the store file and its directory writable, point --store (or EVALRUN_STORE) at a writable path, or run with --no-store.",
    );
  }
  if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") {
    return say(
      "The store is damaged",
      "Move it away (export what you can first: evalrun export), or point --store (or EVALRUN_STORE) at another path.",
    );
  }
  if (code.startsWith("SQLITE_FULL") || code.startsWith("SQLITE_IOERR")) {
    return say(
      "The store could not be written: the disk is full or failed",
      "Free some space (evalrun prune removes old experiments), or point --store at another disk.",
    );
  }
  return undefined;
}
