import { describe, expect, it } from "vitest";
import { matchesFilters, parseFilter } from "../../src/engine/filters.js";

const row = {
  input: { question: "Where is my parcel?", items: ["a", "b"] },
  expected: "shipping",
  metadata: { lang: "en", priority: 2, vip: false },
  tags: ["urgent", "email"],
};

describe("--filter", () => {
  it("matches dotted paths, unanchored, against strings as is and other values as text", () => {
    const match = (...sources: string[]) => matchesFilters(row, sources.map(parseFilter));
    expect(match("metadata.lang=^en$")).toBe(true);
    expect(match("metadata.lang=^e$")).toBe(false);
    expect(match("input.question=parcel")).toBe(true);
    expect(match("input.items.1=^b$")).toBe(true);
    expect(match("metadata.priority=^2$")).toBe(true);
    expect(match("metadata.vip=false")).toBe(true);
    expect(match("tags=urgent")).toBe(true);
    expect(match("input=parcel")).toBe(true); // objects match as JSON
    expect(match("metadata.missing=.*")).toBe(false); // a missing field never matches
    expect(match("metadata.lang=en", "expected=ship")).toBe(true);
    expect(match("metadata.lang=en", "expected=billing")).toBe(false);
  });

  it("keeps '=' inside the regex", () => {
    expect(parseFilter("input=a=b").pattern.source).toBe("a=b");
    expect(matchesFilters({ input: "x a=b" }, [parseFilter("input=a=b")])).toBe(true);
  });

  it.each(["metadata.lang", "=en", "metadata..lang=en", " =x"])("rejects %j as not PATH=REGEX", (source) => {
    expect(() => parseFilter(source)).toThrow(/is not of the form PATH=REGEX/);
  });

  it("rejects an invalid regex with the engine's reason", () => {
    expect(() => parseFilter("input=[a-")).toThrow(
      /invalid regular expression: .*Unterminated character class/,
    );
  });
});
