import { describe, expect, it } from "vitest";
import type { RowResult } from "../../src/engine/types.js";
import { EvalAggregate } from "../../src/summary/aggregate.js";
import { percentile, summarize } from "../../src/summary/summarize.js";

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

describe("percentile (nearest rank)", () => {
  it("picks the value at ceil(p% × n)", () => {
    const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 95)).toBe(10);
    expect(percentile(sorted, 100)).toBe(10);
    expect(percentile(Float64Array.from([7]), 50)).toBe(7);
    expect(percentile(new Float64Array(0), 95)).toBe(0);
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
