import { type Destination, emit } from "./destination.js";
import { shownPath } from "./format.js";
import type { Reporter, RunResult } from "./reporter.js";

/**
 * `--reporter json`: the whole run as one JSON document when it ends: the verdict and its reasons, each eval's
 * summary (the API's shape), statistics and gates, and the file problems.
 */
export class JsonReporter implements Reporter {
  constructor(private readonly o: { dest: Destination; cwd: string; onWritten?: (shown: string) => void }) {}

  onRunEnd(result: RunResult): void {
    const doc = {
      passed: result.exitCode === 0,
      exit_code: result.exitCode,
      interrupted: result.interrupted,
      reasons: result.reasons,
      notes: result.notes,
      gate_errors: (result.gateErrors ?? []).map((e) => ({ code: e.code, message: e.message, hint: e.hint })),
      problems: result.problems.map((p) => ({ ...p, file: shownPath(p.file, this.o.cwd) })),
      evals: result.evals.map((e) => ({
        name: e.info.name,
        file: e.info.file ? shownPath(e.info.file, this.o.cwd) : null,
        experiment: e.summary.experiment_name,
        baseline: e.summary.comparison_experiment_name,
        summary: e.summary,
        stats: e.stats ?? null,
        gate: e.gate ?? null,
        failure: e.failure ?? null,
        interrupted: e.interrupted,
      })),
      duration_s: result.durationSeconds,
    };
    emit(this.o.dest, `${JSON.stringify(doc, null, 2)}\n`);
    if (this.o.dest.kind === "file") this.o.onWritten?.(this.o.dest.shown);
  }
}
