import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { setDependencyListener } from "../../src/define/dependencies.js";
import { isEvalrunError } from "../../src/define/errors.js";
import { jsonErrorOffset, lineAndColumn } from "../../src/define/json-position.js";
import { loadCsv, loadJson, loadJsonl } from "../../src/define/loaders.js";
import { checkRow } from "../../src/engine/data.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-loaders-"));
function file(name: string, content: string): string {
  const full = path.join(dir, name);
  writeFileSync(full, content);
  return full;
}

async function failure(promise: Promise<unknown>): Promise<{ message: string; hint: string | undefined }> {
  try {
    await promise;
  } catch (error) {
    if (!isEvalrunError(error)) throw error;
    expect(error.code).toBe("BAD_DATA");
    return { message: error.message, hint: error.hint };
  }
  throw new Error("expected the loader to fail");
}

afterEach(() => setDependencyListener(undefined));

describe("loadJsonl", () => {
  it("reads one value per line, skipping blank lines, from a path or a file URL", async () => {
    const rows = file("rows.jsonl", '\uFEFF{"input":"a","expected":1}\n\n{"input":"b"}\r\n');
    expect(await loadJsonl(rows)).toEqual([{ input: "a", expected: 1 }, { input: "b" }]);
    expect(await loadJsonl(pathToFileURL(rows))).toHaveLength(2);
  });

  it("names the file, line and column of a malformed line", async () => {
    const bad = file("bad.jsonl", '{"input":"a"}\n{"input":"b",}\n');
    const { message, hint } = await failure(loadJsonl(bad));
    expect(message).toMatch(
      /bad\.jsonl:2:14: line 2 is not valid JSON \(Expected double-quoted property name\)\./,
    );
    expect(hint).toContain("one JSON value");
  });

  it("says when the file does not exist, and how relative paths resolve", async () => {
    const { message, hint } = await failure(loadJsonl(path.join(dir, "missing.jsonl")));
    expect(message).toContain("loadJsonl could not read");
    expect(message).toContain("it does not exist");
    expect(hint).toContain("current directory");
  });

  it("never counts as an unhandled rejection while the eval has not awaited it yet", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const pending = loadJsonl(path.join(dir, "missing.jsonl"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
    await expect(pending).rejects.toThrow("does not exist");
  });

  it("reports each file it reads (watch mode's data dependencies), even one it cannot read", async () => {
    const noted: string[] = [];
    setDependencyListener((f) => noted.push(f));
    const rows = file("noted.jsonl", '{"input":1}\n');
    await loadJsonl(rows);
    await loadJsonl(path.join(dir, "absent.jsonl")).catch(() => {});
    expect(noted).toEqual([rows, path.join(dir, "absent.jsonl")]);
  });
});

describe("every loader", () => {
  it("reads its file only when awaited: worker threads that import the eval file never read it", async () => {
    const later = path.join(dir, "later.jsonl");
    const pending = loadJsonl(later);
    writeFileSync(later, '{"input":"written after the call"}\n');
    expect(await pending).toEqual([{ input: "written after the call" }]);
    // Still a Promise to code that checks.
    expect(pending).toBeInstanceOf(Promise);
    expect((await import("node:util")).types.isPromise(pending)).toBe(true);
    // Read once, however often awaited.
    writeFileSync(later, '{"input":"changed"}\n');
    expect(await pending).toEqual([{ input: "written after the call" }]);
  });

  it("reads UTF-16 with a byte-order mark, and any encoding it is given", async () => {
    const utf16 = path.join(dir, "utf16.csv");
    writeFileSync(
      utf16,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("input,expected\r\ncafé,x\r\n", "utf16le")]),
    );
    expect(await loadCsv(utf16)).toEqual([{ input: "café", expected: "x" }]);
    const latin = path.join(dir, "latin.jsonl");
    writeFileSync(latin, Buffer.from('{"input":"a"}\n{"input":"caf\u00e9"}\n', "latin1"));
    expect(await loadJsonl(latin, { encoding: "windows-1252" })).toEqual([{ input: "a" }, { input: "café" }]);
  });

  it("refuses text that is not UTF-8 instead of changing its letters, naming the line and the encoding to pass", async () => {
    // Excel's plain "CSV" on Windows: Windows-1252, where "é" is one byte that UTF-8 would read as U+FFFD.
    const excel = path.join(dir, "excel.csv");
    writeFileSync(excel, Buffer.from("input,expected\ntea,tea\ncaf\u00e9,caf\u00e9\n", "latin1"));
    const { message, hint } = await failure(loadCsv(excel));
    expect(message).toContain("excel.csv:3 is not UTF-8 text (line 3 has a byte that is not)");
    expect(hint).toContain('loadCsv(file, { encoding: "windows-1252" })');
    // UTF-8 elsewhere, with an emoji cut short: not Windows-1252, which would misread every "é".
    const cut = path.join(dir, "cut.jsonl");
    writeFileSync(
      cut,
      Buffer.concat([
        Buffer.from('{"input":"café"}\n{"input":"naïve '),
        Buffer.from([0xf0, 0x9f, 0x98]),
        Buffer.from('"}\n'),
      ]),
    );
    const cutShort = await failure(loadJsonl(cut));
    expect(cutShort.message).toContain(
      "cut.jsonl:2: line 2 holds bytes that are not UTF-8, in a file that is UTF-8 elsewhere",
    );
    expect(cutShort.hint).toContain('loadJsonl(file, { encoding: "utf-8" })');
    expect((await loadJsonl(cut, { encoding: "utf-8" }))[1]).toEqual({ input: "naïve \uFFFD" });
    // Rows pasted in from a Windows-1252 file: no one encoding reads both halves, so no lossy read is offered.
    const pasted = path.join(dir, "pasted.csv");
    writeFileSync(
      pasted,
      Buffer.concat([
        Buffer.from("input,expected\ncafé,naïve\n", "utf8"),
        Buffer.from("résumé,déjà\nfiancée,crème\nthé,été\n", "latin1"),
      ]),
    );
    const mixed = await failure(loadCsv(pasted));
    expect(mixed.message).toContain("pasted.csv: lines 3, 4, 5 hold bytes that are not UTF-8");
    expect(mixed.message).toContain("it mixes two encodings");
    const noBom = path.join(dir, "nobom.jsonl");
    writeFileSync(noBom, Buffer.from('{"input":"a"}\n', "utf16le"));
    expect((await failure(loadJsonl(noBom))).message).toContain(
      "looks like UTF-16 without a byte-order mark",
    );
  });

  it("refuses a number id too large to hold exactly, naming the line and the digits written", async () => {
    const big = file("big.jsonl", '{"id":1,"input":"a"}\n\n{"id":1234567890123456789,"input":"b"}\n');
    const { message, hint } = await failure(loadJsonl(big));
    expect(message).toContain("big.jsonl:3: the id 1234567890123456789 is a number too large");
    expect(hint).toBe('Write ids this long as strings: "id": "1234567890123456789".');
    const json = file(
      "big.json",
      '[{"id": 1000000000000001, "input": 1}, {"id": 98765432109876543210, "input": 2}]',
    );
    expect((await failure(loadJson(json))).message).toContain("big.json: row 1: the id 98765432109876543210");
  });

  it("gives each row its file and line, which a malformed row's message names", async () => {
    const rows = await loadJsonl(file("lines.jsonl", '{"input":"a"}\n\n{"question":"b"}\n'));
    expect(checkRow(rows[1], 1)).toContain('lines.jsonl:3) has no `input` field (its fields: "question")');
    // A row the user's code moved is named by its index alone; loadJson's rows by their file.
    expect(checkRow(rows[1], 0)).toMatch(/^Row 0 has no/);
    const json = await loadJson(file("rows.json", '[{"input":1},{"inp":2}]'));
    expect(checkRow((json as unknown[])[1], 1)).toContain(
      'rows.json) has no `input` field (its fields: "inp")',
    );
    const meta = await loadCsv(file("meta.csv", 'input,metadata\na,"{""k"":1}"\n'));
    expect(checkRow(meta[0], 0)).toContain("A CSV's cells are text: map the rows");
    // A record spanning lines is named by its first.
    const records = await loadCsv(file("lines.csv", 'input,tags\na,\n"b\nc",x\n'));
    expect(checkRow(records[1], 1)).toContain("lines.csv:3) has `tags` that are not an array of strings");
  });

  it("names the line of a JSONL row that is not an object, and refuses a file too large before reading it", async () => {
    const rows = await loadJsonl(file("prims.jsonl", '{"input":1}\n\n"c"\nnull\n'));
    expect(checkRow(rows[1], 1)).toBe(
      "Row 1 (" +
        path.join(dir, "prims.jsonl") +
        ':3) is a string ("c"), not an object; each row looks like { input, expected?, metadata? }.',
    );
    expect(checkRow(rows[2], 2)).toContain("prims.jsonl:4) is null");
    // A sparse file: no disk used. Past 2 GiB Node's own read fails with a message about buffers.
    const huge = file("huge.jsonl", "");
    truncateSync(huge, 2500 * 2 ** 20);
    const { message, hint } = await failure(loadJsonl(huge));
    expect(message).toContain("huge.jsonl: at 2500 MB it is larger than the 512 MB of text Node can hold");
    expect(hint).toContain("Read a file this size a line at a time");
  });

  it("refuses a number id past 2^53 wherever the rows come from (rounded, two ids may have become one)", () => {
    const rows = JSON.parse(
      '{"rows":[{"id":12345678901234567891,"input":"a"},{"id":9007199254740991,"input":"b"}]}',
    ).rows;
    expect(checkRow(rows[0], 0)).toContain(
      "Row 0 has the id 12345678901234567000, a number too large for JavaScript to hold exactly",
    );
    expect(checkRow(rows[1], 1)).toBeUndefined();
  });

  it("counts a CSV's lines as an editor does: a CRLF inside quotes is one line, and skipped empty lines count", async () => {
    const crlf = await loadCsv(file("crlf.csv", 'input,tags\r\n"q1\r\nmore\r\nlines",\r\n\r\nq2,x\r\n'));
    expect(checkRow(crlf[1], 1)).toContain("crlf.csv:6) has `tags`");
    const gaps = await loadCsv(file("gaps.csv", "\ninput,tags\n\na,\n\n\nb,x\n"));
    expect(checkRow(gaps[1], 1)).toContain("gaps.csv:7) has `tags`");
    const lone = await loadCsv(file("cr.csv", 'input,tags\r"a\rb",\rc,x\r'));
    expect(checkRow(lone[1], 1)).toContain("cr.csv:4) has `tags`");
    // A malformed record after such a cell, and a line of spaces, are named at their own lines too.
    const bad = file("bad-crlf.csv", 'input,expected\r\n"x\r\ny",a\r\nb,2,3\r\n');
    expect((await failure(loadCsv(bad))).message).toMatch(
      /bad-crlf\.csv:4: not valid CSV \(Invalid Record Length/,
    );
    // A malformed record, or a quote never closed, is named by its first line, whatever its own cells hold.
    for (const eol of ["\r\n", "\n"]) {
      const lines = (...l: string[]) => l.join(eol) + eol;
      const record = file("bad-record.csv", lines("id,a", "1,r2", '2,"x', 'y",extra', "", "3,r5"));
      expect((await failure(loadCsv(record))).message).toMatch(
        /bad-record\.csv:3: not valid CSV \(Invalid Record/,
      );
      const unclosed = file("unclosed.csv", lines("id,a", '1,"a', 'b"', "", '2,"r3', "3,r4"));
      expect((await failure(loadCsv(unclosed))).message).toMatch(
        /unclosed\.csv:5: not valid CSV \(Quote Not Closed/,
      );
    }
    // Empty lines before the header, and a header whose quote is never closed.
    const early = file("early.csv", "\ninput,expected\n\n\na,b,c\n");
    expect((await failure(loadCsv(early))).message).toMatch(/early\.csv:5: not valid CSV/);
    const first = file("first.csv", "\r\n\r\ninput,expected\r\nc,d,e\r\n");
    expect((await failure(loadCsv(first))).message).toMatch(/first\.csv:4: not valid CSV/);
    const header = file("header.csv", '"input","expe\r\ncted\r\na,b\r\n');
    expect((await failure(loadCsv(header))).message).toMatch(
      /header\.csv:1: not valid CSV \(Quote Not Closed/,
    );
    const spaces = file("spaces-crlf.csv", 'input,expected\r\n"x\r\ny",a\r\n  \r\nb,b\r\n');
    expect((await failure(loadCsv(spaces))).message).toMatch(/spaces-crlf\.csv:4: line 4 holds only spaces/);
  });
});

describe("loadJson", () => {
  it("reads a JSON file", async () => {
    expect(await loadJson(file("ok.json", '[{"input": 1}]'))).toEqual([{ input: 1 }]);
  });

  it("names the line and column of a syntax error, even when V8 names no position", async () => {
    const bad = file("bad.json", '[\n  {"input": 1},\n  {"input": }\n]\n');
    const { message } = await failure(loadJson(bad));
    expect(message).toMatch(/bad\.json:3:13: not valid JSON \(Unexpected token '}'\)\./);
    const truncated = file("truncated.json", '[{"input": 1},\n');
    expect((await failure(loadJson(truncated))).message).toMatch(/truncated\.json:2:1: not valid JSON/);
  });
});

describe("loadCsv", () => {
  it("reads records keyed by the header", async () => {
    const csv = file("ok.csv", 'input,expected\n"a, b",1\nc,"say ""hi"""\n');
    expect(await loadCsv(csv)).toEqual([
      { input: "a, b", expected: "1" },
      { input: "c", expected: 'say "hi"' },
    ]);
    expect(await loadCsv(file("ok.tsv", "input\texpected\nx\ty\n"), { delimiter: "\t" })).toEqual([
      { input: "x", expected: "y" },
    ]);
  });

  it("names the line of a malformed record", async () => {
    const { message } = await failure(loadCsv(file("bad.csv", "input,expected\na,1\nb,2,3\n")));
    expect(message).toMatch(
      /bad\.csv:3: not valid CSV \(Invalid Record Length: columns length is 2, got 3\)\./,
    );
    expect((await failure(loadCsv(file("quote.csv", 'input\n"open\n')))).message).toMatch(
      /quote\.csv:2: not valid CSV \(Quote Not Closed/,
    );
  });

  it("reads a .tsv file as tab-separated, and says which separator a one-column header holds", async () => {
    expect(await loadCsv(file("plain.tsv", "input\texpected\nx\ty\n"))).toEqual([
      { input: "x", expected: "y" },
    ]);
    const semi = file("semi.csv", "input;expected\na;a\n");
    const { message, hint } = await failure(loadCsv(semi));
    expect(message).toContain(
      'semi.csv:1: the header is one column, "input;expected": its names look separated by ";"',
    );
    expect(hint).toBe('Pass the separator: loadCsv(file, { delimiter: ";" }).');
    expect(await loadCsv(semi, { delimiter: ";" })).toEqual([{ input: "a", expected: "a" }]);
    const commas = file("commas.tsv", "input,expected\na,a\n");
    expect((await failure(loadCsv(commas))).message).toContain(
      'its names look separated by ",", not by tabs.',
    );
    // Every field quoted (a spreadsheet's or pandas' QUOTE_ALL export): the separator after a quote is named.
    const quotedSemi = file("quoted-semi.csv", '"input";"expected"\n"a";"a"\n');
    const quotedFailure = await failure(loadCsv(quotedSemi));
    expect(quotedFailure.message).toContain(
      'quoted-semi.csv:1: not valid CSV (Invalid Closing Quote: got ";"): a quoted field is followed by ";", so its fields look separated by ";", not by ",".',
    );
    expect(quotedFailure.hint).toBe('Pass the separator: loadCsv(file, { delimiter: ";" }).');
    expect(await loadCsv(quotedSemi, { delimiter: ";" })).toEqual([{ input: "a", expected: "a" }]);
    // A header read by commas has shown the separator: a bad record is told how to quote, not another separator.
    const badRecord = await failure(
      loadCsv(file("bad-quote.csv", 'input,expected\nq1,a1\n"What is 2+2?";"x",4\n')),
    );
    expect(badRecord.message).toContain('bad-quote.csv:3: not valid CSV (Invalid Closing Quote: got ";").');
    expect(badRecord.hint).not.toContain("delimiter");
    // A quoted header name is one column by the writer's own say.
    expect(await loadCsv(file("one.csv", '"question; short"\nwhy?\n'))).toEqual([
      { "question; short": "why?" },
    ]);
  });

  it("reads a file whose line endings are mixed (rows appended to a file Excel wrote)", async () => {
    const mixed = file("mixed.csv", 'input,expected\r\na,a\r\nb,"x\r\ny"\nc,c\nd,d\n');
    expect(await loadCsv(mixed)).toEqual([
      { input: "a", expected: "a" },
      { input: "b", expected: "x\r\ny" },
      { input: "c", expected: "c" },
      { input: "d", expected: "d" },
    ]);
  });

  it("says a line of only spaces is one, where CSV reads a record of one field", async () => {
    const { message, hint } = await failure(loadCsv(file("spaces.csv", "input,expected\na,a\n   \nb,b\n")));
    expect(message).toMatch(/spaces\.csv:3: line 3 holds only spaces or tabs/);
    expect(hint).toContain("Delete the line");
  });

  it("refuses a header that names a column twice", async () => {
    const { message } = await failure(loadCsv(file("twice.csv", "input,expected,input\na,b,c\n")));
    expect(message).toMatch(/twice\.csv:1: the column "input" appears twice \(columns 1 and 3\)/);
  });
});

describe("jsonErrorOffset", () => {
  it("finds the first syntax error, or none in valid JSON", () => {
    expect(jsonErrorOffset('{"a": [1, 2, {"b": null}], "c": "\\"x"}')).toBe(-1);
    expect(jsonErrorOffset("[1, 2,]")).toBe(6);
    expect(jsonErrorOffset('{"a" 1}')).toBe(5);
    expect(jsonErrorOffset("[1] x")).toBe(4);
    expect(lineAndColumn("ab\ncd\nef", 7)).toEqual({ line: 3, column: 2 });
  });
});
