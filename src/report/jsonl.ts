import type { Writable } from "node:stream";
import type { EvalInfo } from "../engine/types.js";
import type { Problem } from "../loader/problems.js";
import type { ExperimentSummary } from "../summary/types.js";
import type { Colors } from "./colors.js";
import { formatProblem } from "./problems.js";
import type { EvalOutcome, Reporter } from "./reporter.js";

/** One SummarizeExperimentResponse per eval per line on stdout; nothing else there (problems go to stderr). */
export class JsonlReporter implements Reporter {
  constructor(
    private readonly o: { out: Writable; err: Writable; cwd: string; colors: Colors; verbose: boolean },
  ) {}

  onRunStart(_evals: EvalInfo[], problems: Problem[]): void {
    for (const p of problems)
      this.o.err.write(`${formatProblem(p, this.o.cwd, this.o.colors, this.o.verbose)}\n`);
  }

  onEvalEnd(_ev: EvalInfo, summary: ExperimentSummary, outcome: EvalOutcome): void {
    if (outcome.failure) this.o.err.write(`[${outcome.failure.code}] ${outcome.failure.message}\n`);
    this.o.out.write(`${JSON.stringify(summary)}\n`);
  }
}
