import { describe, expect, it } from "vitest";
import { checkRow, openData } from "../../src/engine/data.js";

async function drain(data: unknown): Promise<unknown[]> {
  const { iterator } = await openData(data, "Eval");
  const out: unknown[] = [];
  for (;;) {
    const next = await iterator.next();
    if (next.done) return out;
    out.push(next.value);
  }
}

describe("openData", () => {
  it("reports an array's size up front and nothing for streams", async () => {
    expect((await openData([{ input: 1 }], "E")).size).toBe(1);
    expect((await openData(() => [{ input: 1 }, { input: 2 }], "E")).size).toBe(2);
    expect((await openData(new Set([{ input: 1 }]), "E")).size).toBeUndefined();
  });

  it("does not read a generator ahead", async () => {
    let pulled = 0;
    function* rows() {
      for (let i = 0; i < 1_000_000; i++) {
        pulled++;
        yield { input: i };
      }
    }
    const { iterator } = await openData(rows, "E");
    await iterator.next();
    await iterator.next();
    expect(pulled).toBe(2);
  });

  it("rejects strings, numbers and objects that are not iterable", async () => {
    await expect(openData("abc", 'Eval "x"')).rejects.toThrow('Eval "x": `data` gave a string ("abc")');
    // An object names its keys and the likely one; a data file's path names its loader.
    const object = openData({ rows: [] }, 'Eval "x"');
    await expect(object).rejects.toThrow(
      "`data` gave an object with the keys rows, which is not a list of rows",
    );
    await expect(object).rejects.toMatchObject({
      hint: expect.stringContaining("(await loadJson(file)).rows"),
    });
    await expect(openData("data/rows.jsonl", 'Eval "x"')).rejects.toMatchObject({
      hint: expect.stringContaining('data: loadJsonl("data/rows.jsonl")'),
    });
    await expect(openData(async () => 5, 'Eval "x"')).rejects.toThrow("gave the number 5");
  });

  it("reports a throwing or rejecting data function", async () => {
    await expect(
      openData(() => {
        throw new Error("nope");
      }, "E"),
    ).rejects.toThrow("`data` threw before any row was read: Error: nope");
    await expect(openData(Promise.reject(new Error("later")), "E")).rejects.toThrow("Error: later");
  });

  it("reads every shape to the same rows", async () => {
    const rows = [{ input: 1 }, { input: 2 }];
    for (const data of [
      rows,
      () => rows,
      Promise.resolve(rows),
      new Set(rows),
      (async function* () {
        yield* rows;
      })(),
    ]) {
      expect(await drain(data)).toEqual(rows);
    }
  });
});

describe("checkRow", () => {
  it("accepts rows with input (even undefined) and optional fields", () => {
    expect(checkRow({ input: "x" }, 0)).toBeUndefined();
    expect(checkRow({ input: undefined }, 0)).toBeUndefined();
    expect(checkRow({ input: 1, expected: 2, metadata: { a: 1 }, tags: ["t"], id: "r1" }, 0)).toBeUndefined();
  });

  it("names the row and the field at fault", () => {
    expect(checkRow(null, 3)).toContain("Row 3 is null, not an object");
    expect(checkRow([1], 4)).toContain("Row 4 is an array of 1, not an object");
    expect(checkRow({ question: "q" }, 5)).toBe(
      'Row 5 has no `input` field (its fields: "question"); each row needs one.',
    );
    // A CSV header "id, input": the field list shows the space, and the message names the field meant.
    expect(checkRow({ id: "1", " input": " a" }, 0)).toBe(
      'Row 0 has no `input` field (its fields: "id", " input"); each row needs one. Its field " input" differs only in spaces or capitals: rename it `input` (in a CSV, in the header line).',
    );
    expect(checkRow({ input: 1, tags: ["a", 2] }, 7)).toContain("(item 1 is the number 2)");
    // The CSV hint is for rows read from a CSV (see the loaders' tests).
    expect(checkRow({ input: 1, metadata: "{}" }, 7)).not.toContain("CSV");
    expect(checkRow({ input: 1, metadata: [] }, 6)).toContain("Row 6 has `metadata` that is an array of 0");
    expect(checkRow({ input: 1, metadata: new Map([["a", 1]]) }, 6)).toBe(
      "Row 6 has `metadata` that is an instance of Map; it must be a plain object of fields.",
    );
    expect(checkRow({ input: 1, tags: "a" }, 7)).toContain(
      "Row 7 has `tags` that are not an array of strings",
    );
    expect(checkRow({ input: 1, id: {} }, 8)).toContain("Row 8 has an `id` that is an object");
    expect(checkRow({ input: 1, id: Number.NaN }, 9)).toBe(
      "Row 9 has an `id` that is NaN; it must be a string or a finite number.",
    );
  });

  it("takes null for metadata, tags and id as not given, and a number as an id", () => {
    expect(checkRow({ input: 1, metadata: null, tags: null, id: null }, 0)).toBeUndefined();
    expect(checkRow({ input: 1, id: 7 }, 0)).toBeUndefined();
  });
});
