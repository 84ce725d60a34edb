import { describe, expect, it } from "vitest";
import type { RowResult } from "../../src/engine/types.js";
import { encodeRows, SentBlobs } from "../../src/store/row-encoding.js";

function result(i: number, input: unknown, key = `h:${i}`): RowResult {
  return {
    id: `id-${i}`,
    input,
    output: input,
    expected: null,
    scores: { exact: i % 2, judge: null },
    metadata: { note: 'tab\there, quote " and NUL \u0000 inside JSON' },
    tags: [],
    metrics: { start: 1, end: 2, duration: 1 },
    row_key: key,
    row_index: i,
    trial_index: i % 3,
    ...(i === 2 ? { error: { kind: "task" as const, message: "boom" } } : {}),
  };
}

describe("rows encoded for insertion", () => {
  it("flattens each row to its ten values, with large values as blobs sent once per store", () => {
    const sent = new SentBlobs();
    const rows = [result(0, "small"), result(1, "x".repeat(400)), result(2, { big: "y".repeat(400) })];
    const encoded = encodeRows(rows, sent);
    expect(encoded.count).toBe(3);
    expect(encoded.values).toHaveLength(30);
    // row 2 errored; scores keep null; input and output of row 1 share one blob, as do row 2's.
    expect(encoded.values.slice(20, 25)).toEqual(["id-2", "h:2", 2, 2, 1]);
    expect(JSON.parse(encoded.values[25] as string)).toEqual({ exact: 0, judge: null });
    expect(encoded.values.slice(17, 20)).toEqual([encoded.values[17], encoded.values[17], null]);
    expect(encoded.blobs).toHaveLength(4);
  });

  it("each blob is sent once per store", () => {
    const sent = new SentBlobs();
    const big = "z".repeat(500);
    expect(encodeRows([result(0, big)], sent).blobs).toHaveLength(2);
    expect(encodeRows([result(1, big)], sent).blobs).toHaveLength(0);
  });
});
