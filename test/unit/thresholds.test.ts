import { describe, expect, it } from "vitest";
import {
  effectiveRule,
  evalThresholdRules,
  parseFraction,
  parseScoreRule,
  type ScoreRule,
} from "../../src/gate/thresholds.js";
import { checkRuleEvals } from "../../src/gate/verdict.js";

const rule = (text: string) => parseScoreRule(text, "--min-score") as ScoreRule;

describe("score rules", () => {
  it("parses NAME=VALUE, EVAL:NAME=VALUE, EVAL:VALUE and VALUE, as fractions or percentages", () => {
    expect(rule("Factuality=0.8")).toMatchObject({ eval: undefined, score: "Factuality", value: 0.8 });
    expect(rule("support:Factuality=80%")).toMatchObject({
      eval: "support",
      score: "Factuality",
      value: 0.8,
    });
    expect(rule("0.5")).toMatchObject({ eval: undefined, score: undefined, value: 0.5 });
    expect(rule("support:0.5")).toMatchObject({ eval: "support", score: undefined, value: 0.5 });
    expect(rule("suite:router:Factuality=1")).toMatchObject({
      eval: "suite:router",
      score: "Factuality",
      value: 1,
    });
    expect(rule("Factuality=.75").source).toBe("--min-score Factuality=.75");
  });

  it("refuses malformed specs with a reason", () => {
    for (const bad of [
      "Factuality=",
      "=0.8",
      "Factuality=1.5",
      "Factuality=abc",
      ":=0.5",
      "Factuality=-0.1",
      "x",
    ]) {
      const parsed = parseScoreRule(bad, "--min-score");
      expect(parsed, bad).toHaveProperty("problem");
    }
    expect((parseScoreRule("F=2", "--min-score") as { problem: string }).problem).toContain(
      "between 0 and 1",
    );
    // A leading ":" names no eval: the score's whole name follows.
    expect(parseScoreRule(":Factuality=0.5", "--min-score")).toMatchObject({
      eval: undefined,
      score: "Factuality",
    });
    expect(parseFraction("101%")).toBeUndefined();
    expect(parseFraction("2.5%")).toBeCloseTo(0.025);
  });

  it("lets the most specific flag decide; flags naming a score beat the eval's thresholds, others are floors", () => {
    const own = evalThresholdRules("support", { Factuality: 0.8, Tone: 0.5 });
    const flags = [rule("0.1"), rule("support:0.2"), rule("Factuality=0.3"), rule("support:Factuality=0.4")];
    expect(effectiveRule([...own, ...flags], "support", "Factuality")?.value).toBe(0.4);
    expect(effectiveRule([...own, ...flags.slice(0, 3)], "support", "Factuality")?.value).toBe(0.3);
    // A floor never lowers the eval's own stricter threshold, and raises a laxer one.
    expect(effectiveRule([...own, ...flags.slice(0, 2)], "support", "Factuality")?.value).toBe(0.8);
    expect(effectiveRule([...own, rule("support:0.9")], "support", "Factuality")?.source).toBe(
      "--min-score support:0.9",
    );
    expect(effectiveRule([...own, ...flags.slice(0, 2)], "support", "Length")?.value).toBe(0.2);
    expect(effectiveRule([...own, ...flags.slice(0, 1)], "other", "Factuality")?.value).toBe(0.1);
    expect(effectiveRule(own, "support", "Tone")?.source).toBe('thresholds.Tone in Eval("support")');
    expect(effectiveRule(own, "support", "Length")).toBeUndefined();
  });

  it("reads a score name holding ':' after a leading ':', or after the eval it names; else an unknown eval is an error", () => {
    const specs = [":rubric:helpfulness=0.8", "qa:rubric:helpfulness=0.7", "qa:Exact=0.6", "qa:0.5"].map(
      rule,
    );
    checkRuleEvals(specs, ["qa", "other"]);
    expect(specs.map((r) => [r.eval, r.score])).toEqual([
      [undefined, "rubric:helpfulness"],
      ["qa", "rubric:helpfulness"],
      ["qa", "Exact"],
      ["qa", undefined],
    ]);
    expect(() => checkRuleEvals([rule("qaa:Exact=0.6")], ["qa", "other"])).toThrow(
      '--min-score qaa:Exact=0.6 names the eval "qaa", which this run does not include (its evals: qa, other). Did you mean "qa"?',
    );
    try {
      checkRuleEvals([rule("rubric:helpfulness=0.8")], ["qa"]);
      expect.unreachable();
    } catch (error) {
      expect((error as { hint: string }).hint).toContain(
        'for a score named "rubric:helpfulness" in every eval, start with ":" (:rubric:helpfulness=VALUE)',
      );
    }
    expect(() => checkRuleEvals([rule("nope:0.5")], ["qa"])).toThrow('names the eval "nope"');
  });
});
