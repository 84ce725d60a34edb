import type { RowResult } from "../engine/types.js";
import { kthSmallest } from "./select.js";

/**
 * Up to this many durations are sorted (natively) for their percentiles rather than selected: a run's two
 * quickselects run before V8 has compiled them, 4-9 ms for 10,000 durations against ~0.9 ms for one sort; at
 * 1,000,000 the sort takes 136-171 ms against 56-61.
 */
const SORT_UP_TO = 100_000;

interface ScoreTotals {
  sum: number;
  /** Neumaier compensation: the low-order bits `sum` lost, so the total barely depends on the order rows finish. */
  carry: number;
  scored: number;
  errors: number;
  /** False for a name only pre-registered from a scorer's function name that no result has used yet. */
  seen: boolean;
}

/**
 * Running totals of an eval's results, so a summary never needs the rows themselves (a million-row run keeps
 * only these numbers and one duration per row).
 */
export class EvalAggregate {
  rows = 0;
  erroredRows = 0;
  taskErrors = 0;
  timeouts = 0;
  dataErrors = 0;
  /** Rows where at least one scorer errored (the task succeeded). */
  scorerErrorRows = 0;
  readonly scores = new Map<string, ScoreTotals>();
  /** Token counts LLM calls reported for the rows (see define/usage.ts); all 0 when none did. */
  readonly tokens = { prompt_tokens: 0, completion_tokens: 0, tokens: 0 };
  private durations = new Float64Array(1024);
  private oddDurations = false;
  /** A copy of the durations, sorted or reordered by kthSmallest(); dropped when a row is added. */
  private scratch: Float64Array | undefined;
  startedAt = Date.now();
  endedAt: number | undefined;

  /** `scorerNames` fixes the order scores are listed in; names scorers return are added as they appear. */
  constructor(scorerNames: readonly string[] = []) {
    for (const name of scorerNames)
      this.scores.set(name, { sum: 0, carry: 0, scored: 0, errors: 0, seen: false });
  }

  private totals(name: string): ScoreTotals {
    let totals = this.scores.get(name);
    if (!totals) {
      totals = { sum: 0, carry: 0, scored: 0, errors: 0, seen: true };
      this.scores.set(name, totals);
    }
    totals.seen = true;
    return totals;
  }

  add(row: RowResult): void {
    if (this.rows === this.durations.length) {
      const grown = new Float64Array(this.durations.length * 2);
      grown.set(this.durations);
      this.durations = grown;
    }
    const duration = row.metrics.duration;
    if (Number.isNaN(duration)) this.oddDurations = true;
    this.durations[this.rows++] = duration;
    this.scratch = undefined;
    const m = row.metrics;
    if (m.tokens !== undefined) {
      this.tokens.prompt_tokens += m.prompt_tokens ?? 0;
      this.tokens.completion_tokens += m.completion_tokens ?? 0;
      this.tokens.tokens += m.tokens;
    }
    if (row.error) {
      this.erroredRows++;
      if (row.error.kind === "timeout") this.timeouts++;
      else if (row.error.kind === "data") this.dataErrors++;
      else this.taskErrors++;
    } else if (row.score_errors) {
      this.erroredRows++;
      this.scorerErrorRows++;
    }
    for (const name in row.scores) {
      const value = row.scores[name];
      const totals = this.totals(name);
      if (typeof value === "number") {
        const next = totals.sum + value;
        totals.carry +=
          Math.abs(totals.sum) >= Math.abs(value) ? totals.sum - next + value : value - next + totals.sum;
        totals.sum = next;
        totals.scored++;
      }
    }
    if (row.score_errors)
      // The handler's own failure is the row's error (listed with it), not a score of the eval.
      for (const name in row.score_errors) if (name !== "errorScoreHandler") this.totals(name).errors++;
  }

  finish(): void {
    this.endedAt ??= Date.now();
  }

  /** The nearest-rank percentile `p` of the per-row durations, in seconds (0 without rows). */
  durationPercentile(p: number): number {
    const n = this.rows;
    if (n === 0) return 0;
    const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
    // A NaN duration (a stored row without one) is ranked as sorting ranks it: last; quickselect cannot rank one.
    const sorted = this.oddDurations || n <= SORT_UP_TO;
    if (this.scratch === undefined) {
      this.scratch = this.durations.slice(0, n);
      if (sorted) this.scratch.sort();
    }
    return sorted ? (this.scratch[rank - 1] as number) : kthSmallest(this.scratch, rank - 1);
  }
}
