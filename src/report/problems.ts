import type { Problem } from "../loader/problems.js";
import type { Colors } from "./colors.js";
import { shownPath } from "./format.js";
import { hanging, printable } from "./safe-text.js";

/**
 * One paragraph per problem: where, what, what to do; the stack only with --verbose. The message may be what an
 * eval file threw while loading: its control characters are escaped and its later lines indented.
 */
export function formatProblem(problem: Problem, cwd: string, c: Colors, verbose: boolean): string {
  const where =
    problem.line !== undefined
      ? `${shownPath(problem.file, cwd)}:${problem.line}:${problem.column ?? 0}`
      : shownPath(problem.file, cwd);
  const message = hanging(printable(problem.message), "    ");
  const lines = [`${c.red("✘")} ${c.bold(where)} ${c.red(`[${problem.code}]`)} ${message}`];
  const detailIsStack = problem.code === "LOAD";
  if (problem.detail && (!detailIsStack || verbose)) lines.push(indent(printable(problem.detail), "    "));
  if (problem.hint) lines.push(`  ${c.dim("hint:")} ${hanging(printable(problem.hint), "    ")}`);
  return lines.join("\n");
}

export function indent(text: string, prefix: string): string {
  return text
    .split("\n")
    .map((line) => prefix + line)
    .join("\n");
}
