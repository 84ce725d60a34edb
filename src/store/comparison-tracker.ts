import type { ScoreMovement } from "../summary/comparison.js";
import type { Comparison } from "./compare.js";

interface BaseEntry {
  /** The baseline's trial-averaged value per score (only scores it had a number for). */
  means: Record<string, number>;
  /** This run's sums and counts per score, once it has results for the row. */
  sums: Record<string, number> | undefined;
  counts: Record<string, number> | undefined;
  seen: boolean;
}

const EPSILON = 1e-9;

/**
 * The comparison of compareExperiments(), computed as rows arrive instead of by a query at the end: the baseline's
 * per-row means are loaded once, each new result adds to its row's sums. Same definitions: rows match on row key,
 * values are averaged over trials (non-null numbers only), a matched row improved when its mean rose by more than
 * 1e-9. Memory grows with the baseline's rows (and rows not in it), so big baselines use the query instead.
 */
export class ComparisonTracker {
  private readonly base = new Map<string, BaseEntry>();
  private readonly onlyNew = new Set<string>();

  /** `rows`: the baseline's results (row key and scores). */
  constructor(rows: Iterable<{ key: string; scores: Record<string, number | null> }>) {
    const sums = new Map<string, { sum: Record<string, number>; n: Record<string, number> }>();
    for (const { key, scores } of rows) {
      let acc = sums.get(key);
      if (!acc) {
        acc = { sum: {}, n: {} };
        sums.set(key, acc);
      }
      for (const name in scores) {
        const value = scores[name];
        if (typeof value !== "number") continue;
        acc.sum[name] = (acc.sum[name] ?? 0) + value;
        acc.n[name] = (acc.n[name] ?? 0) + 1;
      }
    }
    for (const [key, acc] of sums) {
      const means: Record<string, number> = {};
      for (const name in acc.sum) means[name] = (acc.sum[name] as number) / (acc.n[name] as number);
      this.base.set(key, { means, sums: undefined, counts: undefined, seen: false });
    }
  }

  /** Rows of this run not in the baseline so far (distinct keys). */
  get unmatched(): number {
    return this.onlyNew.size;
  }

  add(key: string, scores: Record<string, number | null>): void {
    const entry = this.base.get(key);
    if (!entry) {
      this.onlyNew.add(key);
      return;
    }
    entry.seen = true;
    for (const name in scores) {
      const value = scores[name];
      if (typeof value !== "number") continue;
      entry.sums ??= {};
      entry.counts ??= {};
      entry.sums[name] = (entry.sums[name] ?? 0) + value;
      entry.counts[name] = (entry.counts[name] ?? 0) + 1;
    }
  }

  result(): Comparison {
    const scores: Record<string, ScoreMovement> = {};
    let onlyBase = 0;
    for (const entry of this.base.values()) {
      if (!entry.seen) {
        onlyBase++;
        continue;
      }
      if (!entry.sums || !entry.counts) continue;
      for (const name in entry.sums) {
        const before = entry.means[name];
        if (before === undefined) continue;
        const after = (entry.sums[name] as number) / (entry.counts[name] as number);
        scores[name] ??= { matched: 0, improvements: 0, regressions: 0 };
        const m = scores[name];
        m.matched++;
        if (after > before + EPSILON) m.improvements++;
        else if (after < before - EPSILON) m.regressions++;
      }
    }
    return { scores, onlyNew: this.onlyNew.size, onlyBase };
  }
}
