import type { Writable } from "node:stream";
import type { EvalInfo } from "../engine/types.js";
import type { Problem } from "../loader/problems.js";
import type { ExperimentSummary } from "../summary/types.js";
import type { Colors } from "./colors.js";
import { formatProblem } from "./problems.js";
import type { EvalOutcome, Reporter } from "./reporter.js";
import { hanging, inertForActions, onActions, printable } from "./safe-text.js";

/** One SummarizeExperimentResponse per eval per line on stdout; nothing else there (problems go to stderr). */
export class JsonlReporter implements Reporter {
  constructor(
    private readonly o: {
      out: Writable;
      err: Writable;
      cwd: string;
      colors: Colors;
      verbose: boolean;
      /** Defuse lines GitHub's runner would run as workflow commands (default: GITHUB_ACTIONS=true). */
      githubActions?: boolean;
    },
  ) {}

  private write(stream: Writable, text: string): void {
    stream.write((this.o.githubActions ?? onActions()) ? inertForActions(text) : text);
  }

  onRunStart(_evals: EvalInfo[], problems: Problem[]): void {
    for (const p of problems)
      this.write(this.o.err, `${formatProblem(p, this.o.cwd, this.o.colors, this.o.verbose)}\n`);
  }

  onEvalEnd(_ev: EvalInfo, summary: ExperimentSummary, outcome: EvalOutcome): void {
    if (outcome.failure)
      this.write(
        this.o.err,
        `[${outcome.failure.code}] ${hanging(printable(outcome.failure.message), "  ")}\n`,
      );
    this.write(this.o.out, `${JSON.stringify(summary)}\n`);
  }
}
