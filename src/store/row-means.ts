import type { ScoreMovement } from "../summary/comparison.js";
import { stable } from "../summary/stable.js";
import type { Comparison } from "./compare.js";
import type { ScoreRows } from "./paired.js";

const EPSILON = 1e-9;

/** What RowMeans stores (row_index.means): per score, each row key's trial-averaged value, null when unscored. */
export interface RowMeansJson {
  keys: string[];
  scores: Record<string, Array<number | null>>;
}

/**
 * Each row key's scores averaged over its trials (non-null numbers only), in typed arrays indexed by key: about
 * 30 bytes a row, where an object per row costs hundreds, and cheap to turn into one JSON value and back.
 */
export class RowMeans {
  private readonly index = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly sums = new Map<string, Float64Array>();
  private readonly counts = new Map<string, Uint32Array>();
  private capacity = 1024;

  get size(): number {
    return this.keys.length;
  }

  private slot(key: string): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.keys.length;
      this.keys.push(key);
      this.index.set(key, i);
      if (i >= this.capacity) this.grow();
    }
    return i;
  }

  private grow(): void {
    this.capacity *= 2;
    for (const [name, sums] of this.sums) {
      const bigger = new Float64Array(this.capacity);
      bigger.set(sums);
      this.sums.set(name, bigger);
      const counts = new Uint32Array(this.capacity);
      counts.set(this.counts.get(name) as Uint32Array);
      this.counts.set(name, counts);
    }
  }

  private column(name: string): [Float64Array, Uint32Array] {
    let sums = this.sums.get(name);
    let counts = this.counts.get(name);
    if (!sums || !counts) {
      sums = new Float64Array(this.capacity);
      counts = new Uint32Array(this.capacity);
      this.sums.set(name, sums);
      this.counts.set(name, counts);
    }
    return [sums, counts];
  }

  /** Adds one result (one trial of a row). */
  add(key: string, scores: Record<string, number | null>): void {
    const i = this.slot(key);
    for (const name in scores) {
      const value = scores[name];
      if (typeof value !== "number") continue;
      const [sums, counts] = this.column(name);
      sums[i] = (sums[i] as number) + value;
      counts[i] = (counts[i] as number) + 1;
    }
  }

  /** The mean of `name` for key slot `i`, or undefined when that row has no value for it. */
  private mean(name: string, i: number): number | undefined {
    const counts = this.counts.get(name);
    const n = counts?.[i];
    if (!n) return undefined;
    return ((this.sums.get(name) as Float64Array)[i] as number) / n;
  }

  toJSON(): RowMeansJson {
    const scores: RowMeansJson["scores"] = {};
    for (const name of this.sums.keys()) {
      const column: Array<number | null> = new Array(this.keys.length);
      for (let i = 0; i < this.keys.length; i++) column[i] = this.mean(name, i) ?? null;
      scores[name] = column;
    }
    return { keys: this.keys, scores };
  }

  static fromJSON(json: RowMeansJson): RowMeans {
    const means = new RowMeans();
    while (means.capacity < json.keys.length) means.capacity *= 2;
    for (const key of json.keys) means.slot(key);
    for (const [name, column] of Object.entries(json.scores)) {
      const [sums, counts] = means.column(name);
      for (let i = 0; i < column.length; i++) {
        const value = column[i];
        if (typeof value !== "number") continue;
        sums[i] = value;
        counts[i] = 1;
      }
    }
    return means;
  }

  /** For each of these row keys, its slot in `base`, or undefined when `base` lacks it. */
  matchesIn(base: RowMeans): Array<number | undefined> {
    return this.keys.map((key) => base.index.get(key));
  }

  /** The comparison and the per-row values against `base` at once, matching the rows once. */
  against(base: RowMeans): { comparison: Comparison; rows: Map<string, ScoreRows> } {
    const matches = this.matchesIn(base);
    return { comparison: this.compareWith(base, matches), rows: this.scoreRows(base, matches) };
  }

  /**
   * Per score, each row's mean and, with a baseline, its paired difference: what the gates' intervals need,
   * rounded as scoreRows() rounds the same values grouped by SQLite.
   */
  scoreRows(
    base: RowMeans | undefined,
    matches = base ? this.matchesIn(base) : undefined,
  ): Map<string, ScoreRows> {
    const byScore = new Map<string, ScoreRows>();
    for (const name of this.sums.keys()) {
      const entry: ScoreRows = { values: [], diffs: [] };
      for (let i = 0; i < this.keys.length; i++) {
        const mean = this.mean(name, i);
        if (mean === undefined) continue;
        const after = stable(mean);
        entry.values.push(after);
        const j = matches?.[i];
        const before = j === undefined ? undefined : base?.mean(name, j);
        if (before !== undefined) entry.diffs.push(stable(after - stable(before)));
      }
      if (entry.values.length > 0) byScore.set(name, entry);
    }
    return byScore;
  }

  /**
   * How these rows moved against `base`'s: rows match on key, a matched row improved when its mean rose by more
   * than 1e-9 and regressed when it fell by more (the definitions of compareExperiments()).
   */
  compareWith(base: RowMeans, matches = this.matchesIn(base)): Comparison {
    const scores: Record<string, ScoreMovement> = {};
    let onlyNew = 0;
    const matched = new Uint8Array(base.size);
    for (let i = 0; i < this.keys.length; i++) {
      const j = matches[i];
      if (j === undefined) {
        onlyNew++;
        continue;
      }
      matched[j] = 1;
      for (const name of this.sums.keys()) {
        const after = this.mean(name, i);
        const before = base.mean(name, j);
        if (after === undefined || before === undefined) continue;
        scores[name] ??= { matched: 0, improvements: 0, regressions: 0 };
        const m = scores[name];
        m.matched++;
        if (after > before + EPSILON) m.improvements++;
        else if (after < before - EPSILON) m.regressions++;
      }
    }
    let onlyBase = 0;
    for (let j = 0; j < base.size; j++) if (matched[j] === 0) onlyBase++;
    return { scores, onlyNew, onlyBase };
  }
}
