import pc from "picocolors";
import { describe, expect, it } from "vitest";
import { meanInterval } from "../../src/gate/bootstrap.js";
import { regressionCheck } from "../../src/gate/evaluate.js";
import { bracket, percent, scorePair, signedPercent } from "../../src/gate/format.js";
import { worstRowLine } from "../../src/report/gate-lines.js";
import { formatProblem } from "../../src/report/problems.js";
import { clip, inertForActions, printable } from "../../src/report/safe-text.js";

describe("percentages of changes too small for one decimal", () => {
  it("show their sign and first significant digit instead of 0.0%; float noise stays +0.0%", () => {
    expect(signedPercent(-0.00004)).toBe("-0.004%");
    expect(signedPercent(0.00004)).toBe("+0.004%");
    expect(signedPercent(-0.0004)).toBe("-0.04%");
    expect(signedPercent(-0.08)).toBe("-8.0%");
    expect(signedPercent(0)).toBe("+0.0%");
    expect(signedPercent(-1e-17)).toBe("+0.0%");
    expect(percent(0.00004)).toBe("0.004%");
    expect(percent(0.82)).toBe("82.0%");
    expect(bracket({ low: -0.00006, high: -0.00002, method: "bootstrap" }, true)).toBe("[-0.006%, -0.002%]");
  });

  it("make a tiny consistent drop's failure say what moved, over 1 matched row in the singular", () => {
    const diffs = Array.from({ length: 50 }, (_, i) => -0.00001 * (1 + (i % 3)));
    const estimate = meanInterval(diffs, 0.95);
    const change = { matched: 50, estimate, improvements: 0, regressions: 50 };
    const options = { maxDrop: 0, confidence: 0.95, requireBaseline: false };
    const check = regressionCheck("Sim", change, options);
    expect(check.status).toBe("fail");
    expect(check.message).toMatch(
      /^Sim dropped 0\.002% \[-0\.00\d+%, -0\.00\d+%\] at 95% over 50 matched rows/,
    );
    const one = regressionCheck(
      "Sim",
      { matched: 1, estimate: meanInterval([-0.5], 0.95), improvements: 0, regressions: 1 },
      options,
    );
    expect(one.message).toContain("over 1 matched row;");
  });

  it("show a worst row's two scores with the digits that tell them apart", () => {
    expect(scorePair(0.65, 0.64999)).toEqual(["0.65000", "0.64999"]);
    expect(scorePair(1, 0)).toEqual(["1.00", "0.00"]);
    expect(scorePair(0.5, 0.5)).toEqual(["0.50", "0.50"]);
    const row = {
      rowKey: "h:1",
      before: 0.65,
      after: 0.64998,
      input: 17,
      expected: undefined,
      outputBefore: 17,
      outputAfter: 17,
      errorAfter: undefined,
    };
    expect(worstRowLine(row)).toContain("h:1  0.65000 → 0.64998  input 17");
  });
});

describe("eval text made safe to print", () => {
  it("shows control characters escaped, keeps newlines and tabs", () => {
    expect(printable("a\u001b[31mb\u0007\r\nc\rd\te\u202ef\u0085")).toBe(
      "a\\u001b[31mb\\u0007\nc\\u000dd\te\\u202ef\\u0085",
    );
  });

  it("cuts at a number of characters or lines, saying how much was left", () => {
    expect(clip("abcdef", { chars: 4, lines: 5 })).toEqual({ text: "abcd", cut: 2 });
    expect(clip("a\nb\nc", { chars: 100, lines: 2 })).toEqual({ text: "a\nb", cut: 2 });
    expect(clip("abc", { chars: 3, lines: 1 })).toEqual({ text: "abc", cut: 0 });
  });

  it("defuses every line GitHub's runner would run as a workflow command, wherever the runner ends a line", () => {
    const text = "ok ::a::b\n  ::stop-commands::t\r::add-mask::x\r\n\u00a0::error::y\nsee ##[error]z";
    expect(inertForActions(text)).toBe(
      "ok ::a::b\n  \\u003a:stop-commands::t\r\\u003a:add-mask::x\r\n\u00a0\\u003a:error::y\nsee ##\\u005berror]z",
    );
  });
});

describe("a file problem", () => {
  it("shows what the eval file threw with control characters escaped and later lines indented", () => {
    const problem = {
      code: "LOAD" as const,
      file: "/p/evals/a.eval.ts",
      message: "Error: model said:\n::stop-commands::t\u001b[31m",
      hint: "Fix\u0007 it.",
    };
    expect(formatProblem(problem, "/p", pc.createColors(false), false)).toBe(
      "✘ evals/a.eval.ts [LOAD] Error: model said:\n    ::stop-commands::t\\u001b[31m\n  hint: Fix\\u0007 it.",
    );
  });
});

describe("a worst row's outputs", () => {
  const row = (before: string, after: string) => ({
    rowKey: "id:1",
    before: 1,
    after: 0,
    input: "q",
    expected: undefined,
    outputBefore: before,
    outputAfter: after,
    errorAfter: undefined,
  });
  it("show where two long outputs differ, not the start they share", () => {
    const start = "The answer, after careful consideration of every clause in the contract, is ";
    const line = worstRowLine(row(`${start}yes.`, `${start}no.`));
    expect(line).toContain('output …tract, is yes." → …tract, is no."');
  });

  it("show short or early-differing outputs from their start", () => {
    expect(worstRowLine(row("yes", "no"))).toContain('output "yes" → "no"');
  });
});
