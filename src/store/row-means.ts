import type { ScoreMovement } from "../summary/comparison.js";
import { stable } from "../summary/stable.js";
import type { Comparison } from "./compare.js";
import type { ScoreRows } from "./paired.js";

const EPSILON = 1e-9;

/** Cells (score names × rows) past which mostly empty columns are not kept (see RowMeans.oversized). */
export const CELL_LIMIT = 4_000_000;
/** Cells past which no columns are kept: 512 MB of them. */
const CELL_CEILING = 64_000_000;

/** Whether the first `n` values of two columns are the same bits (compared natively). */
function sameBytes(a: Float64Array, b: Float64Array, n: number): boolean {
  return Buffer.from(a.buffer, a.byteOffset, n * 8).equals(Buffer.from(b.buffer, b.byteOffset, n * 8));
}

/** How many values are NaN (not scored); 0 without a loop when none is. */
function countNaN(values: Float64Array): number {
  if (!values.includes(Number.NaN)) return 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) count++;
  return count;
}

/** What RowMeans stores (row_index.means): per score, each row key's trial-averaged value, null when unscored. */
export interface RowMeansJson {
  keys: string[];
  scores: Record<string, Array<number | null>>;
}

/**
 * Each row key's scores averaged over its trials (non-null numbers only), in typed arrays: about 30 bytes a row,
 * where an object per row costs hundreds, and cheap to turn into one JSON value and back.
 *
 * Results are appended as they come, with no lookup by key: a Map of 100,000 keys cost ~2 us a result. Keys are
 * made distinct (trials averaged) only when asked, and not at all when they are the baseline's keys in the
 * baseline's order, the usual re-run of the same data: then each key is already distinct, and rows match by position.
 */
export class RowMeans {
  private keys: string[] = [];
  /** Per score, each slot's value (one result's until settled, then the key's mean); NaN: none. */
  private values = new Map<string, Float64Array>();
  private capacity = 1024;
  /** Whether each key has one slot (its values then are means). */
  private distinct = true;
  private index: Map<string, number> | undefined;
  /** The baseline key list (and its length) these keys were last found equal to, position by position. */
  private alignedTo: { keys: string[]; length: number } | undefined;
  /** Once settled by grouping, per score, how many results each slot's mean averages; undefined: one each. */
  private counts: Map<string, Uint32Array> | undefined;

  /** Slots: results added, or distinct row keys once settled. */
  get size(): number {
    return this.keys.length;
  }

  /** Scores added (numbers): how much of the dense columns (score names × rows) is not empty. */
  private filled = 0;

  /**
   * Too big to keep as dense columns: past CELL_LIMIT cells mostly empty (a score name per category, each row scored
   * under one), or past CELL_CEILING whatever they hold. Dense scores (300 scorers on every row) are what the index
   * is for: the SQL that replaces it pairs rows in a join that took minutes at that size.
   */
  get oversized(): boolean {
    // Memory is what is allocated; sparseness is of the rows added (the first 1,024 slots are allocated at once,
    // and 4,000 dense score names on 200 rows were taken for mostly empty columns).
    const used = this.values.size * this.keys.length;
    return this.values.size * this.capacity > CELL_CEILING || (used > CELL_LIMIT && this.filled * 8 < used);
  }

  private grow(): void {
    this.capacity *= 2;
    for (const [name, values] of this.values) {
      const bigger = new Float64Array(this.capacity).fill(Number.NaN);
      bigger.set(values);
      this.values.set(name, bigger);
    }
  }

  private column(name: string): Float64Array {
    let values = this.values.get(name);
    if (!values) {
      values = new Float64Array(this.capacity).fill(Number.NaN);
      this.values.set(name, values);
    }
    return values;
  }

  /** Adds one result (one trial of a row). */
  add(key: string, scores: Record<string, number | null>): void {
    const i = this.keys.length;
    this.keys.push(key);
    if (i >= this.capacity) this.grow();
    this.distinct = false;
    this.index = undefined;
    this.alignedTo = undefined;
    for (const name in scores) {
      const value = scores[name];
      if (typeof value === "number") {
        this.column(name)[i] = value;
        this.filled++;
      }
    }
  }

  /** Same keys in the same order as `base`. */
  private sameKeysAs(base: RowMeans): boolean {
    if (this.alignedTo?.keys === base.keys && this.alignedTo.length === base.keys.length) return true;
    if (base.keys.length !== this.keys.length) return false;
    const keys = this.keys;
    const other = base.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== other[i]) return false;
    this.alignedTo = { keys: other, length: other.length };
    return true;
  }

  /** Whether these (settled) keys are `base`'s, in its order. */
  sameKeys(base: RowMeans): boolean {
    this.settle(base);
    return this.sameKeysAs(base);
  }

  /** Makes each key one slot holding its means; `base` first, to skip the work when the keys are aligned with it. */
  settle(base?: RowMeans): void {
    if (this.distinct) return;
    base?.settle();
    // The baseline's keys are distinct: the same keys in the same order are too.
    if (base && this.sameKeysAs(base)) {
      this.distinct = true;
      return;
    }
    const slots = new Map<string, number>();
    const keys: string[] = [];
    const order = new Int32Array(this.keys.length);
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i] as string;
      let slot = slots.get(key);
      if (slot === undefined) {
        slot = keys.length;
        slots.set(key, slot);
        keys.push(key);
      }
      order[i] = slot;
    }
    let capacity = 1024;
    while (capacity < keys.length) capacity *= 2;
    const values = new Map<string, Float64Array>();
    const allCounts = new Map<string, Uint32Array>();
    for (const [name, column] of this.values) {
      const sums = new Float64Array(capacity);
      const counts = new Uint32Array(capacity);
      allCounts.set(name, counts);
      for (let i = 0; i < this.keys.length; i++) {
        const value = column[i] as number;
        if (Number.isNaN(value)) continue;
        const slot = order[i] as number;
        sums[slot] = (sums[slot] as number) + value;
        counts[slot] = (counts[slot] as number) + 1;
      }
      for (let slot = 0; slot < capacity; slot++) {
        sums[slot] = counts[slot] ? (sums[slot] as number) / (counts[slot] as number) : Number.NaN;
      }
      values.set(name, sums);
    }
    this.keys = keys;
    this.alignedTo = undefined;
    this.values = values;
    this.counts = allCounts;
    this.capacity = capacity;
    this.distinct = true;
    this.index = slots;
  }

  toJSON(): RowMeansJson {
    this.settle();
    const scores: RowMeansJson["scores"] = {};
    const n = this.keys.length;
    for (const [name, values] of this.values) {
      const used = values.subarray(0, n);
      // A column with every row scored is copied natively: this runs once per eval, before V8 has compiled it.
      if (!used.includes(Number.NaN)) {
        scores[name] = Array.from(used);
        continue;
      }
      const column: Array<number | null> = new Array(n);
      for (let i = 0; i < n; i++) {
        const value = values[i] as number;
        column[i] = Number.isNaN(value) ? null : value;
      }
      scores[name] = column;
    }
    return { keys: this.keys, scores };
  }

  /** Means written by toJSON(): their keys are distinct. */
  static fromJSON(json: RowMeansJson): RowMeans {
    const means = new RowMeans();
    while (means.capacity < json.keys.length) means.capacity *= 2;
    means.keys = json.keys;
    for (const [name, column] of Object.entries(json.scores)) {
      const values = means.column(name);
      // Every row scored (finite numbers only): copied natively, as the loop below would.
      if (column.length <= values.length && column.every(Number.isFinite)) {
        values.set(column as number[]);
        continue;
      }
      for (let i = 0; i < column.length; i++) {
        const value = column[i];
        if (typeof value === "number") values[i] = value;
      }
    }
    return means;
  }

  /**
   * For each of these (settled) row keys, its slot in `base` (-1 when `base` lacks it); null when the keys are
   * `base`'s in its order, each matching its own position.
   */
  matchesIn(base: RowMeans): Int32Array | null {
    this.settle(base);
    base.settle();
    if (this.sameKeysAs(base)) return null;
    if (!base.index) {
      base.index = new Map();
      for (let j = 0; j < base.keys.length; j++) base.index.set(base.keys[j] as string, j);
    }
    const index = base.index;
    const matches = new Int32Array(this.keys.length);
    for (let i = 0; i < this.keys.length; i++) matches[i] = index.get(this.keys[i] as string) ?? -1;
    return matches;
  }

  /**
   * Per score, each row's mean and, with a baseline, its paired difference: what the gates' intervals need,
   * rounded as scoreRows() rounds the same values grouped by SQLite. Typed arrays, not pushes: this runs once per
   * eval, mostly before V8 has compiled it, where each call and push costs.
   */
  scoreRows(
    base: RowMeans | undefined,
    matches = base ? this.matchesIn(base) : null,
  ): Map<string, ScoreRows> {
    this.settle(base);
    const n = this.keys.length;
    const byScore = new Map<string, ScoreRows>();
    for (const [name, column] of this.values) {
      const values = new Float64Array(n);
      const diffs = new Float64Array(n);
      const counts = this.counts?.get(name);
      const weights = counts && new Uint32Array(n);
      let nv = 0;
      let nd = 0;
      const baseColumn = base?.values.get(name);
      for (let i = 0; i < n; i++) {
        const mean = column[i] as number;
        if (Number.isNaN(mean)) continue; // not scored
        // stable() leaves small integers (most scores: 0 or 1) as they are, -0 as 0.
        const after = (mean | 0) === mean ? mean + 0 : stable(mean);
        if (weights) weights[nv] = counts[i] as number;
        values[nv++] = after;
        if (baseColumn === undefined) continue;
        const j = matches === null ? i : (matches[i] as number);
        if (j < 0) continue;
        const before = baseColumn[j] as number;
        if (Number.isNaN(before)) continue;
        const diff = (before | 0) === before ? after - before : after - stable(before);
        diffs[nd++] = (diff | 0) === diff ? diff + 0 : stable(diff);
      }
      if (nv > 0)
        byScore.set(name, {
          values: values.subarray(0, nv),
          diffs: diffs.subarray(0, nd),
          weights: weights?.subarray(0, nv),
        });
    }
    return byScore;
  }

  /**
   * How these rows moved against `base`'s: rows match on key, a matched row improved when its mean rose by more
   * than 1e-9 and regressed when it fell by more (the definitions of compareExperiments()).
   */
  compareWith(base: RowMeans, matches = this.matchesIn(base)): Comparison {
    this.settle(base);
    let onlyNew = 0;
    const matched = new Uint8Array(base.size);
    if (matches === null) matched.fill(1);
    else {
      for (let i = 0; i < this.keys.length; i++) {
        const j = matches[i] as number;
        if (j < 0) onlyNew++;
        else matched[j] = 1;
      }
    }
    const scores: Record<string, ScoreMovement> = {};
    const n = this.keys.length;
    for (const [name, after] of this.values) {
      const before = base.values.get(name);
      if (!before) continue;
      // The same values at the same places (a re-run that changed nothing): no row moved.
      if (matches === null && n <= before.length && sameBytes(after, before, n)) {
        const paired = n - countNaN(after.subarray(0, n));
        if (paired > 0) scores[name] = { matched: paired, improvements: 0, regressions: 0 };
        continue;
      }
      // Counts in locals, not an object's fields: this loop runs once per eval, mostly before V8 optimises it,
      // where each property update costs (W2's two scores: 5.1-7.5 ms before, 4.4-5.7 ms after).
      let paired = 0;
      let improvements = 0;
      let regressions = 0;
      for (let i = 0; i < n; i++) {
        const j = matches === null ? i : (matches[i] as number);
        if (j < 0) continue;
        const a = after[i] as number;
        const b = before[j] as number;
        if (Number.isNaN(a) || Number.isNaN(b)) continue;
        paired++;
        if (a > b + EPSILON) improvements++;
        else if (a < b - EPSILON) regressions++;
      }
      if (paired > 0) scores[name] = { matched: paired, improvements, regressions };
    }
    let onlyBase = 0;
    for (let j = 0; j < base.size; j++) if (matched[j] === 0) onlyBase++;
    return { scores, matchedRows: this.keys.length - onlyNew, onlyNew, onlyBase };
  }
}
