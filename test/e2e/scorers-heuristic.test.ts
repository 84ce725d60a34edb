import { describe, expect, it } from "vitest";
import { project, runCli, summaryOf } from "../helpers/cli.js";

describe("built-in heuristic scorers through the CLI", () => {
  it("scores rows with scorers imported from evalrun, options bound with partial()", async () => {
    const dir = project({
      "evals/text.eval.ts": `
        import { Eval, ExactMatch, Levenshtein, Contains } from "evalrun";
        Eval("text", {
          data: [
            { input: "kitten", expected: "sitting" },
            { input: "flaw", expected: "lawn" },
            { input: "same", expected: "same" },
          ],
          task: (input: string) => input,
          scores: [Levenshtein, ExactMatch, Contains.partial({ caseSensitive: false })],
        });
      `,
      "evals/json.eval.ts": `
        import { Eval, JSONDiff, ListContains, NumericDiff, ValidJSON } from "evalrun";
        Eval("json", {
          data: [
            { input: { city: "Paris", people: 2 }, expected: { city: "Paris", people: 3 } },
            { input: { city: "Rome", people: 4 }, expected: { city: "Rome", people: 4 } },
          ],
          task: (input: { city: string; people: number }) => JSON.stringify(input),
          scores: [
            JSONDiff,
            ValidJSON.partial({ schema: { type: "object", properties: { people: { type: "integer" } }, required: ["people"] } }),
            ({ output, expected }) => NumericDiff({ output: JSON.parse(output).people, expected: expected.people }),
            ({ output }) => ListContains.partial({ allowExtraEntities: true })({ output: Object.keys(JSON.parse(output)), expected: ["city"] }),
          ],
        });
      `,
    });
    const text = await runCli([], { cwd: dir });
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    // Levenshtein: (4/7 + 1/2 + 1) / 3 = 0.6905; ExactMatch: 1 of 3; Contains: 1 of 3.
    expect(text.stdout).toMatch(/Levenshtein\s+69\.0%\s+3 scored/);
    expect(text.stdout).toMatch(/ExactMatch\s+33\.3%\s+3 scored/);
    expect(text.stdout).toMatch(/Contains\s+33\.3%\s+3 scored/);

    const json = await runCli(["--jsonl"], { cwd: dir });
    expect(json.code).toBe(0);
    const textSummary = summaryOf(json.stdout, "text");
    expect(textSummary.scores.Levenshtein?.score).toBeCloseTo((4 / 7 + 1 / 2 + 1) / 3, 10);
    const summary = summaryOf(json.stdout, "json");
    // JSONDiff row 1: (city 1 + people 1 − 1/5) / 2 = 0.9; row 2: 1.
    expect(summary.scores.JSONDiff?.score).toBeCloseTo(0.95, 10);
    expect(summary.scores.ValidJSON?.score).toBe(1);
    expect(summary.scores.NumericDiff?.score).toBeCloseTo(0.9, 10);
    expect(summary.scores.ListContains?.score).toBe(1);
  });

  it("records a missing expected value as that scorer's error and rejects bad options when the file loads", async () => {
    const dir = project({
      "missing.eval.ts": `
        import { Eval, Levenshtein } from "evalrun";
        Eval("missing", {
          data: [{ input: "a", expected: "a" }, { input: "b" }],
          task: (input: string) => input,
          scores: [Levenshtein],
        });
      `,
      "typo.eval.ts": `
        import { Eval, ListContains } from "evalrun";
        Eval("typo", {
          data: [{ input: ["a"], expected: ["a"] }],
          task: (input: string[]) => input,
          scores: [ListContains.partial({ allowExtraEntities: "yes" } as any)],
        });
      `,
    });
    const result = await runCli(["missing.eval.ts"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Levenshtein\s+100\.0%\s+1 scored · 1 error/);
    expect(result.stdout).toContain("Levenshtein requires an expected value");

    const typo = await runCli(["typo.eval.ts"], { cwd: dir });
    expect(typo.code).toBe(1);
    expect(typo.output).toContain('Option "allowExtraEntities" of ListContains must be a boolean');
    // The scorer's own hint, not the generic one for a file that throws while loading.
    expect(typo.output).toMatch(/hint:.*ListContains\.partial\(\{ allowExtraEntities: /);
    expect(typo.output).not.toContain("fix its top-level code");
  });
});
