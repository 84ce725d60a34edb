import { describe, expect, it } from "vitest";
import type { RowResult } from "../../src/engine/types.js";
import { EvalAggregate } from "../../src/summary/aggregate.js";
import { kthSmallest } from "../../src/summary/select.js";
import { summarize } from "../../src/summary/summarize.js";
import { random } from "../helpers/random.js";

function row(fields: Partial<RowResult>): RowResult {
  return {
    id: "x",
    input: 1,
    scores: {},
    metadata: {},
    tags: [],
    metrics: { start: 0, end: 0, duration: 0.01 },
    row_key: "h:0",
    row_index: 0,
    trial_index: 0,
    ...fields,
  };
}

describe("duration percentiles (nearest rank)", () => {
  const aggregateOf = (durations: number[]) => {
    const agg = new EvalAggregate([]);
    for (const duration of durations) agg.add(row({ metrics: { start: 0, end: 0, duration } }));
    return agg;
  };

  it("picks the value at ceil(p% × n)", () => {
    const agg = aggregateOf([10, 3, 7, 1, 5, 9, 2, 8, 6, 4]);
    expect([50, 95, 100, 1].map((p) => agg.durationPercentile(p))).toEqual([5, 10, 10, 1]);
    expect(aggregateOf([7]).durationPercentile(50)).toBe(7);
    expect(aggregateOf([]).durationPercentile(95)).toBe(0);
    // A row added after a percentile was asked for counts.
    agg.add(row({ metrics: { start: 0, end: 0, duration: 0.5 } }));
    expect(agg.durationPercentile(1)).toBe(0.5);
  });

  /** Up to `most` durations drawn from few distinct values, so that many repeat. */
  const someDurations = (rand: () => number, most: number): number[] => {
    const spread = 1 + Math.floor(rand() * 40);
    return Array.from({ length: 1 + Math.floor(rand() * most) }, () => Math.floor(rand() * spread) / 8);
  };
  const nearestRank = (p: number, n: number) => Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));

  it("agrees with sorting, for any order, repeated values, and NaN (ranked last)", () => {
    const rand = random(7);
    for (let trial = 0; trial < 200; trial++) {
      const values = someDurations(rand, 300);
      if (trial % 10 === 0) values[Math.floor(rand() * values.length)] = Number.NaN;
      const sorted = Float64Array.from(values).sort();
      const agg = aggregateOf(values);
      for (const p of [1, 25, 50, 90, 95, 99, 100]) {
        expect(agg.durationPercentile(p)).toBe(sorted[nearestRank(p, values.length) - 1]);
      }
    }
  });

  it("selects (quickselect) what sorting would rank, for any order and repeated values", () => {
    const rand = random(11);
    for (let trial = 0; trial < 200; trial++) {
      const values = Float64Array.from(someDurations(rand, 500));
      const sorted = values.slice().sort();
      const k = Math.floor(rand() * values.length);
      expect(kthSmallest(values.slice(), k)).toBe(sorted[k]);
    }
  });

  it("past 100,000 durations selects instead of sorting, with the same answers", () => {
    const rand = random(3);
    const values = Array.from({ length: 120_001 }, () => Math.floor(rand() * 5000) / 1000);
    const sorted = Float64Array.from(values).sort();
    const agg = aggregateOf(values);
    for (const p of [1, 50, 95, 100]) {
      expect(agg.durationPercentile(p)).toBe(sorted[nearestRank(p, values.length) - 1]);
    }
  });
});

describe("summarize", () => {
  it("averages each score over non-null values and counts errors once per row", () => {
    const agg = new EvalAggregate(["exact", "neverUsed"]);
    agg.add(row({ scores: { exact: 1, judge: 0.5 }, metrics: { start: 0, end: 0, duration: 0.1 } }));
    agg.add(row({ scores: { exact: 0, judge: null }, metrics: { start: 0, end: 0, duration: 0.3 } }));
    agg.add(row({ error: { kind: "task", message: "boom" }, metrics: { start: 0, end: 0, duration: 0.2 } }));
    agg.add(row({ scores: { exact: 1 }, score_errors: { judge: "bad", other: "bad" } }));
    agg.add(row({ error: { kind: "timeout", message: "slow" } }));
    agg.finish();
    const summary = summarize(agg, { projectName: "p", experimentName: "e" });
    expect(summary.project_name).toBe("p");
    expect(summary.experiment_name).toBe("e");
    expect(Object.keys(summary.scores)).toEqual(["exact", "judge", "other"]); // given order first; unused names left out
    expect(summary.scores.exact).toEqual({
      name: "exact",
      score: 0.666666666667, // 2/3 to 12 significant digits
      diff: null,
      improvements: 0,
      regressions: 0,
      scored: 3,
      errors: 0,
    });
    expect(summary.scores.judge).toMatchObject({ score: 0.5, scored: 1, errors: 1 });
    expect(summary.scores.other).toMatchObject({ score: null, scored: 0, errors: 1 });
    expect(summary.metrics.rows.metric).toBe(5);
    expect(summary.metrics.errors.metric).toBe(3);
    expect(agg.taskErrors).toBe(1);
    expect(agg.timeouts).toBe(1);
    expect(agg.scorerErrorRows).toBe(1);
    expect(summary.metrics.duration_p50.metric).toBe(0.1); // sorted 0.01, 0.01, 0.1, 0.2, 0.3
    expect(summary.metrics.duration_p95.metric).toBe(0.3);
  });

  it("gives the same means whatever order the rows finish in", () => {
    const values = Array.from({ length: 997 }, (_, i) => ((i * 7919) % 1000) / 1000 + 1e-7 * (i % 13));
    const orders = [
      values,
      [...values].reverse(),
      [...values].sort((a, b) => a - b),
      [...values].sort((a, b) => b - a),
      values.filter((_, i) => i % 2 === 0).concat(values.filter((_, i) => i % 2 === 1)),
    ];
    const means = new Set<number | null>();
    for (const order of orders) {
      const agg = new EvalAggregate();
      for (const v of order) agg.add(row({ scores: { s: v } }));
      means.add(summarize(agg, { projectName: "p", experimentName: "e" }).scores.s?.score ?? null);
    }
    expect(means.size).toBe(1);
  });

  it("grows past its initial duration buffer", () => {
    const agg = new EvalAggregate();
    for (let i = 1; i <= 5000; i++) agg.add(row({ metrics: { start: 0, end: 0, duration: i } }));
    const summary = summarize(agg, { projectName: "p", experimentName: "e" });
    expect(summary.metrics.rows.metric).toBe(5000);
    expect(summary.metrics.duration_p50.metric).toBe(2500);
    expect(summary.metrics.duration_p95.metric).toBe(4750);
  });
});
