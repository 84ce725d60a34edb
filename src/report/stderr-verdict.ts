import type { Writable } from "node:stream";
import type { EvalInfo } from "../engine/types.js";
import type { Problem } from "../loader/problems.js";
import type { Colors } from "./colors.js";
import { formatProblem } from "./problems.js";
import type { Reporter, RunResult } from "./reporter.js";
import { hanging, inertForActions, onActions, printable } from "./safe-text.js";

/**
 * When no terminal summary is printed (only machine reporters), a CI log must still say why a run failed: file
 * problems as they are found (unless the jsonl reporter says them), and the verdict's reasons at the end.
 */
export class StderrVerdictReporter implements Reporter {
  constructor(
    private readonly o: {
      err: Writable;
      cwd: string;
      colors: Colors;
      verbose: boolean;
      problems: boolean;
      /** As the terminal reporter's option: defuses lines GitHub's runner would read as commands. */
      githubActions?: boolean;
    },
  ) {}

  private write(text: string): void {
    const actions = this.o.githubActions ?? onActions();
    this.o.err.write(actions ? inertForActions(text) : text);
  }

  onRunStart(_evals: EvalInfo[], problems: Problem[]): void {
    if (!this.o.problems) return;
    for (const p of problems) this.write(`${formatProblem(p, this.o.cwd, this.o.colors, this.o.verbose)}\n`);
  }

  onRunEnd(result: RunResult): void {
    const c = this.o.colors;
    if (result.reasons.length === 0 && result.notes.length === 0) return;
    const status =
      result.exitCode === 0 ? c.green("evalrun: passed") : c.red(`evalrun: failed (exit ${result.exitCode})`);
    const lines = [
      status,
      ...result.reasons.map((r) => `  · ${hanging(printable(r), "    ")}`),
      ...result.notes.map((n) => c.dim(`  · ${hanging(printable(n), "    ")}`)),
    ];
    this.write(`${lines.join("\n")}\n`);
  }
}
