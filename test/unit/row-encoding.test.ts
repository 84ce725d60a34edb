import { describe, expect, it } from "vitest";
import type { RowResult } from "../../src/engine/types.js";
import { decodeEvent, type EventRecord } from "../../src/store/events.js";
import {
  type EncodedRows,
  encodeRows,
  REFS_AT,
  SentBlobs,
  VALUES_PER_ROW,
} from "../../src/store/row-encoding.js";

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
  it("flattens each row to its thirteen values, with large values as blobs sent once per store", () => {
    const sent = new SentBlobs();
    const rows = [result(0, "small"), result(1, "x".repeat(400)), result(2, { big: "y".repeat(400) })];
    const encoded = encodeRows(rows, sent);
    expect(encoded.count).toBe(3);
    expect(encoded.values).toHaveLength(39);
    // row 2 errored; scores keep null; input and output of row 1 share one blob, as do row 2's.
    expect(encoded.values.slice(26, 31)).toEqual(["id-2", "h:2", 2, 2, 1]);
    expect(JSON.parse(encoded.values[31] as string)).toEqual({ exact: 0, judge: null });
    expect(encoded.values.slice(32, 35)).toEqual([1, 2, 1]);
    const refs = encoded.values.slice(13 + REFS_AT, 13 + REFS_AT + 3);
    expect(refs).toEqual([refs[0], refs[0], null]);
    expect(typeof refs[0]).toBe("string");
    expect(encoded.blobs).toHaveLength(4);
  });

  it("each blob is sent once per store", () => {
    const sent = new SentBlobs();
    const big = "z".repeat(500);
    expect(encodeRows([result(0, big)], sent).blobs).toHaveLength(2);
    expect(encodeRows([result(1, big)], sent).blobs).toHaveLength(0);
  });
});

/** What the store reads back for encoded row `i`: its columns, its event and its blobs, as the SELECT gives them. */
function readBack(encoded: EncodedRows, blobs: Map<string, string>, i: number): RowResult {
  const v = encoded.values.slice(i * VALUES_PER_ROW, (i + 1) * VALUES_PER_ROW);
  const blob = (ref: unknown) => (typeof ref === "string" ? (blobs.get(ref) ?? null) : null);
  const record: EventRecord = {
    id: v[0] as string,
    row_key: v[1] as string,
    row_index: v[2] as number,
    trial_index: v[3] as number,
    scores: v[5] as string,
    started: v[6] as number | null,
    ended: v[7] as number | null,
    duration: v[8] as number | null,
    event: v[9] as string | null,
    input: blob(v[10]),
    output: blob(v[11]),
    expected: blob(v[12]),
  };
  return decodeEvent(record);
}

describe("a writer's blobs (SentBlobs)", () => {
  const known = ["a", "b", "c", "d"];

  it("a re-run meeting the baseline's blobs in order sends none and references them in order", () => {
    const sent = new SentBlobs(known);
    expect(known.map((d) => sent.mustSend(d))).toEqual([false, false, false, false]);
    expect(sent.references()).toEqual(known);
  });

  it("out of order, or with new blobs, sends each new one once and lists each reference once", () => {
    const sent = new SentBlobs(known);
    const asked = ["a", "c", "x", "b", "x", "c", "y"].map((d) => sent.mustSend(d));
    expect(asked).toEqual([false, false, true, false, false, false, true]);
    expect(sent.references()).toEqual(["a", "c", "x", "b", "y"]);
  });

  it("with nothing known (a first run), sends each blob once and lists each reference once, up to its cap", () => {
    const sent = new SentBlobs([], 3);
    const asked = ["x", "y", "x", "z", "y"].map((d) => sent.mustSend(d));
    expect(asked).toEqual([true, true, false, true, false]);
    expect(sent.references()).toEqual(["x", "y", "z"]);
  });

  it("past its cap forgets what was sent (a re-send, never a lost blob) and gives up the reference list", () => {
    const sent = new SentBlobs([], 2);
    expect(["p", "q", "r", "p"].map((d) => sent.mustSend(d))).toEqual([true, true, true, true]);
    expect(sent.references()).toBeUndefined();
  });
});

describe("a result's columns and event JSON", () => {
  const base = result(0, "x");
  const cases: Array<[string, RowResult]> = [
    ["a plain row", base],
    [
      "scalars only: NaN, -0, 1e21, a boolean, null, nothing",
      { ...base, metadata: {}, tags: [], input: Number.NaN, output: true, expected: null },
    ],
    [
      "scalars only, again",
      { ...base, metadata: {}, tags: [], input: -0, output: 1e21, expected: undefined },
    ],
    ["strings with escapes only", { ...base, metadata: {}, tags: [], input: 'a "q" \n', output: "\u2028" }],
    ["no output (the task failed)", { ...base, output: undefined, error: { kind: "task", message: "boom" } }],
    [
      "metadata, tags and token metrics",
      {
        ...base,
        metadata: { a: [1, { b: null }] },
        tags: ["t"],
        metrics: { start: 1.5, end: 2.25, duration: 0.75, prompt_tokens: 3, tokens: 5 },
      },
    ],
    [
      "odd metrics (NaN, a string, missing)",
      {
        ...base,
        metrics: {
          start: Number.NaN,
          end: "soon",
          prompt_tokens: Infinity,
        } as unknown as RowResult["metrics"],
      },
    ],
    [
      "values JSON drops or converts",
      {
        ...base,
        input: { f: () => 1, u: undefined, d: new Date(0), n: -0 },
        output: [undefined, Number.NaN],
      },
    ],
    [
      "a BigInt and a cycle",
      (() => {
        const cyc: Record<string, unknown> = { n: 1n };
        cyc.self = cyc;
        return { ...base, output: cyc };
      })(),
    ],
    [
      "unknown fields, row_id, score errors",
      { ...base, row_id: "r", score_errors: { s: "bad" }, span_id: "sp", 'quote"key': 1 } as RowResult,
    ],
    [
      "row_id, error, score errors and metadata",
      {
        ...base,
        row_id: "r",
        error: { kind: "task", message: "x" },
        score_errors: { s: "bad" },
        score_metadata: { s: { why: 1 } },
      },
    ],
    [
      "large values as blobs",
      { ...base, input: "i".repeat(300), output: { big: "o".repeat(300) }, expected: "i".repeat(300) },
    ],
    [
      "string keys and escapes",
      { ...base, input: 'tab\t, quote " and \u2028', metadata: { "\n": "\u0000" } },
    ],
  ];
  // Engine-made rows take a faster path (engineEventText); both must read back the same.
  it.each(
    cases.flatMap(([name, row]) => [
      [name, row, false] as const,
      // The engine makes no fields of its own beyond RowResult's.
      ...(name.startsWith("unknown fields") ? [] : [[`${name}, as made by the engine`, row, true] as const]),
    ]),
  )("read back equal to the row's JSON: %s", (_name, row, engine) => {
    const sent = new SentBlobs();
    const encoded = encodeRows([row], sent, engine);
    const blobs = new Map<string, string>();
    for (let b = 0; b < encoded.blobs.length; b += 2)
      blobs.set(encoded.blobs[b] as string, encoded.blobs[b + 1] as string);
    const tolerant = (value: unknown) => {
      const seen = new WeakSet();
      return JSON.stringify(value, (_k, v) => {
        if (typeof v === "bigint") return Number(v);
        if (typeof v === "object" && v !== null) {
          if (seen.has(v)) return "[Circular]";
          seen.add(v);
        }
        return v;
      });
    };
    expect(readBack(encoded, blobs, 0)).toEqual(JSON.parse(tolerant(row)));
  });

  it.each([false, true])("keeps a plain large-valued row's event empty (null); engine-made: %s", (engine) => {
    const big = "b".repeat(300);
    const plain = { ...result(0, big), expected: big, metadata: {} };
    const encoded = encodeRows([plain, { ...plain, tags: ["t"] }], new SentBlobs(), engine);
    expect(encoded.values[9]).toBeNull();
    expect(encoded.values[VALUES_PER_ROW + 9]).toBe('{"tags":["t"]}');
  });
});
