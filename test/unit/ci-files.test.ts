import { describe, expect, it } from "vitest";
import { openTag, xmlAttr, xmlText } from "../../src/report/xml.js";
import { baselineFileName } from "../../src/store/baseline-file.js";
import { parseXml } from "../helpers/junit.js";

describe("XML escaping for reports", () => {
  it("keeps any text readable as XML: markup escaped, characters XML cannot hold written as \\uXXXX", () => {
    const nasty = `a <b> & "c" 'd'\u0001\u001f\uFFFE \uD800 tail 😀\n\ttabs`;
    const doc = `<?xml version="1.0" encoding="UTF-8"?>\n${openTag("x", { v: nasty })}>${xmlText(nasty)}</x>`;
    const root = parseXml(doc);
    const expected = `a <b> & "c" 'd'\\u0001\\u001f\\ufffe \\ud800 tail 😀\n\ttabs`;
    expect(root.text).toBe(expected);
    expect(root.attrs.v).toBe(expected);
    expect(xmlAttr("line\nbreak")).toBe("line&#10;break");
  });
});

describe("baseline file names", () => {
  it("keep plain eval names and percent-encode the rest, so every name has its own valid file name", () => {
    expect(baselineFileName("support-router_v2.1")).toBe("support-router_v2.1.jsonl");
    expect(baselineFileName("suite/router: ü")).toBe("suite%2Frouter%3A%20%C3%BC.jsonl");
    expect(baselineFileName("..")).toBe("%2E%2E.jsonl");
    expect(baselineFileName("a/b")).not.toBe(baselineFileName("a_b"));
  });

  it("stay within a file name's 255 bytes for long non-Latin names, each its own", () => {
    const long = "客户支持路由评测：退款、账单与技术问题分类（第二版，包含多语言）";
    const name = baselineFileName(long);
    expect(Buffer.byteLength(`${name}.4194304-1000000.tmp`)).toBeLessThanOrEqual(255);
    expect(name).toMatch(/^%E5%AE%A2.*~[0-9a-f]{16}\.jsonl$/);
    // Cut between characters: the readable start decodes.
    expect(decodeURIComponent(name.slice(0, name.indexOf("~")))).toBe(long.slice(0, 20));
    expect(baselineFileName(`${long}2`)).not.toBe(name);
    const emoji = "🎉".repeat(60);
    expect(Buffer.byteLength(baselineFileName(emoji))).toBeLessThanOrEqual(230);
  });
});
