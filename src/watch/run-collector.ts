import { resultKey } from "../engine/row-key.js";
import type { EvalInfo, RowResult } from "../engine/types.js";
import { stackLocation } from "../report/format.js";
import type { EvalOutcome, Reporter } from "../report/reporter.js";
import type { ErrorSample } from "./state.js";

/** A row `f` should run again: it errored, a scorer failed, or a score fell below 1. */
export function isFailing(row: RowResult): boolean {
  if (row.error !== undefined || row.score_errors !== undefined) return true;
  for (const score of Object.values(row.scores)) if (score !== null && score < 1) return true;
  return false;
}

/** The watch screen's reporter for one run of one eval: progress, errored rows and the rows `f` would re-run. */
export class RunCollector implements Reporter {
  rows = 0;
  total: number | undefined;
  errorRows = 0;
  readonly errors: ErrorSample[] = [];
  readonly failing = new Map<string, number>();
  outcome: EvalOutcome | undefined;

  constructor(private readonly o: { cwd: string; maxErrorsShown: number; onProgress: () => void }) {}

  onEvalSize(ev: EvalInfo, rows: number): void {
    this.total = rows * ev.trialCount;
    this.o.onProgress();
  }

  onRow(_ev: EvalInfo, row: RowResult): void {
    this.rows++;
    if (isFailing(row)) {
      const key = resultKey(row.row_key, row.trial_index, row.row_index);
      this.failing.set(key, (this.failing.get(key) ?? 0) + 1);
    }
    if (row.error !== undefined || row.score_errors !== undefined) {
      this.errorRows++;
      if (this.errors.length < this.o.maxErrorsShown) this.errors.push(...this.samples(row));
    }
    this.o.onProgress();
  }

  private samples(row: RowResult): ErrorSample[] {
    const base = { row: row.row_index, id: row.row_id, trial: row.trial_index };
    if (row.error) {
      const where = stackLocation(row.error.stack, this.o.cwd);
      return [{ ...base, kind: row.error.kind, message: row.error.message, where }];
    }
    return Object.values(row.score_errors ?? {}).map((message) => ({
      ...base,
      kind: "score",
      message,
      where: undefined,
    }));
  }

  onEvalEnd(_ev: EvalInfo, _summary: unknown, outcome: EvalOutcome): void {
    this.outcome = outcome;
  }
}
