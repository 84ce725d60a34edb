import { describe, expect, it } from "vitest";
import {
  answerInstruction,
  JudgeAnswerError,
  matchChoice,
  parseAnswer,
  selectTool,
} from "../../src/scorers/llm/choice.js";

const CHOICES = ["A", "B", "C"];

function withCall(args: unknown, content: unknown = null) {
  return {
    choices: [
      {
        message: {
          role: "assistant",
          content,
          tool_calls: [{ id: "1", type: "function", function: { name: "select_choice", arguments: args } }],
        },
      },
    ],
  };
}

function failure(fn: () => unknown): JudgeAnswerError {
  try {
    fn();
  } catch (error) {
    if (error instanceof JudgeAnswerError) return error;
    throw error;
  }
  throw new Error("did not throw");
}

describe("the forced choice", () => {
  it("puts reasoning before the choice with chain of thought, and only the choice without", () => {
    const cot = selectTool(CHOICES, true).function.parameters as {
      properties: Record<string, { enum?: string[] }>;
      required: string[];
    };
    expect(Object.keys(cot.properties)).toEqual(["reasoning", "choice"]);
    expect(cot.properties.choice?.enum).toEqual(CHOICES);
    expect(cot.required).toEqual(["reasoning", "choice"]);
    const plain = selectTool(CHOICES, false).function.parameters as { properties: Record<string, unknown> };
    expect(Object.keys(plain.properties)).toEqual(["choice"]);
    expect(answerInstruction(CHOICES, true)).toMatch(/reasoning.*"A", "B", "C"/s);
    expect(answerInstruction(CHOICES, false)).not.toMatch(/reasoning/);
  });

  it("reads the choice and the rationale from the tool call (JSON text or an object)", () => {
    expect(parseAnswer(withCall('{"reasoning":"because","choice":"B"}'), CHOICES)).toEqual({
      choice: "B",
      rationale: "because",
    });
    expect(parseAnswer(withCall({ choice: "C" }), CHOICES)).toEqual({ choice: "C", rationale: undefined });
    // autoevals' older field name, as an array of steps
    expect(parseAnswer(withCall({ reasons: ["one", "two"], choice: "A" }), CHOICES).rationale).toBe(
      "one\ntwo",
    );
  });

  it("matches a choice loosely when exactly one fits", () => {
    expect(matchChoice("(c)", CHOICES)).toBe("C");
    expect(matchChoice(" B. ", CHOICES)).toBe("B");
    expect(matchChoice('"yes"', ["Yes", "No"])).toBe("Yes");
    expect(matchChoice("a", ["a", "A"])).toBe("a");
    expect(matchChoice("Maybe", ["Yes", "No"])).toBeUndefined();
  });

  it("rejects an unknown choice, keeping the rationale and the choice", () => {
    const error = failure(() => parseAnswer(withCall({ reasoning: "it is unclear", choice: "Z" }), CHOICES));
    expect(error.code).toBe("LLM_RESPONSE");
    expect(error.message).toContain('The model chose "Z", which is not one of "A", "B", "C".');
    expect(error.message).toContain("The model's rationale: it is unclear");
    expect(error.rationale).toBe("it is unclear");
    expect(error.choice).toBe("Z");
  });

  it("rejects an answer without the tool call, keeping its text as the rationale", () => {
    const error = failure(() =>
      parseAnswer({ choices: [{ message: { role: "assistant", content: "I pick B" } }] }, CHOICES),
    );
    expect(error.message).toContain("did not call `select_choice`");
    expect(error.rationale).toBe("I pick B");
    expect(failure(() => parseAnswer({ choices: [] }, CHOICES)).message).toContain("no message");
    expect(failure(() => parseAnswer(withCall("{not json"), CHOICES)).message).toContain("not valid JSON");
    expect(failure(() => parseAnswer(withCall({ reasoning: "r" }), CHOICES)).message).toContain(
      "without a choice",
    );
    // Cut at the token cap or filtered: the answer's finish_reason says why, and the message says what to do.
    const cut = withCall('{"reasoning":"Step 1: the question asks');
    (cut.choices[0] as { finish_reason?: string }).finish_reason = "length";
    expect(failure(() => parseAnswer(cut, CHOICES)).message).toContain(
      'The answer was cut off at its token limit (finish_reason "length"): raise maxTokens, or set useCoT: false',
    );
    const filtered = {
      choices: [{ message: { role: "assistant", content: "" }, finish_reason: "content_filter" }],
    };
    expect(failure(() => parseAnswer(filtered, CHOICES)).message).toContain(
      "content filter stopped the answer",
    );
  });
});
