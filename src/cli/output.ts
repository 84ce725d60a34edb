import { isEvalrunError } from "../define/errors.js";
import { colorsFor } from "../report/colors.js";
import { printable } from "../report/safe-text.js";
import { sqliteProblem } from "../store/sqlite-problem.js";

/** The one place user errors are printed: a paragraph with the code and the hint, no stack unless --verbose. */
export function printError(thrown: unknown, verbose: boolean): number {
  const c = colorsFor(process.stderr);
  const error = sqliteProblem(thrown) ?? thrown;
  if (isEvalrunError(error)) {
    // Messages quote names and values from eval files and imported artifacts: their control characters are shown.
    let text = `${c.red("✘")} ${c.red(`[${error.code}]`)} ${printable(error.message)}\n`;
    if (error.hint) text += `  ${c.dim("hint:")} ${printable(error.hint)}\n`;
    if (verbose && error.stack) text += `${c.dim(error.stack)}\n`;
    process.stderr.write(text);
    return error.exitCode;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(
    `${c.red("✘ evalrun hit an internal error")} (a bug in evalrun, not in your evals; please report it with this trace):\n${detail}\n`,
  );
  return 1;
}

/** Resolves once everything written to stdout and stderr has been handed to the OS. */
export function flushOutput(): Promise<void> {
  return new Promise((resolve) => {
    process.stdout.write("", () => process.stderr.write("", () => resolve()));
  });
}
